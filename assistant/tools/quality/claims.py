"""What a script claims, and where: its sentences located by field, and the facts they state.

Every content check in QA (support, invented facts, repetition, on-topic) and every truth
metric in evals/ reads a script through these helpers, so a failure can say *where*
("section 2: 'The Moon orbits ...'") and the evals count exactly what QA flags.

Facts are the checkable atoms of a sentence: numbers (normalised: "384,400" == "384400",
"46%" == "46") and names (runs of capitalised words that are not merely a sentence's first
word: "Bay of Fundy", "NASA"). A fact a script states must appear in a retrieved passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.content import Research, Script
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

# Number: digits with thousands separators and decimals; "2022-2023" is two numbers.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?")
# A capitalised token (names, acronyms); apostrophes inside ("O'Neill"), possessive stripped.
_CAPITAL = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:['’][A-Za-z]+)?(?:-[A-Za-z0-9]+)*")
# Small words that sit inside a name: "Bay of Fundy", "Gulf of Mexico", "Leonardo da Vinci".
_CONNECTORS = frozenset({"of", "the", "de", "da", "del", "van", "von", "and", "for", "on"})
_REDACTED = re.compile(r"\[redacted [a-z ]+\]")


def clip(text: str, limit: int = CLIP) -> str:
    """``text`` on one line, cut to ``limit`` characters for a QA message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def content_words(text: str) -> set[str]:
    return {w.strip("'-") for w in _WORD.findall(text.lower())} - STOP_WORDS - {""}


def normalise_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def numbers_in(text: str) -> set[str]:
    return {normalise_number(m.group()) for m in _NUMBER.finditer(_REDACTED.sub("", text))}


def _sentence_starts(text: str) -> set[int]:
    """Offsets where a sentence (or a clause after a colon or a quote) begins."""
    starts = {0}
    for match in re.finditer(r"(?:[.!?:;]|^)[\"'“‘(\s]*", text, flags=re.MULTILINE):
        starts.add(match.end())
    return starts


def names_in(text: str) -> set[str]:
    """Names ``text`` states, lower-cased: runs of capitalised words, joined by connectors.

    A lone capitalised word at a sentence's start is not a name (it is just a first word);
    an acronym (two or more capitals) is one wherever it stands.
    """
    text = _REDACTED.sub("", text)
    starts = _sentence_starts(text)
    names: set[str] = set()
    tokens = list(re.finditer(r"\S+", text))
    i = 0
    while i < len(tokens):
        word = tokens[i].group().strip("\"'“”‘’()[],.;:!?")
        if not _CAPITAL.fullmatch(word) or word == "I":
            i += 1
            continue
        run = [word]
        raw = tokens[i].group()
        lead = len(raw) - len(raw.lstrip("\"'“‘("))
        first_at_start = any(tokens[i].start() + k in starts for k in range(lead + 1))
        j = i + 1
        while j < len(tokens):
            nxt = tokens[j].group().strip("\"'“”‘’()[],.;:!?")
            prev_raw = tokens[j - 1].group()
            if prev_raw[-1:] in ".,;:!?)":  # punctuation ends a name
                break
            if _CAPITAL.fullmatch(nxt):
                run.append(nxt)
            elif nxt.lower() in _CONNECTORS and j + 1 < len(tokens) and _CAPITAL.fullmatch(
                    tokens[j + 1].group().strip("\"'“”‘’()[],.;:!?")):
                run.append(nxt.lower())
            else:
                break
            j += 1
        while run and run[-1] in _CONNECTORS:
            run.pop()
        acronym = sum(ch.isupper() for ch in run[0]) >= 2
        if first_at_start and not acronym and (len(run) == 1 or run[1] in _CONNECTORS):
            run = run[1:]  # "Follow the NASA page" -> "NASA": a first word is no name
        elif first_at_start and run[0].lower() in STOP_WORDS:
            run = run[1:]  # "The Bay of Fundy" -> "Bay of Fundy"
        while run and run[0] in _CONNECTORS:
            run.pop(0)
        if run:
            names.add(" ".join(re.sub(r"['’]s$", "", w) for w in run).lower())
        i = j
    return names


def facts_in(text: str) -> set[str]:
    """The numbers and names ``text`` states (see the module docstring)."""
    return numbers_in(text) | {f"name:{n}" for n in names_in(text)}


@dataclass
class Evidence:
    """What this job retrieved, indexed once for the checks: passages, their facts, words."""

    research: Research
    text: str = ""
    numbers: set[str] = field(default_factory=set)
    by_source: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, research: Research, extra: Iterable[str] = ()) -> Evidence:
        """``extra``: further text the piece may repeat without a source (the request)."""
        passages = [f.text for f in research.findings]
        titles = [s.title for s in research.sources]
        text = " ".join([*passages, *titles, *extra])
        by_source: dict[str, list[str]] = {}
        for finding in research.findings:
            by_source.setdefault(finding.source_id, []).append(finding.text)
        return cls(research, " ".join(text.lower().split()), numbers_in(text), by_source)

    def knows(self, fact: str) -> bool:
        """Whether a fact (from :func:`facts_in`) appears anywhere in what was retrieved."""
        if fact.startswith("name:"):
            return re.search(rf"(?<![a-z0-9]){re.escape(fact[5:])}", self.text) is not None
        return fact in self.numbers


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
