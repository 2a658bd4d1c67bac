"""docs/benchmarks.md as `make bench` writes it: one section a benchmark, a summary row a figure."""

from __future__ import annotations

from pathlib import Path

from infra.bench import report


def test_a_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    report.write_section("## Search\n\nfirst\n", path)
    report.write_section("## Load test (make load)\n\nload\n", path)
    report.write_section("## Search\n\nsecond\n", path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert "second" in text and "first" not in text and "load" in text
    assert text.count("## Search") == 1


def test_summary_rows_replace_what_the_same_command_wrote(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    report.write_section("## Search\n\nbody\n", path)
    report.write_summary([report.Row("a", "1", "—", "—"), report.Row("b", "2", "≤ 3", "yes")], "cmd one", "t1", path)
    report.write_summary([report.Row("c", "9", "—", "—")], "cmd two", "t1", path)
    report.write_summary([report.Row("a", "5", "—", "—")], "cmd one", "t2", path)  # "b" is no longer measured
    text = path.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`cmd" in line]
    assert rows == ["| c | 9 | — | — | `cmd two` | t1 |", "| a | 5 | — | — | `cmd one` | t2 |"]
    assert text.index("## Summary") < text.index("## Search")  # under the header, before the sections


def test_a_benchmarks_output_becomes_markdown_without_its_machine_lines() -> None:
    printed = "\n".join([
        "cold start: median of 11",
        "| a | b |",
        "| --- | --- |",
        "| 1 | 2 |",
        report.summary_line("figure", "1.2x", "≤ 1.2x", True),
        '{"figures": 1}',
        "worst: 1.2x",
    ])  # fmt: skip
    assert report.as_markdown(printed) == (
        "```\ncold start: median of 11\n```\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```\nworst: 1.2x\n```"
    )
    assert report.parse_summary(report.summary_line("figure", "1.2x", "≤ 1.2x", False)) == report.Row(
        "figure", "1.2x", "≤ 1.2x", "**no**"
    )
