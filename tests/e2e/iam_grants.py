"""Every AWS call each function made through the local stacks of the e2e run, against its role, both ways.

The local stack enforces each function's role (`infra/local/iam.py`) and writes every decision to `iam-calls.jsonl`,
and the statements it enforced to `iam-grants.json`, in its log directory. Here:
- every call granted: a denied call is a failure even when the code under test swallowed the error;
- every grant used: each (action, resource) a statement allows was called at least once by its function in the whole
  e2e run, or is justified below. AWS-managed policies (logs, X-Ray, the event source pollers) and the on-failure
  destinations SAM grants are Lambda's own use, not the code's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.local.iam import matches

# (function, action) -> why the grant stays though no e2e run makes the call
_CHUNKS = ("a run with more candidates than IN_PROCESS_LIMIT (2 000, daily_jobs/rules.py) sends the rest to the worker "
           "in chunks; e2e runs are smaller; tests/integration/test_daily_jobs.py runs the worker's chunks")  # fmt: skip
JUSTIFIED_UNUSED: dict[tuple[str, str], str] = {
    **{
        ("DailyJobsWorkerFunction", f"dynamodb:{action}"): _CHUNKS
        for action in ("BatchGetItem", "UpdateItem", "PutItem", "DeleteItem")
    },
    ("AutoValidateJobFunction", "sqs:SendMessage*"): _CHUNKS,
    ("ExpireBookingsJobFunction", "sqs:SendMessage*"): _CHUNKS,
    ("StockImportWorkerFunction", "sqs:SendMessage*"): "a venue too big for one invocation re-queues itself with its "
    "cursor before the deadline (tests/integration/test_stock_import.py)",
    ("OffersApiFunction", "s3:PutObject"): "the presigned POST of an offer image is signed with this role; the "
    "browser's upload carries the credential inside its multipart form, which the local check does not read",
    ("CounterApiFunction", "s3:GetObject"): "the presigned links to payout files are signed with this role; locally "
    "they are served through /_local/files; tests/integration/test_local_iam.py fetches one signed with it",
    ("NotificationsFunction", "sqs:SendMessage"): "the DLQ: a record whose emails failed is parked there whole "
    "(dead_letters.py), and Lambda writes a failed batch's position there with this role; no e2e send fails "
    "(tests/integration/test_notifications.py parks one)",
}


def read_calls(log_dirs: Iterable[Path]) -> list[dict[str, Any]]:
    calls = []
    for log_dir in log_dirs:
        path = log_dir / "iam-calls.jsonl"
        if path.exists():
            calls += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return calls


def denied(calls: list[dict[str, Any]]) -> list[str]:
    found = sorted({f"{c['function']}: {c['action']} on {c['resource']}" for c in calls if not c["allowed"]})
    return [f"denied in AWS too: {line}" for line in found]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def unused(log_dirs: list[Path]) -> list[str]:
    """The grants no stack of the run used. Each stack is judged against its own grants: resources named by a random
    id (the user pool's) differ from one stack to the next, so a grant counts as used when any stack used its own."""
    unused_everywhere: dict[tuple[str, str, int, str, int], str] | None = None
    for log_dir in log_dirs:
        grants = json.loads((log_dir / "iam-grants.json").read_text(encoding="utf-8"))
        made: dict[str, set[tuple[str, str]]] = {}
        for call in read_calls([log_dir]):
            if call["allowed"]:
                made.setdefault(call["function"], set()).add((call["action"], call["resource"]))
        here: dict[tuple[str, str, int, str, int], str] = {}
        for function, statements in sorted(grants.items()):
            for number, grant in enumerate(statements):
                statement = grant["statement"]
                if (
                    grant["managed"]
                    or "EventInvokeConfigOnFailure" in grant["policy"]
                    or statement["Effect"] != "Allow"
                ):
                    continue
                for action in _as_list(statement["Action"]):
                    if (function, action) in JUSTIFIED_UNUSED:
                        continue
                    for index, resource in enumerate(_as_list(statement["Resource"])):
                        if not any(
                            matches(action, a, case_sensitive=False) and matches(resource, r)
                            for a, r in made.get(function, ())
                        ):
                            here[(function, grant["policy"], number, action, index)] = (
                                f"never used: {function} {grant['policy']} {action} on {resource}"
                            )
        unused_everywhere = (
            here
            if unused_everywhere is None
            else {grant: text for grant, text in unused_everywhere.items() if grant in here}
        )
    return sorted((unused_everywhere or {}).values())
