"""Which emails a committed change of the table calls for (the stream is the outbox).

Pure: from the item's old and new images to the emails to send. The rules (new booking, cancellation, validation,
expiry, welcome, bank account accepted, reimbursement) are added by the issues that own those changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    reply_to: str | None = None


def emails_for_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Email]:
    """No change calls for an email yet."""
    return []
