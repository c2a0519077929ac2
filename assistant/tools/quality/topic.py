"""Is every section about the request? Embedding similarity to the topic plus its key terms.

Shared words alone are a trap: a piece on "blue whales" built from a page on why the sky is
blue says "blue" in every sentence. So a section is on topic when MiniLM puts it close to
the topic, or when it is moderately close *and* names the topic's key terms (in its text,
its heading or the titles of the sources it cites). A section that is neither is off topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.content import Brief, Research, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.claims import STOP_WORDS, clip
from assistant.tools.quality.truth import Problem

# Measured with all-MiniLM-L6-v2 on the sample knowledge base: its pages' sections score
# 0.37-0.84 against their own topic and at most 0.35 against the nearest unrelated one
# (the photosynthesis page's light section against "why the sky is blue"); single
# sentences overlap more (on topic: 10th percentile 0.27; unrelated: 95th 0.28).
CLOSE = 0.45  # close enough on its own
NEAR = 0.20  # close enough when it also names the key terms

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


def _enough(found: set[str], terms: set[str]) -> bool:
    # Every key term of a short topic; all but one of a longer one ("spring and neap tides"
    # still holds a section on tides and spring tides).
    need = len(terms) if len(terms) <= 2 else len(terms) - 1
    return len(found) >= need


@dataclass
class SectionTopic:
    number: int
    similarity: float
    terms: set[str]
    on_topic: bool


def section_topics(script: Script, research: Research, brief: Brief,
                   embedder: Embedder | None) -> list[SectionTopic]:
    """How close each section is to the topic, and whether it counts as on topic."""
    if not script.sections:
        return []
    terms = key_terms(brief.topic)
    titles = {s.id: s.title for s in research.sources}
    texts = [f"{s.heading}. {s.text}" if s.heading else s.text for s in script.sections]
    if embedder is not None:
        vectors = np.asarray(embedder.embed([brief.topic, *texts]), dtype=float)
        sims = [float(v @ vectors[0]) for v in vectors[1:]]
    else:  # no embedder: the key terms must carry it, and every one must be named
        sims = [NEAR] * len(texts)
    out: list[SectionTopic] = []
    for n, (section, text, sim) in enumerate(zip(script.sections, texts, sims, strict=True), 1):
        context = " ".join([text, *(titles.get(c, "") for c in section.citations)])
        found = names_terms(context, terms)
        if embedder is None:
            on = bool(terms) and found == terms
        else:
            on = sim >= CLOSE or (sim >= NEAR and bool(terms) and _enough(found, terms))
        out.append(SectionTopic(n, round(sim, 3), found, on))
    return out


def off_topic_sections(script: Script, research: Research, brief: Brief,
                       embedder: Embedder | None) -> list[Problem]:
    terms = key_terms(brief.topic)
    problems = []
    for st in section_topics(script, research, brief, embedder):
        if st.on_topic:
            continue
        section = script.sections[st.number - 1]
        missing = sorted(terms - st.terms)
        why = f"similarity {st.similarity:.2f} to {brief.topic!r}"
        if missing:
            why += f"; does not name {', '.join(missing)}"
        problems.append(Problem(f"section {st.number}", f"off topic ({why})",
                                clip(section.text)))
    return problems
