"""`make run`: the local stack on http://127.0.0.1:3000 (or PORT). Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from infra.local.seed import seed
from infra.local.stack import LocalStack


def main() -> int:
    parser = argparse.ArgumentParser(description="pass Culture local stack")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-seed", action="store_true", help="start with empty data")
    parser.add_argument("--log-dir", type=Path, default=None, help="where each function's log goes")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    started = time.perf_counter()
    stack = LocalStack(port=arguments.port, host=arguments.host, log_dir=arguments.log_dir)
    stopping = threading.Event()
    # Ctrl-C (SIGINT) and SIGTERM stop the stack. Set explicitly: a shell starting us in the background without job
    # control leaves SIGINT ignored, and Python then never raises KeyboardInterrupt.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        stack.start()
        logins = [] if arguments.no_seed else seed(stack)
        stack.wait_until_answering()
        print(f"pass Culture local stack ready on {stack.url} ({time.perf_counter() - started:.1f} s)", flush=True)
        print(f"  API docs: {stack.url}/docs   embedded AWS: {stack.aws.endpoint}   logs: {stack.log_dir}")
        for login in logins:
            print(f"  login {login.group:<11} {login.email:<42} password {login.password}  ({login.description})")
        print("  Ctrl-C stops everything; the next start is clean (data lives in memory).", flush=True)
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
