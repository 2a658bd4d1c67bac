"""`make load-catalogue FILE=books.csv`: sends a catalogue CSV (`ean,title,author,publisher,clil`) to the running
local stack's `POST /admin/catalogue`, as the seeded admin, and prints the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import requests

from infra.local.seed import PASSWORD


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--email", default="admin@passculture.local")
    parser.add_argument("--password", default=PASSWORD)
    arguments = parser.parse_args()
    try:
        login = requests.post(
            f"{arguments.url}/_local/login", json={"email": arguments.email, "password": arguments.password}, timeout=10
        )
    except requests.ConnectionError:
        print(f"nothing answers at {arguments.url}: start the stack with `make run` first", file=sys.stderr)
        return 2
    login.raise_for_status()
    answer = requests.post(
        f"{arguments.url}/admin/catalogue",
        data=arguments.file.read_bytes(),
        headers={"Authorization": f"Bearer {login.json()['idToken']}", "Content-Type": "text/csv; charset=utf-8"},
        timeout=300,
    )
    print(json.dumps(answer.json(), ensure_ascii=False, indent=2))
    return 0 if answer.ok else 1


if __name__ == "__main__":
    sys.exit(main())
