"""The outbox (`GET /_local/outbox`) reads what SES sent from the in-process moto, in time proportional to the emails
asked for: it used to read moto's whole state dump and timed out once a few thousand items existed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from infra.local import outbox as outbox_module
from infra.local.embedded_aws import ACCOUNT_ID, REGION, EmbeddedAws

SENDER = "no-reply@passculture.example"


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    embedded = EmbeddedAws()
    embedded.start()
    embedded.client("ses").verify_domain_identity(Domain="passculture.example")
    yield embedded
    embedded.stop()


def mime(to: str, subject: str, text: str = "texte", html: str = "<p>html</p>") -> bytes:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Reply-To"] = "jeune@passculture.local"
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def send_many(aws: EmbeddedAws, count: int, to: str = "many@example.org") -> None:
    """Appends to moto's SES backend what its SendRawEmail appends (without its checks: quicker), under the lock."""
    from moto.ses.models import RawMessage, ses_backends

    backend = ses_backends[ACCOUNT_ID][REGION]
    raw = mime(to, "En masse").decode()
    with aws.lock:
        for n in range(count):
            backend.sent_messages.append(RawMessage(f"bulk-{n}", SENDER, [to], raw))


def test_sent_emails_are_shown_with_their_text_and_html(aws: EmbeddedAws) -> None:
    ses = aws.client("ses")
    ses.send_raw_email(RawMessage={"Data": mime("contact@librairie.example", "Nouvelle réservation", "ABCDEF")})
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["simple@example.org"]},
        Message={"Subject": {"Data": "Simple"}, "Body": {"Text": {"Data": "juste du texte"}}},
    )
    first, second = aws.outbox.items()
    assert first["to"] == "contact@librairie.example"
    assert first["replyTo"] == "jeune@passculture.local"
    assert first["subject"] == "Nouvelle réservation"
    assert "ABCDEF" in first["text"]
    assert first["html"] == "<p>html</p>\n"
    assert (second["to"], second["subject"], second["text"], second["html"]) == (
        "simple@example.org",
        "Simple",
        "juste du texte",
        "",
    )
    assert datetime.fromisoformat(first["sentAt"]) <= datetime.fromisoformat(second["sentAt"])


def test_newest_last_limited_and_filtered_by_recipient_and_time(aws: EmbeddedAws) -> None:
    ses = aws.client("ses")
    for n in range(5):
        ses.send_raw_email(RawMessage={"Data": mime("a@example.org", f"A{n}")})
    middle = datetime.now(UTC)
    for n in range(5):
        ses.send_raw_email(RawMessage={"Data": mime("B@Example.org", f"B{n}")})
    ses.send_raw_email(RawMessage={"Data": mime("a@example.org", "A5")})

    def subjects(**query: Any) -> list[str]:
        return [item["subject"] for item in aws.outbox.items(**query)]

    assert subjects(limit=3) == ["B3", "B4", "A5"]
    assert subjects(to="a@example.org") == ["A0", "A1", "A2", "A3", "A4", "A5"]
    assert subjects(to="b@example.org", limit=2) == ["B3", "B4"]  # addresses compared without case
    assert subjects(since=middle, to="a@example.org") == ["A5"]
    assert subjects(since=middle) == ["B0", "B1", "B2", "B3", "B4", "A5"]
    assert subjects(since=datetime.now(UTC) + timedelta(seconds=1)) == []
    assert subjects(to="nobody@example.org") == []


def test_reading_the_newest_emails_parses_only_those(aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> None:
    send_many(aws, 5000)
    aws.client("ses").send_raw_email(RawMessage={"Data": mime("last@example.org", "La dernière")})
    parsed: list[Any] = []
    real_parse = outbox_module.parse

    def counted_parse(message: Any) -> dict[str, Any]:
        parsed.append(message)
        return real_parse(message)

    monkeypatch.setattr(outbox_module, "parse", counted_parse)
    items = aws.outbox.items(limit=3)
    assert [item["subject"] for item in items] == ["En masse", "En masse", "La dernière"]
    assert len(parsed) == 3
    assert aws.outbox.items(to="last@example.org")[0]["subject"] == "La dernière"
    assert len(parsed) == 3  # parsed once, then remembered
    assert len(aws.outbox.items(limit=1000)) == 1000


def test_the_outbox_starts_again_after_moto_is_reset(aws: EmbeddedAws) -> None:
    aws.client("ses").send_raw_email(RawMessage={"Data": mime("a@example.org", "Avant")})
    aws.reset()
    assert aws.outbox.items() == []
    aws.client("ses").verify_domain_identity(Domain="passculture.example")
    aws.client("ses").send_raw_email(RawMessage={"Data": mime("a@example.org", "Après")})
    assert [item["subject"] for item in aws.outbox.items(to="a@example.org")] == ["Après"]
