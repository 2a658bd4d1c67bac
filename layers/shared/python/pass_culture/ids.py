"""Identifiers: opaque ids, and countermarks drawn with a cryptographic generator."""

from __future__ import annotations

import base64
import secrets
import uuid

# domain.md: 6 symbols from A–Z and 2–7 without I and O (no 0 1 8 9 I O): 30 symbols, no look-alikes at the counter.
COUNTERMARK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ234567"
COUNTERMARK_LENGTH = 6
QR_PAYLOAD_PREFIX = "PASSCULTURE:v3;TOKEN:"


def new_id() -> str:
    """An opaque, unguessable id (ids are never sequential: they appear in URLs)."""
    return uuid.uuid4().hex


# Ids of what a request with an Idempotency-Key creates: the same key (of the same caller) gives the same id.
KEYED_IDS = uuid.UUID("7c0f3d8e-5b7a-4f0e-9a51-2d6c1b9e4a30")


def keyed_id(caller_id: str, idempotency_key: str, request: str) -> str:
    """The id of what (caller, Idempotency-Key, request body) creates: running the creation again meets it written.
    The body is part of it: once the key's record has expired (24 h) the key may be used for another request."""
    return uuid.uuid5(KEYED_IDS, f"{caller_id}\n{idempotency_key}\n{request}").hex


def new_countermark() -> str:
    return "".join(secrets.choice(COUNTERMARK_ALPHABET) for _ in range(COUNTERMARK_LENGTH))


def normalize_countermark(text: str) -> str | None:
    """The canonical (upper-case) form of a typed countermark, or None when it cannot be one."""
    token = text.strip().upper()
    if len(token) != COUNTERMARK_LENGTH or any(symbol not in COUNTERMARK_ALPHABET for symbol in token):
        return None
    return token


def qr_payload(countermark: str) -> str:
    return f"{QR_PAYLOAD_PREFIX}{countermark}"


def humanize(number: int) -> str:
    """The public pass Culture API's "human id" of a number (pcapi `utils/human_ids.py`): base32 of its big-endian
    bytes, `O` written `8`, `I` written `9`, no padding. 1 -> `AE`, 1234 -> `ATJA`."""
    raw = number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")
    return base64.b32encode(raw).decode().replace("O", "8").replace("I", "9").rstrip("=")
