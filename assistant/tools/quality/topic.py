"""Is every section about the request? The research step's relevance gate, applied again.

Research keeps only passages about the request (assistant/tools/research/relevance.py:
MiniLM similarity to the topic AND the topic's key terms, by weight); QA judges each
finished section the same way, titled by the sources it cites, so a writer that strays from
its passages, or strings look-alike passages together, is caught. Shared words alone are
the trap: a piece on "blue whales" built from the page on why the sky is blue says "blue"
in every sentence, and the gate refuses it (similarity 0.19-0.28, key-term coverage 0.29).

The gate was calibrated on passages of up to 90 words; on the sample pages' whole sections
it keeps every section for its own topic and none for the look-alike ones (tests/tools/
test_qa_content.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.content import Brief, Research, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.claims import STOP_WORDS, clip
from assistant.tools.quality.truth import Problem
from assistant.tools.research.relevance import COVER_MIN, SIM_MIN, Gate, Passage
from assistant.tools.research.terms import TermStats


def gate_stats(language: str) -> TermStats | None:
    """The term rarities research weighs key terms by (the offline encyclopedia's), or None
    when that edition is not installed: then every key term weighs alike."""
    from assistant.errors import ConfigError
    from assistant.tools.research.encyclopedia_index import term_stats

    try:
        return term_stats(language)
    except ConfigError:
        return None


@dataclass
class SectionTopic:
    number: int
    similarity: float
    coverage: float
    on_topic: bool


def section_topics(script: Script, research: Research, brief: Brief, embedder: Embedder,
                   stats: TermStats | None = None) -> list[SectionTopic]:
    """How close each section is to the topic, and whether the gate keeps it.

    ``stats``: term rarities (the encyclopedia's, as research uses); None weighs every key
    term alike and requires none."""
    if not script.sections:
        return []
    titles = {s.id: s.title for s in research.sources}
    passages = [
        Passage(text=section.text, doc=0, position=n,
                title=" / ".join(titles[c] for c in section.citations if c in titles),
                heading=section.heading)
        for n, section in enumerate(script.sections, 1)
    ]
    Gate(brief.topic, embedder, stats, brief.language).judge(passages)
    return [SectionTopic(p.position, p.similarity, p.coverage, p.kept) for p in passages]


def off_topic_sections(script: Script, research: Research, brief: Brief, embedder: Embedder,
                       stats: TermStats | None = None) -> list[Problem]:
    problems = []
    for st in section_topics(script, research, brief, embedder, stats):
        if st.on_topic:
            continue
        why = []
        if st.similarity < SIM_MIN:
            why.append(f"similarity {st.similarity:.2f} < {SIM_MIN}")
        if st.coverage < COVER_MIN:
            why.append(f"names {st.coverage:.0%} of the topic's key terms (< {COVER_MIN:.0%})")
        reasons = "; ".join(why) or "a name the topic requires is missing"
        problems.append(Problem(f"section {st.number}", f"not about {brief.topic!r}: {reasons}",
                                clip(script.sections[st.number - 1].text)))
    return problems


# --- key terms, for the hook --------------------------------------------------------------

# Words of a request that say what kind of piece it is, not what it is about.
_GENERIC_TEXT = """how why what when where who which does do work works working make
makes made explain explained explainer guide introduction intro basics overview beginners
story history facts fact things thing everything need know learn tips best top simple
simply really actually quick short video blog post podcast episode about"""
_GENERIC = frozenset(_GENERIC_TEXT.split())


def key_terms(topic: str) -> set[str]:
    """The topic's content words, crudely stemmed ("tides" -> "tide")."""
    words = re.findall(r"[a-z0-9]+", topic.lower())
    terms = {w for w in words if w not in STOP_WORDS and w not in _GENERIC and len(w) > 2}
    return {_stem(w) for w in terms}


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def names_terms(text: str, terms: set[str]) -> set[str]:
    """The key terms ``text`` contains (a term matches a word that starts with it)."""
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    return {t for t in terms if any(w.startswith(t) for w in words)}
