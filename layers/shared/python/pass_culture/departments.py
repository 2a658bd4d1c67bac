"""French départements: a postal code's département, and its time zone (overseas ones included). The public pass
Culture API shows dates in the venue's département's time zone (pcapi `utils/date.py`: `CUSTOM_TIMEZONES`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

METROPOLE_TIMEZONE = "Europe/Paris"
OVERSEAS_TIMEZONES = {
    "971": "America/Guadeloupe", "972": "America/Martinique", "973": "America/Cayenne", "974": "Indian/Reunion",
    "975": "America/Miquelon", "976": "Indian/Mayotte", "977": "America/St_Barthelemy", "978": "America/Guadeloupe",
    "986": "Pacific/Wallis", "987": "Pacific/Tahiti", "988": "Pacific/Noumea", "989": "Pacific/Pitcairn",
}  # fmt: skip  # 984 (TAAF) is not there, as in pcapi: Paris time


def department_code(postal_code: str | None) -> str | None:
    """`75003` -> `75`; `97411` -> `974`; Corsica `20000` -> `2A`, `20200` -> `2B`; None when not a postal code."""
    if not postal_code or len(postal_code) != 5 or not postal_code.isdigit():
        return None
    if postal_code.startswith(("97", "98")):
        return postal_code[:3]
    if postal_code.startswith("20"):
        return "2A" if postal_code < "20200" else "2B"
    return postal_code[:2]


def department_timezone(code: str | None) -> ZoneInfo:
    return ZoneInfo(OVERSEAS_TIMEZONES.get(code or "", METROPOLE_TIMEZONE))
