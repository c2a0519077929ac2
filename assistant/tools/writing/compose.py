"""Grounded composition: build a piece's body from the best source sentences.

A 135M-parameter model cannot write 800 factual words, but it does not need to:
the knowledge base already holds well-formed, true sentences. This module ranks
them against the topic, groups them by the section of the source they came from,
and packs sections until the target length is reached. Every section keeps the
ids of the sources it quotes, so the piece cites exactly what it uses. The model
only writes the framing (title, hook, call to action) — see nodes/write.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.content import WORDS_PER_SECOND, Brief, Finding, Section
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences

# Sentences that lean on the previous one ("It ...", "This means ...") read badly alone.
_DANGLING = re.compile(
    r"^(it|this|that|these|those|they|such|he|she|its|their|both|however|also|then|so)\b",
    re.IGNORECASE,
)
MIN_WORDS, MAX_WORDS = 6, 45


@dataclass
class Candidate:
    text: str
    source_id: str
    heading: str
    position: tuple[int, int]  # (chunk index, sentence index): the source's own order
    score: float = 0.0

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class SectionPlan:
    heading: str
    sentences: list[Candidate] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(c.words for c in self.sentences)

    def to_section(self, wps: float = WORDS_PER_SECOND) -> Section:
        ordered = sorted(self.sentences, key=lambda c: (c.source_id, c.position))
        text = " ".join(c.text for c in ordered)
        sources = list(dict.fromkeys(c.source_id for c in ordered))
        return Section(
            heading=self.heading,
            text=text,
            target_seconds=round(len(text.split()) / wps, 1),
            citations=sources,
        )


def rank_sentences(topic: str, findings: Sequence[Finding], embedder: Embedder) -> list[Candidate]:
    """Every usable source sentence, scored by similarity to the topic."""
    seen: set[str] = set()
    candidates: list[Candidate] = []
    for finding in findings:
        for i, sentence in enumerate(split_sentences(finding.text)):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            n = len(sentence.split())
            if key in seen or not MIN_WORDS <= n <= MAX_WORDS or _DANGLING.match(sentence):
                continue
            seen.add(key)
            candidates.append(
                Candidate(sentence, finding.source_id, finding.heading, (finding.chunk_index, i))
            )
    if not candidates:
        return []
    vectors = embedder.embed([topic, *(c.text for c in candidates)])
    scores = vectors[1:] @ vectors[0]
    for candidate, score in zip(candidates, np.asarray(scores, dtype=float), strict=True):
        candidate.score = float(score)
    return candidates


def plan_sections(
    candidates: list[Candidate],
    *,
    target_words: int,
    max_sections: int,
    sentences_per_section: int,
    min_relative_score: float = 0.45,
) -> list[SectionPlan]:
    """Pick the strongest source sections and their best sentences, up to the target length."""
    if not candidates:
        return []
    best = max(c.score for c in candidates)
    floor = best * min_relative_score
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for c in candidates:
        if c.score >= floor:
            groups.setdefault((c.source_id, c.heading), []).append(c)

    def strength(members: list[Candidate]) -> float:
        top = sorted((m.score for m in members), reverse=True)[:2]
        return sum(top) / len(top)

    ranked = sorted(groups.items(), key=lambda kv: strength(kv[1]), reverse=True)
    plans: list[SectionPlan] = []
    total = 0
    for (_, heading), members in ranked:
        if len(plans) >= max_sections or total >= target_words:
            break
        room = target_words - total
        chosen: list[Candidate] = []
        for c in sorted(members, key=lambda m: m.score, reverse=True):
            if len(chosen) >= sentences_per_section:
                break
            if chosen and sum(x.words for x in chosen) + c.words > room + 15:
                continue
            chosen.append(c)
        if not chosen:
            continue
        plan = SectionPlan(heading=heading, sentences=chosen)
        plans.append(plan)
        total += plan.words
    # Read in the sources' own order: the most relevant source first, and each
    # source's sections as its author arranged them. Relevance order jumps about.
    source_rank: dict[str, int] = {}
    for plan in plans:
        source_rank.setdefault(plan.sentences[0].source_id, len(source_rank))
    return sorted(plans, key=lambda p: (source_rank[p.sentences[0].source_id],
                                        min(c.position for c in p.sentences)))


# Per format: (max sections, sentences per section); the spoken budget leaves room
# for the hook and the call to action.
LAYOUT: dict[str, tuple[int, int]] = {
    "short": (4, 1),
    "video": (6, 4),
    "podcast": (7, 6),
    "blog": (7, 7),
    "social": (3, 1),
}
FRAMING_WORDS = 25  # hook + call to action, roughly


def compose_body(brief: Brief, candidates: list[Candidate]) -> list[Section]:
    """The body sections of ``brief``'s piece, from ranked candidates."""
    max_sections, per_section = LAYOUT[brief.format]
    budget = max(brief.target_words - FRAMING_WORDS, 20)
    plans = plan_sections(
        candidates,
        target_words=budget,
        max_sections=max_sections,
        sentences_per_section=per_section,
    )
    return [p.to_section() for p in plans]


def topic_words(topic: str) -> set[str]:
    """Content words of a topic, for checking that generated text is on topic."""
    stop = {
        "a", "an", "the", "how", "why", "what", "when", "where", "who", "does", "do", "is",
        "are", "of", "to", "in", "on", "for", "and", "or", "about", "work", "works", "make",
    }
    words = {w for w in re.findall(r"[a-z0-9]+", topic.lower()) if w not in stop and len(w) > 2}
    stems = {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words}
    return stems or set(re.findall(r"[a-z0-9]+", topic.lower()))


def mentions_topic(text: str, topic: str) -> bool:
    lowered = text.lower()
    return any(stem in lowered for stem in topic_words(topic))
