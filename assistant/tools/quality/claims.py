"""What a script says, and where: its sentences located by field ("section 2", "hook").

Every content check in QA (support, invented facts, repetition) and every truth metric in
evals/ reads a script through these helpers, so a failure can say *where* ("section 2:
'The Moon orbits ...'") and the evals count exactly what QA flags. The facts a sentence
states (numbers, dates, names) are the writer's verifier's: quality/facts.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.content import Script
from assistant.tools.knowledge.loaders import split_sentences

CLIP = 80

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
# Words that carry no claim: a sentence is judged by what is left.
_STOP_WORDS_TEXT = """a an and are as at be been being but by can could did do does
doing for from had has have having how i if in into is it its it's itself just more most
not no nor of on once only or other our out over own same she he so some such than that
the their theirs them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours also
about each both few any all just may might must shall should here much many every
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

def clip(text: str, limit: int = CLIP) -> str:
    """``text`` on one line, cut to ``limit`` characters for a QA message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def content_words(text: str) -> set[str]:
    return {w.strip("'-") for w in _WORD.findall(text.lower())} - STOP_WORDS - {""}


@dataclass
class Located:
    """One sentence of the script and where it stands."""

    where: str  # "title", "hook", "section 2", "call to action", "description"
    text: str
    section: int | None = None  # 1-based, for sections
    citations: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.where}: {clip(self.text)!r}"


def fields_of(script: Script) -> list[tuple[str, str, int | None, list[str]]]:
    """(where, text, section number, citations) for every field a reader sees."""
    out: list[tuple[str, str, int | None, list[str]]] = [
        ("title", script.title, None, []), ("hook", script.hook, None, [])]
    for n, section in enumerate(script.sections, 1):
        out.append((f"section {n}", section.text, n, list(section.citations)))
    out += [("call to action", script.call_to_action, None, []),
            ("description", script.description, None, [])]
    return [f for f in out if f[1].strip()]


def sentences_of(script: Script, *, only: Iterable[str] | None = None) -> list[Located]:
    """Every sentence of the script, located; ``only`` keeps some fields ("hook", "section")."""
    keep = tuple(only) if only is not None else None
    located: list[Located] = []
    for where, text, n, cites in fields_of(script):
        if keep is not None and not where.startswith(keep):
            continue
        for sentence in split_sentences(text) or [text]:
            if sentence.strip():
                located.append(Located(where, sentence.strip(), n, cites))
    return located


def body_sentences(script: Script) -> list[Located]:
    """What a reader reads or a voice speaks, in order: hook, sections, call to action."""
    return sentences_of(script, only=("hook", "section", "call to action"))
