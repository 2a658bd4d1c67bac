"""The stock import's request bodies. Rows are loosely typed on purpose: domain.md says a bad row (no ref, a bad
EAN, a missing or negative `available`) is skipped and counted in the run's report, never fatal to the push."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from pass_culture.models import CamelInput

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
    base_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https://[^\s/$.?#][^\s]*$")]
    token: str | None = Field(default=None, min_length=1, max_length=500)
    prices_in_cents: bool = False


class StockPushInput(CamelInput):
    # Each row is `{"ref": EAN-13, "available": int >= 0, "price": number}` in the provider format; rows are judged
    # one by one by the import's rules, so a bad row is counted in the report, never a 400 for the whole push.
    stocks: list[dict[str, Any]] = Field(max_length=MAX_PUSHED_ROWS)
