"""docs/benchmarks.md: one `## ` section a benchmark (only that section is replaced when it runs again), and the
summary table at the top, one row a figure (a row is replaced by its figure's name)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from infra.local.template import ROOT

DOCS = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Figures measured on this project's machines, with the command that produced each: rerun it to check them. `make bench`
runs every benchmark and rewrites its section and its rows of the summary; `make load` rewrites the load test's.
"""
SUMMARY = "## Summary"
SUMMARY_HEAD = [
    "| figure | measured | goal | met | command | run |",
    "| --- | --- | --- | --- | --- | --- |",
]
SUMMARY_PREFIX = "SUMMARY "  # what a benchmark prints for a summary row: SUMMARY figure | measured | goal | met


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    goal: str
    met: str  # "yes", "no" or "—" (a figure without a goal)

    def cells(self, command: str, run: str) -> str:
        return f"| {self.figure} | {self.measured} | {self.goal} | {self.met} | `{command}` | {run} |"


def summary_line(figure: str, measured: str, goal: str = "—", met: bool | None = None) -> str:
    """The line a benchmark prints so that the runner puts the figure in the summary table."""
    verdict = "—" if met is None else ("yes" if met else "**no**")
    return f"{SUMMARY_PREFIX}{figure} | {measured} | {goal} | {verdict}"


def parse_summary(line: str) -> Row | None:
    if not line.startswith(SUMMARY_PREFIX):
        return None
    parts = [part.strip() for part in line[len(SUMMARY_PREFIX) :].split(" | ")]
    return Row(*parts) if len(parts) == 4 else None


def commit() -> str:
    def git(*arguments: str) -> str:
        answer = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
        return answer.stdout.strip()

    short = git("rev-parse", "--short", "HEAD") or "?"
    # This file itself changes with every benchmark: only the other files' changes make the figures not the commit's.
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.md")
    return short + (" (uncommitted changes)" if changed else "")


def machine() -> str:
    return f"{os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}"


def stamp(started: datetime | None = None) -> str:
    """When and at which commit: the provenance of a figure."""
    return f"{(started or datetime.now(UTC)):%Y-%m-%d %H:%M} UTC, commit {commit()}"


def run_line(started: datetime | None = None) -> str:
    return f"{stamp(started)}, {machine()}"


def write_section(section: str, path: Path = DOCS) -> None:
    """Replaces the `## ` section of the same title (or appends it), leaving every other section as it was."""
    title = section.split("\n", 1)[0]
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start = text.find(title + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(title))
        rest = text[following + 1 :] if following != -1 else ""
        text = text[:start] + section.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def write_summary(rows: list[Row], command: str, run: str, path: Path = DOCS) -> None:
    """Puts `rows` in the summary table in place of the rows the same command wrote before (and of rows of the same
    figures); the table sits under the header."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    table: dict[str, str] = {}
    start = text.find(SUMMARY + "\n")
    if start != -1:
        following = text.find("\n## ", start + len(SUMMARY))
        body = text[start : following if following != -1 else len(text)]
        for line in body.splitlines()[2:]:
            cells = re.match(r"\| (.+?) \|", line)
            if cells and not line.startswith(("| figure |", "| --- |")) and f"| `{command}` |" not in line:
                table[cells.group(1)] = line
    for row in rows:
        table[row.figure] = row.cells(command, run)
    section = "\n".join([SUMMARY, "", *SUMMARY_HEAD, *table.values(), ""])
    if start == -1:  # first time: right after the header, before every benchmark's section
        first = text.find("\n## ")
        head, rest = (text, "") if first == -1 else (text[: first + 1], text[first + 1 :])
        path.write_text(head.rstrip("\n") + "\n\n" + section + ("\n" + rest if rest else ""), encoding="utf-8")
    else:
        write_section(section, path)


def as_markdown(output: str) -> str:
    """A benchmark's printed report as markdown: its markdown tables as they are, its other lines in code blocks; the
    summary lines and the JSON lines (figures for a parent process) left out."""
    blocks: list[str] = []
    text: list[str] = []

    def flush() -> None:
        while text and not text[-1].strip():
            text.pop()
        if text:
            blocks.append("```\n" + "\n".join(text) + "\n```")
        text.clear()

    table: list[str] = []
    for line in output.splitlines():
        if line.startswith(SUMMARY_PREFIX) or line.startswith(("{", "[")):
            continue
        if line.startswith("|"):
            flush()
            table.append(line)
            continue
        if table:
            blocks.append("\n".join(table))
            table = []
        if text or line.strip():
            text.append(line)
    if table:
        blocks.append("\n".join(table))
    flush()
    return "\n\n".join(blocks)
