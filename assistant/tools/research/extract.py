"""From fetched bytes to the text research reads: main text, title, language, no duplicates.

Pages come wrapped in navigation, cookie banners and footers that share words with every
topic; left in, they pass a relevance check for the wrong reasons. ``trafilatura`` keeps the
main text only. Its metadata rarely carries a language, so ``langdetect`` (seeded, so that the
same page always gets the same answer) fills it in. Mirrors and syndicated copies of one
article are common in web results; :func:`drop_near_duplicates` keeps the first of them so a
fact is not counted as "confirmed by two sources" when it was one.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import trafilatura
from langdetect import DetectorFactory, LangDetectException, detect

# langdetect is random by default: the same text can come back "en" once and "nl" the next.
DetectorFactory.seed = 0

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
XML_TYPES = frozenset(
    {"application/xml", "text/xml", "application/atom+xml", "application/rss+xml"}
)
PLAIN_TYPES = frozenset({"text/plain"})

# Below this many letters langdetect guesses; a guess is worse than the caller's hint.
_MIN_LETTERS_FOR_DETECTION = 20
_DETECT_SAMPLE_CHARS = 3000


@dataclass(frozen=True)
class Extracted:
    """What a page says, without its wrapping."""

    title: str
    text: str
    language: str


def detect_language(text: str, default: str = "und") -> str:
    """The ISO 639-1 code of ``text`` ("en", "es", "zh-cn"), or ``default`` when too short
    or undecidable."""
    sample = text[:_DETECT_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS_FOR_DETECTION:
        return default
    try:
        return str(detect(sample)).lower()
    except LangDetectException:
        return default


def _clean_lines(text: str) -> str:
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(html: bytes | str, *, url: str = "", language_hint: str = "und") -> Extracted:
    """The main text of an HTML page, its title and language.

    Returns empty text when trafilatura finds no main content (a login wall, an empty
    shell filled in by JavaScript): the caller decides whether that is a refusal."""
    doc = trafilatura.bare_extraction(
        html,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
    )
    if doc is None:
        return Extracted(title="", text="", language=language_hint)
    text = _clean_lines(getattr(doc, "text", "") or "")
    title = (getattr(doc, "title", "") or "").strip()
    language = (getattr(doc, "language", "") or "").strip().lower()
    return Extracted(
        title=title, text=text, language=language or detect_language(text, language_hint)
    )


def xml_to_text(body: bytes, *, language_hint: str = "und") -> Extracted:
    """The character data of an XML document (a feed, a sitemap-like page), in order.

    Python's expat refuses external entities and caps entity expansion, so a hostile
    document cannot read files or blow up memory."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return Extracted(title="", text="", language=language_hint)
    title = ""
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "title" and (element.text or "").strip():
            title = (element.text or "").strip()
            break
    text = _clean_lines("\n".join(part.strip() for part in root.itertext()))
    return Extracted(title=title, text=text, language=detect_language(text, language_hint))


def plain_to_text(text: str, *, language_hint: str = "und") -> Extracted:
    """A text/plain body as it is; its first line stands in for a title."""
    cleaned = _clean_lines(text)
    first = cleaned.split("\n", 1)[0][:200] if cleaned else ""
    return Extracted(title=first, text=cleaned, language=detect_language(cleaned, language_hint))


# --- near-duplicates ---------------------------------------------------------------------


class HasText(Protocol):
    @property
    def text(self) -> str: ...


T = TypeVar("T", bound=HasText)

_SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = _SHINGLE_WORDS) -> frozenset[int]:
    """Hashed word ``size``-grams of the normalised text (case, accents and punctuation
    folded away), the unit near-duplicate detection compares."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = _WORD.findall(folded)
    if not words:
        return frozenset()
    if len(words) <= size:
        return frozenset({hash(tuple(words))})
    return frozenset(hash(tuple(words[i : i + size])) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def drop_near_duplicates(docs: Sequence[T] | Iterable[T], threshold: float = 0.8) -> list[T]:
    """``docs`` without the ones whose shingles overlap an earlier one's by ``threshold``
    (Jaccard) or more.

    Order is priority: the first copy (the higher-ranked provider or hit) is kept. Works on
    anything with a ``text`` (documents, passages). Quadratic, which is fine for the tens
    of documents one research step fetches."""
    kept: list[T] = []
    kept_shingles: list[frozenset[int]] = []
    for doc in docs:
        current = shingles(doc.text)
        if any(jaccard(current, earlier) >= threshold for earlier in kept_shingles):
            continue
        kept.append(doc)
        kept_shingles.append(current)
    return kept
