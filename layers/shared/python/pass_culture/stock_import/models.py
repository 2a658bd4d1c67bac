"""The stock import's request bodies. Rows are loosely typed on purpose: domain.md says a bad row (no ref, a bad
EAN, a missing or negative `available`) is skipped and counted in the run's report, never fatal to the push."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

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


class PushedStockRow(CamelInput):
    model_config = ConfigDict(extra="ignore")  # a provider's rows may carry more than these three fields

    ref: str | None = Field(default=None, max_length=40)
    available: int | None = None
    price: float | None = None


class StockPushInput(CamelInput):
    stocks: list[PushedStockRow] = Field(max_length=MAX_PUSHED_ROWS)
