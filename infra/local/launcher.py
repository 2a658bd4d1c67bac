"""Starts the local stack as `make run` does (`python -m infra.local`), as a child process on a free port, and waits
for its banner: for the end-to-end tests and the fuzz, which talk to it over HTTP only."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from infra.local.template import ROOT

BANNER_END = "Ctrl-C stops everything"  # the last line of the start-up banner


@dataclass
class LaunchedStack:
    process: subprocess.Popen[str]
    url: str
    aws_endpoint: str
    output: list[str]  # the stack's own output so far (it keeps growing)

    def stop(self, timeout: float = 30) -> int:
        """What Ctrl-C does; killed if it has not exited within `timeout` (then TimeoutExpired is raised)."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def launch(log_dir: Path, *arguments: str, ready_within: float = 180) -> LaunchedStack:
    """The stack on a free port, with its function logs in `log_dir`; RuntimeError when it does not get ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # the stack sets its own
    paths = [str(ROOT / "layers" / "shared" / "python"), str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", "0", "--log-dir", str(log_dir), *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if BANNER_END in line:
                ready.set()
        ready.set()  # it exited: no need to wait any longer

    threading.Thread(target=read, daemon=True).start()
    text = "".join(output) if ready.wait(ready_within) else ""
    url, aws = re.search(r"ready on (http://\S+)", text), re.search(r"embedded AWS: (http://\S+)", text)
    if BANNER_END not in text or url is None or aws is None:
        process.kill()
        raise RuntimeError("the local stack did not get ready:\n" + "".join(output))
    return LaunchedStack(process, url.group(1), aws.group(1), output)
