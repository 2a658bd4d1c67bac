"""Sends the emails a stream record calls for, each once: a replayed record (Lambda retries a batch, the poller
re-reads) finds the record of the email already sent and sends nothing. A failed send raises, so the record is
reported as a batch item failure, retried, then dead-lettered: never lost silently."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from pass_culture.clock import Clock
from pass_culture.dynamo import ITEM_IS_NEW, ConditionFailed, Table, key
from pass_culture.notifications.dead_letters import SqsDeadLetters
from pass_culture.notifications.decide import EmailToSend, emails_for_change
from pass_culture.notifications.render import render

SENT_RECORD_RETENTION = timedelta(days=30)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SesMailer:
    """SES `SendRawEmail`: one MIME message with the text and HTML parts and a Reply-To (SES templates are not used:
    Jinja2 renders both parts, which the local outbox shows as sent)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> None:
        self._client.send_raw_email(
            Source=message["From"], Destinations=[message["To"]], RawMessage={"Data": message.as_bytes()}
        )


def sent_key(event_id: str, email: EmailToSend) -> dict[str, str]:
    return key(f"NOTIFIED#{event_id}", f"EMAIL#{email.kind}#{email.to}")


class NotificationService:
    def __init__(self, table: Table, mailer: Mailer, sender: str, clock: Clock, portal_origin: str = "") -> None:
        self._table = table
        self._mailer = mailer
        self._sender = sender
        self._clock = clock
        self._portal_origin = portal_origin.rstrip("/")  # the portal's links in emails: <origin><path>

    def handle_change(self, event_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> int:
        """Sends what the change calls for; returns how many emails were sent now."""
        sent = 0
        for email in emails_for_change(old, new):
            if self._table.get(sent_key(event_id, email), consistent=True) is not None:
                continue  # already sent for this record
            self._mailer.send(self.message(email))
            now = self._clock.now()
            with suppress(ConditionFailed):  # a concurrent delivery of the same record recorded it first
                self._table.put(
                    {
                        **sent_key(event_id, email),
                        "sentAt": now.isoformat(),
                        "ttl": int((now + SENT_RECORD_RETENTION).timestamp()),
                    },
                    condition=ITEM_IS_NEW,
                )
            sent += 1
        return sent

    def message(self, email: EmailToSend) -> EmailMessage:
        rendered = render(email.kind, {**email.context, "portal_origin": self._portal_origin})
        message = EmailMessage()
        message["From"] = f"pass Culture <{self._sender}>"
        message["To"] = email.to
        if email.reply_to:
            message["Reply-To"] = email.reply_to
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = make_msgid(domain=self._sender.partition("@")[2] or None)
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message


def build_notification_service() -> NotificationService:
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    mailer = SesMailer(aws.client("ses"))
    return NotificationService(table, mailer, settings.sender_email, SystemClock(), settings.portal_origin)


def build_dead_letters() -> SqsDeadLetters:
    from pass_culture import aws
    from pass_culture.settings import get_settings

    return SqsDeadLetters(aws.client("sqs"), get_settings().notifications_dlq_url)
