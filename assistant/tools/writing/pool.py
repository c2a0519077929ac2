"""The source sentences a piece may state: split, cleaned, embedded, each usable once.

Every sentence the writer keeps is one of these or a verified rephrasing of one, so the
pool is the writer's whole stock of facts. A sentence that cannot stand alone ("It ...",
"This means ..."), poses a question it does not answer, talks about the page itself
("Source notes: ...") or is far from the topic never enters it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.content import Finding
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.facts import facts_in
from assistant.tools.quality.support import content_words
from assistant.tools.writing.outline import Beat

MIN_WORDS, MAX_WORDS = 6, 45
# Leaning on the sentence before reads as nonsense once the sentence is moved.
_DANGLING = re.compile(
    r"^(it|this|that|these|those|they|such|he|she|its|their|both|however|also|then|so|"
    r"here|there|another|other|but|and|or|because|which|thus|hence|instead|meanwhile|"
    r"similarly|likewise|finally|first|second|third|next|"
    r"the (resulting|latter|former|above|aforementioned|previous))\b",
    re.IGNORECASE,
)
# Sentences about the document, not the subject.
_META = re.compile(
    r"^(source notes?|sources?|see also|note|notes|copyright|last updated|written by)\b|"
    r"\b(this (page|article|document|section|guide)|knowledge base|click here|read more)\b",
    re.IGNORECASE,
)
# A sentence that raises a question ("a natural question is why ...") needs its answer
# next to it; alone it leaves the reader asking.
_POSES = re.compile(r"\?\s*$|\b(a|the) (natural |obvious )?question\b", re.IGNORECASE)
DEFINES = re.compile(r"^(the |an? )?[\w-]+( [\w-]+)? (is|are) (an?|the) ", re.IGNORECASE)
NEAR_DUPLICATE = 0.92  # two pages saying the same thing: keep the first
# Research already keeps only passages about the topic; inside them a sentence on the
# mechanism ("Lord Rayleigh showed in 1871 ...") may score 0.3 against "why the sky is blue",
# so the floor only drops what is plainly about something else.
TOPIC_FLOOR = 0.15
TOPIC_RELATIVE = 0.3  # of the best sentence's score
# A sentence that names no topic word must be near the topic, or come from a source that is
# about it: the relevance gate lets in pages that merely mention the topic ("Surfing": a
# tidal bore), whose other sentences are about something else.
NEAR_TOPIC = 0.45
STRONG_SOURCE = 0.5  # a source whose best sentence scores this is about the topic


@dataclass
class SourceSentence:
    """One citable sentence of a retrieved passage."""

    index: int
    text: str
    source_id: str
    heading: str
    position: tuple[int, int]  # (chunk index, sentence index): the source's own order
    topic_score: float = 0.0
    facts: int = 0  # numbers and names it states: what makes a "surprising fact"
    facet: str = ""  # the research facet whose query found its passage
    named: float = 0.0  # share of the topic's words it names ("sky" and "blue": 1.0)

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def lead(self) -> float:
        """A bonus for a source's opening sentences: authors put what a thing is and why it
        happens first, where MiniLM alone prefers whichever sentence repeats the topic's
        words ("sky", "blue") over the one that explains it."""
        chunk, sentence = self.position
        return 0.1 * max(0.0, 1 - sentence / 4) if chunk == 0 else 0.0


@dataclass
class Pool:
    """The usable sentences, their vectors, and which ones the piece has used."""

    sentences: list[SourceSentence]
    vectors: np.ndarray
    topic_vector: np.ndarray
    embedder: Embedder
    used: set[int] = field(default_factory=set)
    titles: dict[str, str] = field(default_factory=dict)  # source id -> title, for headings
    # Sources about the topic as a whole (the person's own page on it): every section of
    # one may fill a beat, however little of it repeats the topic's words.
    about: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.sentences)

    def free(self) -> list[SourceSentence]:
        return [s for s in self.sentences if s.index not in self.used]

    def use(self, sentence: SourceSentence) -> None:
        self.used.add(sentence.index)

    def similarity(self, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` to every pooled sentence."""
        if not self.sentences:
            return np.zeros(0)
        return np.asarray(self.vectors @ self.embedder.embed([text])[0], dtype=float)

    def scores(self, beat: Beat, topic: str) -> np.ndarray:
        """Every sentence's fit to ``beat``: near the beat's query and the topic, doing the
        beat's job (its cue words; numbers and names where it wants facts; found by the
        research facet the beat draws on), and not a second wording of what the piece
        already says (maximal marginal relevance)."""
        if not self.sentences:
            return np.zeros(0)
        sims = self.similarity(beat.query_for(topic))
        used = sorted(self.used)
        redundancy = (np.max(self.vectors @ self.vectors[used].T, axis=1) if used
                      else np.zeros(len(self.sentences)))
        out = np.zeros(len(self.sentences))
        # On a page about the topic as a whole every sentence is about it: how often one
        # repeats the topic's words says nothing, so the beat decides ("Residents should
        # fill a kettle ..." is what to do; "The new main is 1.2 kilometres ..." is not).
        whole: dict[str, float] = {}
        for x in self.sentences:
            if x.source_id in self.about:
                whole[x.source_id] = max(whole.get(x.source_id, 0.0), x.topic_score)
        for s in self.sentences:
            topical, named = (whole[s.source_id], 1.0) if s.source_id in whole else (
                s.topic_score, s.named)
            value = 0.45 * sims[s.index] + 0.4 * topical + s.lead + 0.08 * named
            value += 0.08 * min(beat.cues_in(s.text), 2)
            value += 0.06 * min(s.facts, 2) if beat.wants_facts else 0.0
            value += 0.05 if s.facet and s.facet in beat.facets else 0.0
            value -= 0.3 * max(0.0, float(redundancy[s.index]) - 0.3)
            if beat.key != "what" and DEFINES.match(s.text):
                value -= 0.08  # "The sky is an unobstructed view ..." defines; it is no example
            out[s.index] = value
        return out

    def rank(self, beat: Beat, topic: str) -> list[SourceSentence]:
        """Free sentences, best first for ``beat``."""
        scores = self.scores(beat, topic)
        return sorted(self.free(), key=lambda s: -scores[s.index])

    def by_source(self, source_ids: Sequence[str]) -> list[SourceSentence]:
        wanted = set(source_ids)
        return [s for s in self.sentences if s.source_id in wanted]

    def text_of(self, source_ids: Sequence[str] | None = None) -> str:
        """All pooled text (of some sources): what title and description may draw on."""
        chosen = self.sentences if source_ids is None else self.by_source(source_ids)
        return " ".join(s.text for s in chosen)


def _terms(text: str) -> set[str]:
    """Stemmed content words ("tides", "tidal" -> "tid"): enough to tell whether a sentence
    names the topic at all."""
    words = content_words(text) - {"work", "worki", "happen", "mean", "explai"}
    return {w[:3] if len(w) <= 4 else w[:-2] if w.endswith(("al", "es")) else w.rstrip("s")
            for w in words}


# "Like the Mediterranean Sea, it has ...": the subject is in the sentence before.
_LEANS_BACK = re.compile(r"^[^,]{0,60}, (it|they|this|these|he|she)\b", re.IGNORECASE)


def usable(sentence: str) -> bool:
    n = len(sentence.split())
    return (MIN_WORDS <= n <= MAX_WORDS and not _DANGLING.match(sentence)
            and not _LEANS_BACK.match(sentence)
            and not _META.search(sentence) and not _POSES.search(sentence)
            and sentence[:1].isupper() and sentence.rstrip()[-1:] in ".!\"'”)")


# Judges (sentence, source title, heading) triples: the relevance gate, when the caller has one.
Keep = Callable[[list[tuple[str, str, str]]], list[bool]]


def build_pool(topic: str, findings: Sequence[Finding], embedder: Embedder,
               titles: dict[str, str] | None = None, keep: Keep | None = None,
               about: set[str] | None = None) -> Pool:
    """Every usable sentence of ``findings`` that is about ``topic``, de-duplicated;
    ``keep`` (research's relevance gate) may refuse sentences the topic filter let by.

    A sentence of a source in ``about`` (a page about the topic as a whole) is about the
    topic by construction: the similarity floor, which drops what is plainly about something
    else, does not apply to it. On the Harrowgate Lane notice, "Residents should fill a
    kettle ..." scores 0.29 against the request and "The old cast-iron main was laid in
    1931 ..." under 0.24: both are what a reader of the notice needs."""
    about = about or set()
    raw: list[tuple[str, Finding, int]] = []
    seen: set[str] = set()
    for finding in findings:
        for i, sentence in enumerate(split_sentences(finding.text)):
            key = re.sub(r"\W+", " ", sentence.lower()).strip()
            if key in seen or not usable(sentence):
                continue
            seen.add(key)
            raw.append((sentence, finding, i))
    titles = titles or {}
    if keep is not None and raw:
        verdicts = keep([(t, titles.get(f.source_id, ""), f.heading) for t, f, _ in raw])
        raw = [r for r, ok in zip(raw, verdicts, strict=True) if ok]
    vectors = embedder.embed([topic, *(r[0] for r in raw)])
    topic_vector, body = vectors[0], vectors[1:]
    scores = np.asarray(body @ topic_vector, dtype=float) if raw else np.zeros(0)
    floor = max(TOPIC_FLOOR, float(scores.max()) * TOPIC_RELATIVE) if raw else 0.0
    strength: dict[str, float] = {}
    for (_, finding, _), score in zip(raw, scores, strict=True):
        strength[finding.source_id] = max(strength.get(finding.source_id, 0.0), float(score))
    strong = max(STRONG_SOURCE, 0.75 * float(scores.max())) if raw else 1.0
    terms = _terms(topic)
    kept: list[SourceSentence] = []
    rows: list[int] = []
    # Shortest first: of two pages saying the same thing, the plainer sentence stays.
    order = sorted(range(len(raw)), key=lambda r: len(raw[r][0].split()))
    for row in order:
        (text, finding, i), score = raw[row], scores[row]
        named = len(terms & _terms(text)) / max(len(terms), 1)
        whole_page = finding.source_id in about
        if not whole_page and (score < floor or not (
                named > 0 or score >= NEAR_TOPIC or strength[finding.source_id] >= strong)):
            continue
        if rows and float(np.max(body[rows] @ body[row])) > NEAR_DUPLICATE:
            continue
        kept.append(SourceSentence(len(kept), text, finding.source_id, finding.heading,
                                   (finding.chunk_index, i), float(score),
                                   len(facts_in(text)), finding.facet, named))
        rows.append(row)
    return Pool(kept, body[rows] if rows else np.zeros((0, embedder.dim), dtype=np.float32),
                topic_vector, embedder, titles=titles, about=about)
