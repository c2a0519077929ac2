"""Markdown to plain text in sections, by markdown-it-py (CommonMark, plus GFM tables and
strikethrough).

Headings start sections (the first level-1 heading is the title); paragraphs, list items,
quotes, table rows and HTML blocks become paragraphs of plain text; code blocks are dropped
(code is no prose to cite, and its ``# lines`` are no headings); links and images leave
their text, emphasis and inline HTML leave nothing. YAML front matter is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^>]*>", re.DOTALL)
_DROPPED_BLOCKS = frozenset({"fence", "code_block"})


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _plain(children: Sequence[Token] | None) -> str:
    """The text an inline token's children show, without markup."""
    parts: list[str] = []
    for child in children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain(child.children) or child.content)  # the alt text
    return " ".join("".join(parts).split())


def strip_inline_markdown(text: str) -> str:
    """One line of Markdown as plain text: ``**all** [colours](url)`` -> ``all colours``."""
    tokens = _parser().parseInline(text)
    return _plain(tokens[0].children) if tokens else ""


def _front_matter_end(lines: list[str]) -> int:
    """The index of the first line after a YAML front matter block (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return 0
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), 0)
    return end + 1 if end else 0


def parse_markdown(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """(title, [(heading, text)]) of a Markdown document; heading "" before the first one."""
    lines = raw.splitlines()
    tokens = _parser().parse("\n".join(lines[_front_matter_end(lines):]))
    title = ""
    sections: list[tuple[str, str]] = []
    heading = ""
    paragraphs: list[str] = []
    row: list[str] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            sections.append((heading, "\n\n".join(paragraphs)))
            heading, paragraphs = _plain(tokens[i + 1].children), []
            if token.tag == "h1" and not title:
                title = heading
            i += 3  # heading_open, inline, heading_close
            continue
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if any(row):
                paragraphs.append(" — ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = _plain(token.children)
            if row is not None:
                row.append(text)
            elif text:
                paragraphs.append(text)
        elif token.type == "html_block":
            text = " ".join(_TAG.sub(" ", token.content).split())
            if text:
                paragraphs.append(text)
        elif token.type in _DROPPED_BLOCKS:
            pass
        i += 1
    sections.append((heading, "\n\n".join(paragraphs)))
    return title, sections
