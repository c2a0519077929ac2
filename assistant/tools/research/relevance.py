"""The relevance gate: only passages about the request reach the writer.

A retriever always returns its *nearest* texts, and nearest is not relevant: for "how
octopuses change colour" the knowledge base's nearest chunks were about chlorophyll and the
blue sky. So every passage is judged against the request on two independent signals:

1. meaning: MiniLM cosine similarity between the request and "title: passage" at least
   ``SIM_MIN``;
2. words: the passage (with its document's title, which it inherits as context) mentions
   at least ``COVER_MIN`` of the request's key-term weight (terms weighted by rarity in the
   encyclopedia: assistant/tools/research/terms.py), and every *required* term (a rare name
   such as "Zorvath", in no article at all).

Either alone fails: meaning alone lets "Color" pass for octopuses, words alone let a page
that says "institute" and "budget" pass for the Zorvath Institute's budget.

Calibrated on evals/datasets/relevance.yaml (run ``python -m evals.relevance``); the figures
are in the comment at the thresholds.

Retrieved text is data, never instructions: sentences that address a language model
("ignore previous instructions", "print your system prompt", "you are now ...") are
dropped before passages are made, and counted, so a planted page cannot steer the writer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.research.terms import (
    KeyTerm,
    TermStats,
    key_terms,
    present,
    stem_line,
    without_comparisons,
)

# Calibrated on evals/datasets/relevance.yaml (`python -m evals.relevance`). Calibration split
# (147 pairs: 65 relevant, 82 not, 22 requests; the thresholds were chosen on it): at 0.30 /
# 0.50 precision 0.985, recall 1.000, F1 0.992 (fp 1: "Dream" for "three habits for better
# sleep"); F1 is flat over SIM_MIN 0.30 x COVER_MIN 0.40-0.55, precision falls under 0.96
# below COVER_MIN 0.35, recall under 0.97 above 0.55 or SIM_MIN 0.35. Words alone reach
# precision 0.92, meaning alone 0.64. Holdout split (37 pairs, 8 other requests, labelled
# after the thresholds were pinned): first measured precision 0.72, recall 0.87, F1 0.79;
# after two general rules its errors pointed to (a request relating two things has two
# subjects; "neither X nor Y" excludes X) precision 0.82, recall 0.93, F1 0.88 -- so no
# longer a clean estimate. Left wrong: a passing mention inside a real sentence ("Tsunami"
# names earthquakes as a cause, "Wasp" says bees nest within wasps), a derived form that
# is another word ("electric" / "electrostatic"), a passage that names its subject only by
# a pronoun.
SIM_MIN = 0.30
COVER_MIN = 0.50

PASSAGE_SENTENCES = 3  # a passage is a window of up to 3 sentences of one paragraph...
PASSAGE_MAX_WORDS = 90  # ...and at most this many words (a long sentence stands alone)
MIN_PASSAGE_WORDS = 5  # shorter ones say too little to be a source of anything
HEADING_MAX_WORDS = 12

_INSTRUCTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|prompts?|rules|"
    r"directions|guidelines|messages?)\b",
    r"\bsystem\s+(prompt|message|instructions?)\b",
    r"\b(developer|hidden|initial|original)\s+(prompt|instructions?)\b",
    r"\byou\s+are\s+now\b",
    r"\bfrom\s+now\s+on,?\s+(you|the\s+assistant)\b",
    r"\b(pretend|act)\s+(to\s+be|as)\s+(an?|the)\s+(ai|assistant|model|chatbot|language model)",
    r"\bas\s+an?\s+(ai|large\s+language)\s+(language\s+)?model\b",
    r"\b(print|reveal|show|repeat|output|leak|tell\s+me)\b.{0,20}\b(your|the)\s+"
    r"(system\s+)?(prompt|instructions)\b",
    r"\bnew\s+instructions?\s*:",
    r"\b(jailbreak|do\s+anything\s+now|DAN\s+mode)\b",
    r"<\|?(im_start|im_end|system|endoftext)\|?>|\[/?INST\]|<<\s*SYS\s*>>",
    r"^\s*(system|assistant|user)\s*:",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.I)


def addresses_model(sentence: str) -> bool:
    """Whether ``sentence`` speaks to a language model rather than about the world."""
    return bool(_INSTRUCTION.search(sentence))


@dataclass
class Passage:
    """A window of sentences of one document, with what the gate thought of it."""

    text: str
    doc: int  # index of its document in the research step's list
    position: int  # its order inside the document
    title: str = ""
    heading: str = ""
    similarity: float = 0.0
    coverage: float = 0.0
    required_ok: bool = False

    @property
    def kept(self) -> bool:
        return self.required_ok and self.similarity >= SIM_MIN and self.coverage >= COVER_MIN

    @property
    def relevance(self) -> float:
        """One number to rank kept passages: meaning first, exact words as a tie-breaker."""
        return round(self.similarity + 0.25 * self.coverage, 4)

    def context(self) -> str:
        """The passage with its document title: the subject a pronoun-only passage inherits."""
        return f"{self.title}: {self.text}" if self.title else self.text


def _is_heading(paragraph: str) -> bool:
    line = paragraph.strip()
    return bool(line) and "\n" not in line and len(line.split()) <= HEADING_MAX_WORDS and (
        line[-1] not in ".!?:;,\"'”")


def split_passages(
    text: str, doc: int = 0, title: str = ""
) -> tuple[list[Passage], int]:
    """``text`` as passages (model-addressed sentences dropped) and how many were dropped.

    Paragraphs (blank-line separated) are never merged; inside one, consecutive sentences
    are packed up to PASSAGE_SENTENCES / PASSAGE_MAX_WORDS. A short line on its own is a
    heading: not a passage, but the heading of the passages after it."""
    out: list[Passage] = []
    dropped = 0
    heading = ""
    for paragraph in re.split(r"\n\s*\n", text):
        if _is_heading(paragraph):
            heading = " ".join(paragraph.split())
            continue
        window: list[str] = []
        words = 0
        for sentence in split_sentences(paragraph):
            if addresses_model(sentence):
                dropped += 1
                continue
            n = len(sentence.split())
            if window and (len(window) >= PASSAGE_SENTENCES or words + n > PASSAGE_MAX_WORDS):
                out.append(Passage(" ".join(window), doc, len(out), title, heading))
                window, words = [], 0
            window.append(sentence)
            words += n
        if window:
            out.append(Passage(" ".join(window), doc, len(out), title, heading))
    return [p for p in out if len(p.text.split()) >= MIN_PASSAGE_WORDS], dropped


class Gate:
    """Judges passages against one request (topic) in one language."""

    def __init__(
        self, topic: str, embedder: Embedder, stats: TermStats | None, language: str = "en"
    ) -> None:
        self.topic = topic
        self.language = language
        self.embedder = embedder
        self.terms: list[KeyTerm] = key_terms(topic, stats, language)
        self._topic_vector = embedder.embed([topic])[0]

    def judge(self, passages: Sequence[Passage]) -> list[Passage]:
        """Fill in each passage's scores (in place) and return them."""
        if not passages:
            return []
        vectors = self.embedder.embed([p.context() for p in passages])
        sims = np.asarray(vectors @ self._topic_vector, dtype=np.float32)
        total = sum(t.weight for t in self.terms)
        for passage, sim in zip(passages, sims, strict=True):
            # The title stays whole: it names what its passages are about.
            text = f"{passage.title}: {without_comparisons(passage.text)}"
            line = stem_line(text, self.language)
            found = [t for t in self.terms if present(t, line)]
            passage.similarity = round(float(sim), 4)
            passage.coverage = round(sum(t.weight for t in found) / total, 4) if total else 0.0
            passage.required_ok = all(t in found for t in self.terms if t.required)
        return list(passages)

    def keep(self, passages: Sequence[Passage]) -> list[Passage]:
        """The passages about the request, most relevant first.

        A passage inherits its document's subject, so in "Octopus" every sentence is about
        octopuses; in "Camouflage" only the sentences that name the request's subject are.
        The decision is made on the whole passage (its context is evidence: a passing
        mention in a page about the ocean stays a passing mention); a kept passage of a
        document whose title names no key term is then cut to those sentences, so the
        writer is not handed the rest as material."""
        kept = [p for p in self.judge(passages) if p.kept]
        self.judge([p for p in kept if self._focus(p)])  # scores of what is handed on
        return sorted(kept, key=lambda p: -p.relevance)

    def _mentions(self, text: str, terms: Sequence[KeyTerm]) -> bool:
        line = stem_line(without_comparisons(text), self.language)
        return any(present(t, line) for t in terms)

    def _focus(self, passage: Passage) -> bool:
        """Cut ``passage`` to its sentences that name the request's subject (its heaviest
        term), when its title names no key term; whether it changed."""
        if not self.terms or self._mentions(passage.title, self.terms):
            return False
        subject = [max(self.terms, key=lambda t: t.weight)]
        sentences = split_sentences(passage.text)
        named = [s for s in sentences if self._mentions(s, subject)]
        if not named or len(named) == len(sentences):
            return False
        passage.text = " ".join(named)
        return True

    def describe(self) -> str:
        """The key terms, for notes and logs: "octopuses (6.9), colour (4.1)"."""
        return ", ".join(
            f"{t.text}{' [required]' if t.required else ''} ({t.weight:.1f})" for t in self.terms
        )
