"""`make run`: the local stack on http://127.0.0.1:3000 (or PORT). Ctrl-C stops everything, within a few seconds
whatever the data: a second Ctrl-C, or a stop that overruns its deadline, kills what is left at once."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from infra.local.seed import fake_stock_software, seed
from infra.local.stack import LocalStack

STOP_DEADLINE_SECONDS = 4.0  # from Ctrl-C to the process gone, whatever the data


class Stopper:
    """Turns SIGINT/SIGTERM into a stop with a deadline. The signal is noticed by a thread reading the signal wake-up
    fd (written by the C-level handler in whatever thread the signal lands on), not by Python code in the main thread:
    a main thread blocked or busy cannot delay the stop, and the deadline holds even if the stop itself hangs."""

    def __init__(self, deadline_seconds: float) -> None:
        self.requested = threading.Event()
        self.done = threading.Event()
        self.deadline_seconds = deadline_seconds
        self.stack: LocalStack | None = None

    def install(self) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        # Set explicitly: a shell starting us in the background without job control leaves SIGINT ignored, and the
        # default handler would raise KeyboardInterrupt wherever the main thread is. The watcher does the work.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)
        threading.Thread(target=self._watch, args=(read_end,), name="signals", daemon=True).start()

    def _watch(self, read_end: int) -> None:
        wanted = {signal.SIGINT.value, signal.SIGTERM.value}
        while not self.requested.is_set():
            if wanted & set(os.read(read_end, 64)):
                self.requested.set()
        threading.Thread(target=self._enforce_deadline, name="stop-deadline", daemon=True).start()
        while not self.done.is_set():
            if wanted & set(os.read(read_end, 64)):  # a second Ctrl-C: no more waiting
                self._force("stopped at once (second signal)")

    def _enforce_deadline(self) -> None:
        if not self.done.wait(self.deadline_seconds):
            self._force(f"stop took over {self.deadline_seconds:.0f} s: killed what was left")

    def _force(self, why: str) -> None:
        if self.stack is not None:
            self.stack.kill()
        print(why, file=sys.stderr, flush=True)
        os._exit(1)


def main(stopper: Stopper) -> int:
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
    stopper.stack = stack
    try:
        stack.start()
        if stopper.requested.is_set():
            return 0
        seeded = None if arguments.no_seed else seed(stack)
        provider = None if seeded is None else fake_stock_software(stack, seeded)
        stack.wait_until_answering()
        print(f"pass Culture local stack ready on {stack.url} ({time.perf_counter() - started:.1f} s)", flush=True)
        print(f"  pro portal: {stack.url}/pro/   (a new account's confirmation code: {stack.url}/_local/outbox)")
        print(f"  API docs: {stack.url}/docs   embedded AWS: {stack.aws.endpoint}   logs: {stack.log_dir}")
        for login in seeded.logins if seeded else []:
            print(f"  login {login.group:<11} {login.email:<42} password {login.password}  ({login.description})")
        if seeded is not None and provider is not None:
            print(
                f"  stock software (fake, 300 lines for the bookshop's SIRET {seeded.bookshop_siret}):"
                " connect it as the bookseller with"
                f"\n    PUT {stack.url}/venues/{seeded.bookshop_venue_id}/stock-provider"
                f' {{"provider": "titelive", "baseUrl": "{provider.base_url}"}}'
                f"\n    then POST {stack.url}/_local/jobs/stock-import and read GET"
                f" /venues/{seeded.bookshop_venue_id}/stock-imports"
            )
        print("  Ctrl-C stops everything; the next start is clean (data lives in memory).", flush=True)
        stopper.requested.wait()
    finally:
        print("stopping…", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    stopper = Stopper(STOP_DEADLINE_SECONDS)
    stopper.install()
    code = main(stopper)
    stopper.done.set()
    # Everything is stopped. Leave without the interpreter's finalization: tearing down moto's in-memory state
    # object by object took seconds with a few thousand items (and grows with the data), for nothing.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
