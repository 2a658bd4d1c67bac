"""Identity claims as API Gateway hands them over. Kept free of heavy imports: the authorizer uses it too."""

from __future__ import annotations

import json
from typing import Any


def parse_groups(raw: Any) -> frozenset[str]:
    """`cognito:groups` as API Gateway hands it over: a list, 'a,b', '[a b]' or a JSON array string."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list | tuple | set | frozenset):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = text[1:-1].replace(",", " ").split()
        return frozenset(str(g) for g in decoded)
    return frozenset(part.strip() for part in text.split(",") if part.strip())
