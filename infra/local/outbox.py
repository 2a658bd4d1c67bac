"""What SES sent, read from the embedded moto in this process (moto runs in a thread of the gateway process), in time
proportional to the emails asked for — never through moto's whole state dump (`/moto-api/data.json`), which grows
with every table item and timed out once a few thousand existed.

moto keeps sent emails in `ses_backends[account][region].sent_messages`, a list it appends to (SES v1 and v2 share
that backend), without a time. `SentMessages` replaces that list: on each append it stamps the message with the
time SES accepted it and indexes it by recipient, so `newest N`, `since` and `to` are a slice, a bisection and a
dictionary look-up. A message is parsed (MIME) only when asked for, once.
"""

from __future__ import annotations

import email
import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from typing import Any

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _addresses(destinations: Any) -> set[str]:
    """Every address among moto's destinations (a list of strings, or SES's {ToAddresses: [...], ...})."""
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, Iterable):
            for item in value:
                collect(item)

    collect(destinations)
    return {address.lower() for _, address in getaddresses(texts) if address}


class SentMessages(list[Any]):
    """moto's `sent_messages`, stamped and indexed as it grows. moto appends under the embedded AWS's lock."""

    def __init__(self, existing: Iterable[Any] = ()) -> None:
        super().__init__()
        self.stamps: list[datetime] = []
        self.by_address: dict[str, list[int]] = {}
        for message in existing:
            self.append(message)

    def append(self, message: Any) -> None:
        now = datetime.now(UTC)
        if self.stamps and now < self.stamps[-1]:
            now = self.stamps[-1]  # the wall clock stepped back: keep the order SES accepted them in
        position = len(self)
        for address in _addresses(getattr(message, "destinations", None)):
            self.by_address.setdefault(address, []).append(position)
        self.stamps.append(now)
        super().append(message)


@dataclass(frozen=True)
class Sent:
    message: Any
    sent_at: datetime


class Outbox:
    """Reads the SES backend of one account and region of the in-process moto."""

    def __init__(self, account_id: str, region: str, lock: Any | None = None) -> None:
        self._account_id = account_id
        self._region = region
        self._lock = lock or threading.Lock()  # the embedded AWS's lock: moto appends while holding it
        self._parsed: dict[str, dict[str, Any]] = {}
        self._parsed_lock = threading.Lock()

    def _sent(self) -> SentMessages:
        """Under the lock. moto's reset gives the backend a fresh plain list: index it again."""
        from moto.ses.models import ses_backends

        backend = ses_backends[self._account_id][self._region]
        if not isinstance(backend.sent_messages, SentMessages):
            backend.sent_messages = SentMessages(backend.sent_messages)
        sent: SentMessages = backend.sent_messages
        return sent

    def install(self) -> None:
        """Starts stamping now (call after moto's reset, before anything is sent)."""
        with self._lock:
            self._sent()

    def select(self, limit: int = DEFAULT_LIMIT, since: datetime | None = None, to: str | None = None) -> list[Sent]:
        """The newest `limit` messages sent at or after `since` to `to` (any of To/Cc/Bcc), oldest first."""
        with self._lock:
            sent = self._sent()
            positions: Sequence[int] = range(len(sent)) if to is None else list(sent.by_address.get(to.lower(), ()))
            start = 0 if since is None else bisect_left(positions, since, key=lambda i: sent.stamps[i])
            chosen = positions[max(start, len(positions) - limit) :]
            return [Sent(sent[i], sent.stamps[i]) for i in chosen]

    def items(self, limit: int = DEFAULT_LIMIT, since: datetime | None = None, to: str | None = None) -> list[Any]:
        """The outbox's items (api.md: `{to, replyTo, subject, text, html, sentAt}`), newest last."""
        return [self._item(sent) for sent in self.select(limit, since, to)]

    def _item(self, sent: Sent) -> dict[str, Any]:
        key = str(getattr(sent.message, "id", id(sent.message)))
        with self._parsed_lock:
            known = self._parsed.get(key)
        if known is None:
            known = parse(sent.message)
            with self._parsed_lock:
                self._parsed[key] = known
        return {**known, "sentAt": sent.sent_at.isoformat()}


def parse(message: Any) -> dict[str, Any]:
    """One moto message as the outbox shows it: a raw (MIME) message, or a simple one (moto keeps its HTML body
    when both parts were given, else its text)."""
    raw = getattr(message, "raw_data", None)
    if raw is not None:
        # compat32 (email's default policy), not policy.default: ~1 ms a message rather than ~15.
        parsed = email.message_from_string(raw)
        parts: dict[str, str] = {}
        for part in parsed.walk():
            content_type = part.get_content_type()
            if part.is_multipart() or part.get_content_disposition() == "attachment" or content_type in parts:
                continue
            if content_type in ("text/plain", "text/html"):
                parts[content_type] = _decoded(part)
        destinations = [d for d in getattr(message, "destinations", None) or [] if isinstance(d, str)]
        return {
            "to": _header(parsed["To"]) or ", ".join(dict.fromkeys(destinations)),
            "replyTo": _header(parsed["Reply-To"]) or None,
            "subject": _header(parsed["Subject"]),
            "text": parts.get("text/plain", ""),
            "html": parts.get("text/html", ""),
        }
    simple_destinations = getattr(message, "destinations", None) or {}
    to: list[str] = simple_destinations.get("ToAddresses", []) if isinstance(simple_destinations, dict) else []
    body = str(getattr(message, "body", "") or "")
    is_html = "<" in body and ">" in body
    reply_to = getattr(message, "reply_to", None) or []
    return {
        "to": ", ".join(to),
        "replyTo": ", ".join(reply_to) or None,
        "subject": str(getattr(message, "subject", "") or ""),
        "text": "" if is_html else body,
        "html": body if is_html else "",
    }


def _header(value: Any) -> str:
    return str(make_header(decode_header(str(value)))) if value else ""


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")
