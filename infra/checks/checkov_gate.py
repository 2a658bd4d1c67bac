"""checkov on the SAM-translated template (CloudFormation): zero findings except the waived checks, each with its
reason in checkov-waivers.txt. Usage: python infra/checks/checkov_gate.py TRANSLATED.json"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WAIVERS = Path(__file__).with_name("checkov-waivers.txt")


def waivers() -> dict[str, str]:
    found = {}
    for line in WAIVERS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            check, _, reason = line.partition(" ")
            if not reason.strip():
                raise SystemExit(f"{WAIVERS}: {check} is waived without a reason")
            found[check] = reason.strip()
    return found


def main(path: str) -> int:
    skipped = ",".join(waivers())
    command = ["checkov", "-f", path, "--framework", "cloudformation", "--skip-check", skipped, "-o", "json", "--quiet"]
    answer = subprocess.run(command, capture_output=True, text=True, check=False)
    report = json.loads(answer.stdout or "{}")
    report = report[0] if isinstance(report, list) else report
    failed = report.get("results", {}).get("failed_checks", [])
    for finding in failed:
        print(f"checkov: {finding['check_id']} {finding['check_name']} ({finding['resource']})")
    summary = report.get("summary", {})
    print(f"checkov: {'FAILED' if failed else 'OK'} ({summary.get('passed', 0)} passed, {len(failed)} failed, "
          f"{len(waivers())} checks waived with a reason in {WAIVERS.name})")  # fmt: skip
    return 1 if failed or answer.returncode not in (0, 1) or not summary else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
