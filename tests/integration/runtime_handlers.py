"""Handlers for the local runtime's and gateway's own tests, run by `infra.local.runtime` in real processes: they
sleep, die or answer as told (by a plain event, or by the query string of an API Gateway proxy event)."""

from __future__ import annotations

import json
import os
import time
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if "httpMethod" in event:  # through the local gateway: a proxy response
        query = event.get("queryStringParameters") or {}
        time.sleep(float(query.get("sleep", 0)))
        status = int(query.get("status", 200))
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Content-Type": ["application/json"], "X-Seen": ["a", "b"]},
            "body": "" if status == 204 else json.dumps({"pid": os.getpid()}),
        }
    if event.get("action") == "sleep":
        time.sleep(float(event["seconds"]))
    elif event.get("action") == "exit":
        os._exit(3)  # the process dies mid-invocation
    elif event.get("action") == "raise":
        raise ValueError("told to fail")
    return {"pid": os.getpid(), "remainingMs": context.get_remaining_time_in_millis()}
