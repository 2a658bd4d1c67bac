"""Every CSV the project writes for people to open in a spreadsheet: `;`-separated (French spreadsheets), UTF-8 with
a BOM (so they read the accents), CRLF lines, RFC 4180 quoting — and safe against formula injection (OWASP "CSV
Injection"): a text cell that a spreadsheet would read as a formula is written with a leading `'`.

Which cells are neutralised: every text cell (`str`), whoever wrote it — a beneficiary's name, an offer's name, an
email, a phone number (`+33…` stays text, as it should). The project's own numbers are written as `Number` cells
(`number_cell`, `euro_cell`): they are checked against a strict number pattern when made and written as they are,
so a refund of `-12,50` stays a number the spreadsheet can add up. A user's text that looks like a negative number is
still text, and is neutralised.

What counts as a formula: a cell whose first character is `=`, `+`, `-`, `@`, a tab, a carriage return or a line
feed (OWASP's list, plus the line feed and NUL some readers trim), also after leading spaces (some spreadsheets trim
them), and the full-width `＝ ＋ － ＠` some spreadsheets accept as the ASCII ones.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
SEPARATOR = ";"
FORMULA_STARTS = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")
_LEADING_SPACES = " \u00a0"
_SUSPECT_FIRST = FORMULA_STARTS | frozenset(_LEADING_SPACES)
_NUMBER = re.compile(r"-?\d+(,\d+)?")


class Number(str):
    """A cell the project formats itself from a number (`12,90`, `-12,50`, `3`): never neutralised."""

    def __new__(cls, text: str) -> Number:
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"not a number cell: {text!r}")
        return super().__new__(cls, text)


Cell = str | int | Number


def _formatted(text: str) -> Number:
    """A Number from text this module formatted from an int itself (no pattern check: it is one by construction)."""
    return str.__new__(Number, text)


def number_cell(value: int) -> Number:
    return _formatted(str(int(value)))


def euro_cell(cents: int) -> Number:
    """An amount in euros with a decimal comma, as French spreadsheets read it: 1290 → `12,90`, -1250 → `-12,50`."""
    whole, part = divmod(abs(int(cents)), 100)
    return _formatted(f"{'-' if cents < 0 else ''}{whole},{part:02d}")


def spreadsheet_safe(cell: str) -> str:
    """The text as a spreadsheet will show it, never as a formula: `'` in front of anything that could start one."""
    if not cell:
        return cell
    first = cell[0]
    if first in FORMULA_STARTS or (first in _LEADING_SPACES and cell.lstrip(_LEADING_SPACES)[:1] in FORMULA_STARTS):
        return "'" + cell
    return cell


def _cell(value: Cell) -> str:
    if isinstance(value, Number):
        return value
    if isinstance(value, str):
        return spreadsheet_safe(value)
    if type(value) is int:  # not a bool
        return str(value)
    raise TypeError(f"a CSV cell is text, an int or a Number, not {type(value).__name__}")


class SpreadsheetCsv:
    """Builds a CSV text row by row (exports that read their data page by page)."""

    def __init__(self, header: Sequence[str] | None = None) -> None:
        self._out = io.StringIO()
        self._out.write(BOM)
        self._writer = csv.writer(self._out, delimiter=SEPARATOR, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        if header is not None:
            self.row(header)

    def row(self, cells: Sequence[Cell]) -> None:
        # Inline fast path (exports write ~200 000 cells): plain text that cannot start a formula is kept as is.
        self._writer.writerow(
            [cell if type(cell) is str and cell[:1] not in _SUSPECT_FIRST else _cell(cell) for cell in cells]
        )

    def rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        for cells in rows:
            self.row(cells)

    def text(self) -> str:
        return self._out.getvalue()


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The whole CSV text: BOM, header, rows."""
    out = SpreadsheetCsv(header)
    out.rows(rows)
    return out.text()
