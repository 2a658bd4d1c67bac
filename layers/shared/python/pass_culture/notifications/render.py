"""Renders an email from its Jinja2 templates: `<kind>.txt` (first line: the subject) and `<kind>.html`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing value is a bug, not an empty hole in an email
        keep_trailing_newline=True,
    )


def render(kind: str, context: dict[str, Any]) -> RenderedEmail:
    environment = _environment()
    subject, _, text = environment.get_template(f"{kind}.txt").render(**context).partition("\n")
    html = environment.get_template(f"{kind}.html").render(subject=subject.strip(), **context)
    return RenderedEmail(subject=subject.strip(), text=text.lstrip("\n"), html=html)
