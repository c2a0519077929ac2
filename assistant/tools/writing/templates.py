"""Jinja2 templates: the prompts that ask for each format, and the Markdown each renders to."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel

from assistant.content import TEMPLATE_FOR_FORMAT, Brief, Finding, Script, Section

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"

FORMAT_LABELS = {
    "short": "vertical short-video",
    "video": "YouTube video",
    "podcast": "podcast",
    "blog": "blog",
    "social": "social media",
}


class StylePreset(BaseModel):
    name: str
    tone: str
    max_grade: float
    hashtags: int
    call_to_action: str
    title_pattern: str
    hook_pattern: str
    transitions: list[str]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown and prompts, never HTML
    )


@cache
def styles() -> dict[str, StylePreset]:
    raw = yaml.safe_load((TEMPLATE_DIR / "styles.yaml").read_text(encoding="utf-8"))
    return {name: StylePreset(name=name, **body) for name, body in raw.items()}


def style(name: str) -> StylePreset:
    return styles()[name]


def render_prompt(
    template: str, brief: Brief, findings: list[Finding], notes: list[str], **extra: Any
) -> str:
    """The instructions for ``template`` (a format template name or ``glue``)."""
    return _environment().get_template(f"prompts/{template}.j2").render(
        brief=brief,
        style=style(brief.style),
        format_label=FORMAT_LABELS[brief.format],
        findings=findings,
        notes=notes,
        **extra,
    )


def render_markdown(script: Script, brief: Brief, disclosure: str = "") -> str:
    """The finished piece as Markdown, citations numbered in order of first use."""
    numbers = {source.id: i + 1 for i, source in enumerate(script.citations)}

    def cite(section: Section) -> str:
        marks = sorted({numbers[s] for s in section.citations if s in numbers})
        return "".join(f"[{n}]" for n in marks)

    template = _environment().get_template(f"render/{TEMPLATE_FOR_FORMAT[script.format]}.md.j2")
    text = template.render(
        script=script,
        cite=cite,
        seconds=brief.target_seconds or round(script.word_count() / 2.5),
        disclosure=disclosure,
    )
    # Collapse the blank lines that template branches leave behind.
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
