"""Scores for one finished script, each in [0, 1] unless named otherwise.

- grounding: share of the body's sentences supported by a research finding (most of their
  content words appear in one finding) — the opposite of made-up claims;
- citation_coverage: share of sections that cite at least one source the research found;
- source_recall: share of the expected sources that the script cites;
- fact_coverage: share of the expected facts the body states (any listed spelling);
- length_fit: 1 at the brief's target length, falling linearly to 0 at half or double it;
- reading_grade: Flesch-Kincaid grade of the body (a level, not a share).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from assistant.content import Brief, Research, Script
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.text import reading_grade

_WORD = re.compile(r"[a-z][a-z'-]+")
# Words that carry no claim: a sentence is judged by what is left.
_STOP_WORDS = """a an and are as at be been but by can do does for from had has have how
in into is it its it's not of on or so than that the their them then there these they this
to up was we were what when where which while who why will with you your our more most
also about over just very"""
_STOP = frozenset(_STOP_WORDS.split())
SUPPORT_THRESHOLD = 0.6


@dataclass
class Scores:
    grounding: float
    citation_coverage: float
    source_recall: float
    fact_coverage: float
    length_fit: float
    reading_grade: float
    words: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def content_words(text: str) -> set[str]:
    return {w.strip("'-") for w in _WORD.findall(text.lower())} - _STOP


def supported(sentence: str, evidence: Sequence[set[str]]) -> bool:
    words = content_words(sentence)
    if len(words) < 3:  # "Follow for more." states nothing to check
        return True
    return any(len(words & found) / len(words) >= SUPPORT_THRESHOLD for found in evidence)


def grounding(script: Script, research: Research) -> float:
    evidence = [content_words(f.text) for f in research.findings]
    sentences = [s for section in script.sections for s in split_sentences(section.text)]
    if not sentences:
        return 0.0
    return sum(supported(s, evidence) for s in sentences) / len(sentences)


def citation_coverage(script: Script, research: Research) -> float:
    known = {s.id for s in research.sources}
    if not script.sections:
        return 0.0
    cited = [bool(set(section.citations) & known) for section in script.sections]
    return sum(cited) / len(cited)


def source_recall(script: Script, expected: Sequence[str]) -> float:
    if not expected:
        return 1.0
    titles = [s.title.lower() for s in script.citations]
    return sum(any(e.lower() in t for t in titles) for e in expected) / len(expected)


def fact_coverage(script: Script, facts: Sequence[Sequence[str]]) -> float:
    if not facts:
        return 1.0
    body = script.body_text().lower()
    return sum(any(spelling.lower() in body for spelling in fact) for fact in facts) / len(facts)


def length_fit(words: int, target: int) -> float:
    if target <= 0:
        return 1.0
    ratio = words / target
    if ratio <= 0:
        return 0.0
    if ratio < 1:
        return max(0.0, (ratio - 0.5) / 0.5)
    return max(0.0, (2.0 - ratio) / 1.0)


def score(script: Script, research: Research, brief: Brief, expected_sources: Sequence[str],
          facts: Sequence[Sequence[str]]) -> Scores:
    words = script.word_count()
    return Scores(
        grounding=round(grounding(script, research), 3),
        citation_coverage=round(citation_coverage(script, research), 3),
        source_recall=round(source_recall(script, expected_sources), 3),
        fact_coverage=round(fact_coverage(script, facts), 3),
        length_fit=round(length_fit(words, brief.target_words), 3),
        reading_grade=reading_grade(script.body_text()),
        words=words,
    )
