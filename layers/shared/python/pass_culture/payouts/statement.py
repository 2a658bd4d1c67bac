"""The statement of a payout ("relevé de remboursement"): one PDF per offerer and period, built with fpdf2, listing
the bookings paid by venue with their totals; collective bookings (school groups) on their own lines after them,
in a section "Offres collectives", their institution in place of the countermark.

Byte for byte the same file for the same statement: fpdf2 stamps the machine's clock as the creation date and hashes
it into the file id, so both come from the batch's time. The PDF's built-in fonts need no font file in the layer but
draw windows-1252 only: that has the French accents, "œ" and "€"; any other character a pro typed is drawn without
its marks or as "?", never an error."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pass_culture.accounts.rules import mask_iban  # the one rule, as the API and the emails show it
from pass_culture.clock import PARIS
from pass_culture.money import euros
from pass_culture.payouts.files import rate_label
from pass_culture.payouts.rules import Period

if TYPE_CHECKING:
    from fpdf import FPDF

TITLE = "Relevé de remboursement pass Culture"
FONT = "helvetica"
ENCODING = "cp1252"  # windows-1252, which fpdf2 maps to the core fonts' WinAnsiEncoding: latin-1 has no "€"
COLUMNS = ("Offre", "Contremarque", "Validée le", "Prix", "Taux", "Remboursé")
COLLECTIVE_COLUMNS = ("Offre collective", "Établissement", "Validée le", "Prix", "Taux", "Remboursé")
COLLECTIVE_TITLE = "Offres collectives"
WIDTHS = (70, 26, 20, 24, 14, 26)  # mm: the 180 between the margins of an A4 page
ALIGNS = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
LONGEST_NAME = 160  # characters: a longer name is cut, so that a table row never outgrows a page
TOTAL_WIDTHS = (116, 24, 14, 26)  # a total's label spans the offer, the countermark and the date
TOTAL_ALIGNS = ("LEFT", "RIGHT", "RIGHT", "RIGHT")
LINE = 4.5  # mm: a line of text in the table


@dataclass(frozen=True)
class StatementLine:
    venue_name: str
    offer_name: str
    countermark: str
    used_at: datetime  # shown in Europe/Paris
    amount_cents: int  # the booking's price
    rule: str  # BOOK / STANDARD / NOT_REIMBURSED / COLLECTIVE
    rate: int  # basis points
    reimbursed_cents: int
    collective: bool = False  # a school group's booking: `countermark` holds its institution's name and UAI


@dataclass(frozen=True)
class Statement:
    offerer_name: str
    siren: str
    payout_id: str
    period: Period
    iban: str  # in full: the statement shows it masked
    bank_label: str
    paid_on: date
    created_at: datetime  # the batch's time: the PDF's creation date
    lines: Sequence[StatementLine]


def statement_pdf(statement: Statement) -> bytes:
    pdf = _document(statement)
    pdf.add_page()
    _summary(pdf, statement)
    individual = [line for line in statement.lines if not line.collective]
    collective = [line for line in statement.lines if line.collective]
    _by_venue(pdf, individual, COLUMNS)
    if collective:
        pdf.ln(6)
        if pdf.will_page_break(35):
            pdf.add_page()
        pdf.set_font(FONT, "B", 13)
        _paragraph(pdf, COLLECTIVE_TITLE, 7)
        _by_venue(pdf, collective, COLLECTIVE_COLUMNS)
        pdf.ln(2)
        _row(pdf, "", _total(f"Total {COLLECTIVE_TITLE.lower()}", collective), TOTAL_WIDTHS, TOTAL_ALIGNS, "B")
    pdf.ln(4)
    _row(pdf, "", _total("Total du relevé", statement.lines), TOTAL_WIDTHS, TOTAL_ALIGNS, "B")
    return bytes(pdf.output())


def _by_venue(pdf: FPDF, lines: Sequence[StatementLine], columns: Sequence[str]) -> None:
    by_venue: dict[str, list[StatementLine]] = {}  # venues in the order of their first line
    for line in lines:
        by_venue.setdefault(line.venue_name, []).append(line)
    for venue_name, own in by_venue.items():
        venue = _text(venue_name)
        pdf.ln(4)
        if pdf.will_page_break(25):  # a venue's name on the page of its first lines
            pdf.add_page()
        _headings(pdf, venue, columns=columns)
        for line in own:
            _row(pdf, venue, (
                _text(line.offer_name), _text(line.countermark, 40 if not line.collective else 80),
                _day(line.used_at.astimezone(PARIS)), _money(line.amount_cents), rate_label(line.rate),
                _money(line.reimbursed_cents),
            ), columns=columns)  # fmt: skip
        _row(pdf, venue, _total(f"Total {_text(venue_name, 50)}", own), TOTAL_WIDTHS, TOTAL_ALIGNS, "B")


def _document(statement: Statement) -> FPDF:
    # Imported here, as sepaxml is: fpdf2 loads fontTools, a second added to the cold start of any Lambda importing
    # this module, when only the one that writes the statements needs it.
    from fpdf import FPDF

    footer = f"{TITLE} - {_text(statement.payout_id, 60)} - {statement.period.label}"

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, size=7)
            self.cell(0, 5, f"{footer} - Page {self.page_no()}/{{nb}}", align="C")  # {nb}: the number of pages

    pdf = Document(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_creation_date(statement.created_at.astimezone(PARIS))  # one instant, one date stamp
    pdf.set_title(f"{TITLE} - {statement.period.label}")
    pdf.set_author("pass Culture")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    return pdf


# The table is drawn cell by cell rather than with fpdf2's `table()`, which lays every cell out twice as a paragraph:
# five times slower (7 s for 3 000 bookings). Only a text wider than its column is wrapped.


def _headings(pdf: FPDF, venue: str, continued: bool = False, columns: Sequence[str] = COLUMNS) -> None:
    """The venue's name (none before the grand total), then the names of the columns."""
    if venue:
        pdf.set_font(FONT, "B", 11)
        _paragraph(pdf, f"{venue} (suite)" if continued else venue, 6)
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(230)
    for title, width, align in zip(columns, WIDTHS, ALIGNS, strict=True):
        pdf.cell(width, LINE + 1, title, align=align, fill=True)
    pdf.ln()


def _row(
    pdf: FPDF,
    venue: str,
    cells: Sequence[str],
    widths: Sequence[float] = WIDTHS,
    aligns: Sequence[str] = ALIGNS,
    style: str = "",
    columns: Sequence[str] = COLUMNS,
) -> None:
    """One row, on one page: each text on as many lines as its column needs, the row as high as the highest; on a new
    page, under the venue's name and the columns again."""
    pdf.set_font(FONT, style, 8)
    wrapped = [_lines(pdf, text, width) for text, width in zip(cells, widths, strict=True)]
    height = LINE * max(len(lines) for lines in wrapped)
    if pdf.will_page_break(height):
        pdf.add_page()
        _headings(pdf, venue, continued=True, columns=columns)
        pdf.set_font(FONT, style, 8)
    top, x = pdf.y, pdf.l_margin
    for lines, width, align in zip(wrapped, widths, aligns, strict=True):
        for n, text in enumerate(lines):
            pdf.set_xy(x, top + n * LINE)
            pdf.cell(width, LINE, text, align=align)
        x += width
    pdf.set_xy(pdf.l_margin, top + height)
    pdf.line(pdf.l_margin, pdf.y, x, pdf.y)


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    if pdf.get_string_width(text) <= width - 2 * pdf.c_margin:
        return [text]
    lines = pdf.multi_cell(width, LINE, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    # Answered in the font's bytes read as latin-1 ("…" as "\x85"): back to text, for `cell` to encode again.
    return [line.encode("latin-1").decode(ENCODING) for line in lines]


def _summary(pdf: FPDF, statement: Statement) -> None:
    period = statement.period
    last_day = period.end - timedelta(days=1)  # the period's end is exclusive
    total = sum(line.reimbursed_cents for line in statement.lines)
    pdf.set_font(FONT, "B", 16)
    _paragraph(pdf, TITLE, 9)
    pdf.set_font(FONT, "B", 12)
    _paragraph(pdf, _text(statement.offerer_name), 6)
    pdf.set_font(FONT, size=10)
    for text in (
        f"SIREN : {_text(statement.siren, 20)}",
        f"Période : {period.label}, du {_day(period.start)} au {_day(last_day)}",
        f"Remboursement n° {_text(statement.payout_id, 60)}, payé le {_day(statement.paid_on)} : {_money(total)}",
        f"Compte bancaire : {_text(statement.bank_label, 80)} - {mask_iban(statement.iban)}",
    ):
        _paragraph(pdf, text, 5)


def _total(label: str, lines: Sequence[StatementLine]) -> tuple[str, str, str, str]:
    count = len(lines)
    return (
        f"{label} : {count} réservation{'s' if count > 1 else ''}",
        _money(sum(line.amount_cents for line in lines)),
        "",
        _money(sum(line.reimbursed_cents for line in lines)),
    )


def _paragraph(pdf: FPDF, text: str, height: float) -> None:
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _money(cents: int) -> str:
    # The narrow no-break space money.euros puts between thousands is not in windows-1252; a no-break space is.
    return euros(cents).replace("\u202f", "\u00a0")


def _text(value: str, limit: int = LONGEST_NAME) -> str:
    """A text from the data, drawable and cut to its limit."""
    text = _drawable(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _drawable(text: str) -> str:
    """The text in windows-1252: controls as spaces, other characters without their marks (ő → o) or as "?"."""
    try:
        if text.isprintable():
            text.encode(ENCODING)
            return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category == "Cf":
            continue  # zero-width and direction marks: nothing to draw
        elif _encodable(char):
            out.append(char)
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if _encodable(c) and not unicodedata.combining(c)
            )
            out.append(base or "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True
