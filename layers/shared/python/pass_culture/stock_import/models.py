"""The stock import's request bodies. Rows are loosely typed on purpose: domain.md says a bad row (no ref, a bad
EAN, a missing or negative `available`) is skipped and counted in the run's report, never fatal to the push."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from pass_culture.accounts.models import Venue
from pass_culture.models import CamelInput, CamelModel, Instant
from pass_culture.offers.models import BookInfo

MAX_PUSHED_ROWS = 10_000


class StockProvider(StrEnum):
    """The stock software the seeds name (bookshops' guide): their stock APIs share the real platform's format."""

    TITELIVE = "titelive"  # Tite Live / Medialog
    GESTOCK = "gestock"
    PRAXIEL = "praxiel"
    LIBRISOFT = "librisoft"
    PLACEDESLIBRAIRES = "placedeslibraires"
    LESLIBRAIRES = "leslibraires"


class StockProviderInput(CamelInput):
    provider: StockProvider = Field(strict=False)  # given as its value, e.g. "titelive"
    # https; http is taken only for a loopback host where the settings allow it (the local fake provider).
    base_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s/$.?#][^\s]*$")]
    token: str | None = Field(default=None, min_length=1, max_length=500)
    prices_in_cents: bool = False


class StockPushInput(CamelInput):
    # Each row is `{"ref": EAN-13, "available": int >= 0, "price": number}` in the provider format; rows are judged
    # one by one by the import's rules, so a bad row is counted in the report, never a 400 for the whole push.
    stocks: list[dict[str, Any]]  # at most MAX_PUSHED_ROWS: more is a 413 naming the limit (the use case checks)


# -- stored and answered ----------------------------------------------------------------------------------------
class StockProviderConnection(CamelModel):
    """A venue's connection to its stock software, kept on the venue item (`stockProvider`)."""

    provider: str  # a `StockProvider` value
    base_url: str
    token: str | None = None
    prices_in_cents: bool = False
    connected_at: Instant


class CatalogueBook(BookInfo):
    """A catalogue book as the import reads it: the catalogue's price, when the catalogue item has one."""

    price_cents: int | None = None


class ImportVenue(CamelModel):
    """What a run needs of its venue: the venue (the offers' snapshot), its connection, `modifiedSince`."""

    venue: Venue
    connection: StockProviderConnection | None = None
    last_import_started_at: Instant | None = None


class ImportStatus(StrEnum):
    RUNNING = "RUNNING"  # checkpointed: a worker resumes it from `after`
    SUCCESS = "SUCCESS"
    PARTIAL = "PARTIAL"  # ended, some lines rejected
    FAILED = "FAILED"  # the provider failed: `failure` says why


MAX_REPORTED_LINES = 100
PUSH_PROVIDER = "push"


class RejectedLine(CamelModel):
    ref: str | None  # as given (text, cut at 64 characters)
    reason: str


class ImportReport(CamelModel):
    """One run (a provider's daily import, or a push): counts, the first rejected lines, and the checkpoint."""

    model_config = ConfigDict(frozen=False)

    run_id: str
    venue_id: str
    provider: str
    venue_name: str | None = None  # for the email a failed or badly rejected run sends (notifications)
    notify_email: str | None = None  # the venue's booking email when the run started
    status: ImportStatus = ImportStatus.RUNNING
    started_at: Instant
    ended_at: Instant | None = None
    duration_ms: int | None = None
    modified_since: Instant | None = None  # what the run asks the provider (kept for a resumed run)
    after: str | None = None  # the cursor reached: the last page applied
    pages: int = 0
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # known eligible books with nothing available and no offer: no offer is created
    rejected: dict[str, int] = Field(default_factory=dict)  # by reason
    rejected_lines: list[RejectedLine] = Field(default_factory=list)  # the first MAX_REPORTED_LINES
    failure: str | None = None
    failure_detail: str | None = None

    @property
    def rejected_count(self) -> int:
        return sum(self.rejected.values())

    def reject(self, raw: Any, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if len(self.rejected_lines) < MAX_REPORTED_LINES:
            ref = raw.get("ref") if isinstance(raw, dict) else None
            self.rejected_lines.append(RejectedLine(ref=None if ref is None else str(ref)[:64], reason=reason))
