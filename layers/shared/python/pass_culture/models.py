"""The base of every model that crosses a boundary: camelCase on the wire and in DynamoDB items (api.md),
snake_case in Python."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from pass_culture.clock import isoformat

T = TypeVar("T")

# An instant: timezone-aware in Python, ISO 8601 UTC with a Z (millisecond precision) in JSON and in the table, so
# stored instants sort as text.
Instant = Annotated[AwareDatetime, PlainSerializer(isoformat, return_type=str, when_used="json")]
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200  # outside, a date is a typo (and year 9999 overflows once moved to UTC)


def _plausible_year(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"a year between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _calendar_date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in Python
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


# In a request body (strict elsewhere), an instant is parsed from its ISO 8601 text.
InstantInput = Annotated[Instant, Strict(False), AfterValidator(_plausible_year)]
# A calendar date in a request body: "YYYY-MM-DD" only (not a date-time, not a number).
DateInput = Annotated[date, Strict(False), BeforeValidator(_calendar_date_text), AfterValidator(_plausible_year)]
# A date in a query string.
QueryDate = Annotated[date, AfterValidator(_plausible_year)]


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("null is not a value here: leave the field out to keep it")
    return value


def _without_null(schema: JsonDict) -> None:
    alternatives = [a for a in schema.pop("anyOf", []) if a != {"type": "null"}]  # type: ignore[union-attr]
    if len(alternatives) == 1:
        schema.update(alternatives[0])  # type: ignore[arg-type]
    schema.pop("default", None)


# A PATCH body's field that may be left out (unchanged) but is never null: null would be stored as its value.
Omittable = Annotated[T | None, BeforeValidator(_not_null), Field(json_schema_extra=_without_null)]


# defer_build: a model's validator is built on its first use, not at import (cold start, architecture.md).
class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True, defer_build=True
    )

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class CamelInput(BaseModel):
    """Request bodies: camelCase, unknown fields refused so a typo is a 400, not a silent no-op. Strict: an integer
    is a JSON integer (not `true`, `1.5` or `"1"`), a boolean a JSON boolean; instants and dates say so
    (`InstantInput`, `DateInput`)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True, strict=True
    )
