"""No personal data and no secret in any line the functions logged during the e2e run (their log files are what
CloudWatch would keep): email addresses, IBANs, JWTs, API keys, credentials, phone numbers (the patterns
`pass_culture.observability` redacts), and the names the tests give their people."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pass_culture.observability import REDACTIONS

# the first and last names the seed and the e2e tests give people
NAMES = re.compile(r"\b(Jeanne|Léa|Zoé|Inès|Léo|Camille|Louise|Marc|Martin|Petit|Bibliothécaire)\b")
CHECKS = [("name", NAMES), *((replacement.strip("[]\\1 "), pattern) for pattern, replacement in REDACTIONS)]


def leaks(log_dirs: Iterable[Path]) -> list[str]:
    found = []
    for log_dir in log_dirs:
        for path in sorted(log_dir.glob("*.log")):
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                for kind, pattern in CHECKS:
                    match = pattern.search(line)
                    if match:
                        found.append(f"{path.name}:{number}: {kind} {match.group(0)[:40]!r} in {line[:200]!r}")
    return found
