"""The book catalogue, loaded from CSV (`ean,title,author,publisher,clil`, UTF-8, header first). Pure parsing:
each row is loaded or rejected with its line number and reason; a bad row never stops the load."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from pass_culture.errors import BadRequest
from pass_culture.offers.models import BookInfo
from pass_culture.offers.rules import valid_ean

HEADER = ["ean", "title", "author", "publisher", "clil"]
MAX_REPORTED_REJECTIONS = 100


@dataclass
class ParsedCatalogue:
    books: list[BookInfo] = field(default_factory=list)
    rejected: list[dict[str, object]] = field(default_factory=list)


def parse_catalogue(text: str) -> ParsedCatalogue:
    """A file the csv module cannot read at all (a field over its size limit, …) is a 400 naming the line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))  # newline="": as csv wants its files
    try:
        return _parse(reader)
    except csv.Error as error:
        raise BadRequest(f"The CSV cannot be read (line {reader.line_num}): {error}.", code="BAD_CSV") from error


def _parse(reader: Iterator[list[str]]) -> ParsedCatalogue:
    header = [name.strip().lower() for name in next(reader, [])]
    if header != HEADER:
        raise BadRequest(
            f"The CSV header must be: {','.join(HEADER)} (got: {','.join(header) or 'nothing'}).", code="BAD_CSV"
        )
    parsed = ParsedCatalogue()
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            parsed.rejected.append({"line": line, "reason": f"expected {len(HEADER)} columns, got {len(row)}"})
            continue
        ean, title, author, publisher, clil = (cell.strip() for cell in row)
        try:
            ean = valid_ean(ean)
        except BadRequest as error:
            parsed.rejected.append({"line": line, "reason": error.message})
            continue
        if not title:
            parsed.rejected.append({"line": line, "reason": "the title is empty"})
        elif clil and not clil.isdigit():
            parsed.rejected.append({"line": line, "reason": f"the CLIL code '{clil}' is not a number"})
        elif ean in seen:
            parsed.rejected.append({"line": line, "reason": f"EAN {ean} already on line {seen[ean]}"})
        else:
            seen[ean] = line
            parsed.books.append(BookInfo(ean=ean, title=title, author=author, publisher=publisher, clil=clil))
    return parsed
