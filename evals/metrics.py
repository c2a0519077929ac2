"""Truth metrics for one finished script, computed by the same code QA runs.

Shares are in [0, 1]; counts are whole numbers (0 is the goal).

- on_topic: share of sections the research relevance gate keeps for the request
  (quality/topic.py: MiniLM similarity to the topic and its key terms' weight);
- unsupported: share of factual sentences that no retrieved passage of a cited source backs
  (quality/truth.py, on the writer's verifier quality/support.py);
- invented: numbers and names the script states that no retrieved passage contains;
- repeated_sentences / repeated_runs: sentences said twice; six-word runs said twice;
- length_ratio: words / target; length_ok: within +-15% of the target, or short with the
  writer's "sources too thin" note (an honest stop, reported as such);
- fact_recall: share of the case's key facts the body states (any listed spelling; a fact
  written as it must appear, e.g. "3 March 2027", must appear exactly so);
- citation_coverage: share of sections citing a source this job retrieved;
- source_recall: share of the expected sources that the script cites;
- reading_grade: Flesch-Kincaid grade of the body (a level, not a share).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from assistant.content import Brief, Research, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.style import repeated_runs, repeated_sentences
from assistant.tools.quality.text import THIN, length_bounds, reading_grade
from assistant.tools.quality.topic import section_topics
from assistant.tools.quality.truth import invented_facts, unsupported_sentences
from assistant.tools.research.terms import TermStats


@dataclass
class Scores:
    on_topic: float
    unsupported: float
    invented: int
    repeated_sentences: int
    repeated_runs: int
    length_ratio: float
    length_ok: bool
    thin: bool
    fact_recall: float
    citation_coverage: float
    source_recall: float
    reading_grade: float
    words: int
    sentences: int
    # What QA's checks found wrong, where: read in the JSON next to what the case wrote.
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int | bool | list[str]]:
        return asdict(self)


def on_topic_rate(script: Script, research: Research, brief: Brief,
                  embedder: Embedder, stats: TermStats | None = None) -> float:
    topics = section_topics(script, research, brief, embedder, stats)
    if not topics:
        return 0.0
    return sum(t.on_topic for t in topics) / len(topics)


def unsupported_rate(script: Script, research: Research,
                     embedder: Embedder) -> tuple[float, int, list[str]]:
    """(share of factual sentences unsupported, how many factual sentences there were,
    each unsupported one with where and why)."""
    problems, checked = unsupported_sentences(script, research, embedder)
    return (len(problems) / checked if checked else 0.0), checked, [str(p) for p in problems]


def invented_count(script: Script, research: Research, brief: Brief | None = None) -> int:
    return len(invented_list(script, research, brief))


def invented_list(script: Script, research: Research, brief: Brief | None = None) -> list[str]:
    """Each invented number or name, with where it is."""
    return [f"{p.where}: invented {fact!r}" for p in invented_facts(script, research, brief)
            for fact in p.facts]


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


def _flat(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def fact_recall(script: Script, facts: Sequence[Sequence[str]]) -> float:
    """Share of ``facts`` stated; a spelling with a digit or a capital must match exactly
    (case included), a lower-case one matches any case."""
    if not facts:
        return 1.0
    body = _flat(script.body_text())
    lowered = body.lower()

    def said(spelling: str) -> bool:
        spelling = _flat(spelling)
        exact = any(c.isdigit() or c.isupper() for c in spelling)
        if not exact:  # a stem ("gravit") may sit inside a word
            return spelling.lower() in lowered
        # Whole words only: "16 m" is not said by "16 metres", nor "3 March" by "13 March".
        return re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", body) is not None

    return sum(any(said(s) for s in fact) for fact in facts) / len(facts)


def length_fit(script: Script, brief: Brief) -> tuple[float, bool, bool]:
    """(words / target, within tolerance or honestly short, the writer said 'too thin')."""
    target = brief.target_words
    ratio = script.word_count() / target if target > 0 else 1.0
    thin = any(THIN in note.lower() for note in script.notes)
    low, high = length_bounds(target)
    within = target <= 0 or low <= script.word_count() <= high
    return ratio, within or (thin and ratio < 1), thin


def score(script: Script, research: Research, brief: Brief, expected_sources: Sequence[str],
          facts: Sequence[Sequence[str]], embedder: Embedder,
          stats: TermStats | None = None) -> Scores:
    ratio, length_ok, thin = length_fit(script, brief)
    unsupported, sentences, unbacked = unsupported_rate(script, research, embedder)
    invented = invented_list(script, research, brief)
    return Scores(
        on_topic=round(on_topic_rate(script, research, brief, embedder, stats), 3),
        unsupported=round(unsupported, 3),
        invented=len(invented),
        repeated_sentences=len(repeated_sentences(script)),
        repeated_runs=len(repeated_runs(script)),
        length_ratio=round(ratio, 3),
        length_ok=length_ok,
        thin=thin,
        fact_recall=round(fact_recall(script, facts), 3),
        citation_coverage=round(citation_coverage(script, research), 3),
        source_recall=round(source_recall(script, expected_sources), 3),
        reading_grade=reading_grade(script.body_text()),
        words=script.word_count(),
        sentences=sentences,
        problems=unbacked + invented,
    )
