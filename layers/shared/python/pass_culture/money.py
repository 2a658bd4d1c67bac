"""Money is integer cents everywhere; this is how it is shown to people (French format)."""

from __future__ import annotations


def euros(cents: int) -> str:
    """1290 -> '12,90 €'; 2000000 -> '20 000,00 €' (narrow no-break space between thousands, as in French)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d}\u00a0€"


def price_label(cents: int) -> str:
    return "Gratuit" if cents == 0 else euros(cents)
