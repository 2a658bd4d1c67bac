"""The base of every model that crosses a boundary: camelCase on the wire and in DynamoDB items (api.md),
snake_case in Python."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from pass_culture.clock import isoformat

# An instant: timezone-aware in Python, ISO 8601 UTC with a Z (millisecond precision) in JSON and in the table, so
# stored instants sort as text.
Instant = Annotated[AwareDatetime, PlainSerializer(isoformat, return_type=str, when_used="json")]


# defer_build: a model's validator is built on its first use, not at import (cold start, architecture.md).
class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True, defer_build=True
    )

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class CamelInput(BaseModel):
    """Request bodies: camelCase, unknown fields refused so a typo is a 400, not a silent no-op."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )
