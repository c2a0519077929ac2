"""Sentences and chunks: a document's sections into passages that hold whole sentences."""

from __future__ import annotations

import re

from assistant.tools.knowledge.documents import Chunk, Document

ABBREVIATIONS = frozenset({
    "e.g", "i.e", "cf", "vs", "viz", "al", "approx", "ca", "dr", "mr", "mrs", "ms", "mx",
    "prof", "sr", "jr", "st", "mt", "dept", "est", "inc", "ltd", "co", "corp", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "ph.d",
    "gen", "col", "capt", "lt", "sgt", "rev", "hon", "op",
})  # fmt: skip
# Abbreviations that end no sentence only when a number follows: "No. 5", "pp. 12".
NUMBER_ABBREVIATIONS = frozenset({
    "no", "nos", "p", "pp", "fig", "figs", "eq", "eqs", "vol", "vols", "ch", "sec", "art",
})  # fmt: skip
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)\s+")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; blank lines always end one.

    Abbreviations ("e.g.", "Dr.", "U.S."), initials ("J. Smith") and decimals ("3.5") do not
    end a sentence; a boundary needs ., ! or ? then space then an upper-case letter, a digit,
    a quote or a bracket.
    """
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            after = paragraph[match.end() : match.end() + 1]
            if not after or not (after.isupper() or after.isdigit() or after in "\"'“‘([¿¡"):
                continue
            if match.group(1) == "." and not match.group(2):
                word = paragraph[start : match.start()].rsplit(" ", 1)[-1].lstrip("(\"'“‘")
                lower = word.lower()
                if (
                    lower in ABBREVIATIONS
                    or (lower in NUMBER_ABBREVIATIONS and after.isdigit())
                    or (len(word) == 1 and word.isupper())
                ):
                    continue
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def _fit(sentence: str, max_words: int) -> list[str]:
    """A sentence longer than ``max_words`` split at clause breaks, else between words."""
    words = sentence.split()
    if len(words) <= max_words:
        return [sentence]
    pieces: list[str] = []
    current: list[str] = []
    for i, word in enumerate(words):
        current.append(word)
        at_clause = word.endswith((",", ";", ":")) and len(current) >= max_words // 2
        if len(current) >= max_words or (at_clause and i + 1 < len(words)):
            pieces.append(" ".join(current))
            current = []
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_sections(doc: Document, target_words: int = 120, max_words: int = 180) -> list[Chunk]:
    """Pack whole sentences of each section into chunks of about ``target_words`` words.

    A chunk never crosses a section and never exceeds ``max_words``; only a single sentence
    longer than ``max_words`` is cut (at a clause break or between words).
    """
    if not 0 < target_words <= max_words:
        raise ValueError("need 0 < target_words <= max_words")
    chunks: list[Chunk] = []
    for heading, text in doc.sections:
        packed: list[list[str]] = []
        current: list[str] = []
        count = 0
        for sentence in split_sentences(text):
            for piece in _fit(sentence, max_words):
                n = len(piece.split())
                if current and (count >= target_words or count + n > max_words):
                    packed.append(current)
                    current, count = [], 0
                current.append(piece)
                count += n
        if current:
            last_words = sum(len(s.split()) for s in packed[-1]) if packed else 0
            if packed and count < target_words // 3 and last_words + count <= max_words:
                packed[-1].extend(current)  # fold a short tail into the previous chunk
            else:
                packed.append(current)
        for sentences in packed:
            chunks.append(Chunk(heading=heading, text=" ".join(sentences), index=len(chunks)))
    return chunks


__all__ = ["Chunk", "chunk_sections", "split_sentences"]
