"""Words as research compares them: tokens, a light stemmer, spelling variants, key terms.

The relevance gate and the encyclopedia's title match ask one question, "does this text
mention that term?", and both sides must be normalised the same way for the answer to be
right: "octopuses" is "octopus", "colour" is "color", "Institute's" is "institute", and
"heat pump" is a phrase, not the two words anywhere in a page. A light suffix stripper is
enough for that (we never show a stem to anyone) and costs no dependency; NLTK's Snowball
would pull a package for the same result on these cases.

:class:`TermStats` holds document frequencies over a reference corpus (the offline
encyclopedia of the language), so a term's weight is its rarity: "Zorvath" (in no article)
outweighs "budget" (in many), which outweighs "history" (in most).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.tools.research.wordlists import ARTICLES, GENERIC, STOPWORDS, VARIANTS

_VARIANT_RE = re.compile(r"^(" + "|".join(sorted(VARIANTS, key=len, reverse=True)) + r")")
_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lower case without accents: "Québec" and "quebec" meet, as do "está" and "esta"."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def tokens(text: str) -> list[str]:
    """Words, lower-cased and unaccented, possessives cut ("Institute's" -> "institute")."""
    out: list[str] = []
    for word in _TOKEN_RE.findall(fold(text)):
        if "'" in word or "’" in word:
            word = word.replace("’", "'")
            if word.endswith("'s"):
                word = word[:-2]
            out.extend(w for w in word.split("'") if w)  # l'eau -> l, eau
        else:
            out.append(word)
    return out


@lru_cache(maxsize=200_000)
def stem(word: str, language: str = "en") -> str:
    """A light stem: plural and verb endings and final -e off, British spelling folded.

    Both sides of every comparison go through it, so over-stripping is harmless; what
    matters is that a word's forms meet ("octopuses", "octopus"; "changes", "changing")."""
    if language == "en":
        word = _VARIANT_RE.sub(lambda m: VARIANTS[m.group(1)], word)
    if len(word) <= 3 or word.isdigit():
        return word
    if language == "en":
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith(("ses", "xes", "zes", "ches", "shes")):  # also "sses"
            word = word[:-2]
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        for suffix in ("ing", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        if word.endswith("ise") and len(word) > 5:  # organise / organize
            word = word[:-3] + "ize"
    elif word.endswith(("s", "x")) and not word.endswith(("ss", "us")):
        word = word[:-1]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


def stems(text: str, language: str = "en") -> list[str]:
    """Every word of ``text`` stemmed, in order (function words kept, for phrase matching)."""
    return [stem(w, language) for w in tokens(text)]


def stem_line(text: str, language: str = "en") -> str:
    """``text`` as " stem stem ... ": a phrase is present when " a b " is a substring."""
    return " " + " ".join(stems(text, language)) + " "


def detect_language(text: str, default: str = "en") -> str:
    """en, es or fr by their function words ("cómo", "las" / "comment", "les"): a language
    needs two more of its own than ``default`` has ("a la carte menus" stays English).
    Requests are too short for statistical detectors (langdetect calls "how tides work"
    Dutch now and then); the three editions' own words decide."""
    words = tokens(text)
    counts = {lang: sum(w in stops for w in words) for lang, stops in _FOLDED_STOPWORDS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] >= counts.get(default, 0) + 2 else default


# Tokens are folded (no accents), so the word lists are compared folded too.
_FOLDED_STOPWORDS = {lang: frozenset(fold(w) for w in words) for lang, words in STOPWORDS.items()}
_FOLDED_GENERIC = {lang: frozenset(fold(w) for w in words) for lang, words in GENERIC.items()}


def _content(word: str, language: str) -> bool:
    return word not in _FOLDED_STOPWORDS.get(language, _FOLDED_STOPWORDS["en"]) and len(word) > 1


def _generic(word: str, language: str) -> bool:
    return word in _FOLDED_GENERIC.get(language, frozenset())


@dataclass
class TermStats:
    """Document frequencies of stems (and stem pairs, counted on demand) in a corpus."""

    n_docs: int
    df: dict[str, int]
    lines: list[str] = field(default_factory=list, repr=False)  # stem_line of every doc
    _phrase_df: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_texts(cls, texts: Iterable[str], language: str = "en") -> TermStats:
        counts: Counter[str] = Counter()
        lines = []
        for text in texts:
            line = stem_line(text, language)
            lines.append(line)
            counts.update(set(line.split()))
        return cls(n_docs=len(lines), df=dict(counts), lines=lines)

    def doc_freq(self, unit: tuple[str, ...]) -> int:
        if len(unit) == 1:
            return self.df.get(unit[0], 0)
        key = " " + " ".join(unit) + " "
        if key not in self._phrase_df:
            self._phrase_df[key] = sum(1 for line in self.lines if key in line)
        return self._phrase_df[key]

    def idf(self, unit: tuple[str, ...]) -> float:
        """log((N + 1) / (df + 1)) + 1: a term in no document weighs most."""
        return math.log((self.n_docs + 1) / (self.doc_freq(unit) + 1)) + 1.0


@dataclass(frozen=True)
class KeyTerm:
    """A distinctive term of a request: one stem, a phrase of stems ("heat pump", adjacent),
    or a group of stems that must all appear, in any order ("shipping container": a noun
    phrase the corpus never uses, so its parts are the best evidence)."""

    text: str
    unit: tuple[str, ...]
    weight: float
    required: bool = False  # a rare name: a passage without it is not about the request
    group: bool = False


def _is_name(word: str, position: int, title_case: bool) -> bool:
    return position > 0 and not title_case and word[:1].isupper() and not word.isupper()


# A pair with a generic word is a phrase when the corpus uses it as one: at least this share
# of the rarer word's documents hold the pair ("climate change" 0.084; "change color" 0.005).
PHRASE_MIN_SHARE = 0.08
# A capitalised word this rare in the corpus is a name the passage must mention.
NAME_MAX_DF = 30
NUMBER_MAX_WEIGHT = 3.0  # a year in the request is a detail, not the subject
# Requests name their subject first ("how octopuses change colour", "why volcanoes erupt",
# "compound interest for teenagers"; the form's words are not key terms): the first key
# term weighs this much more, so a passage about the subject without the angle still
# counts and one about the angle alone ("Color", "Interest") does not.
SUBJECT_BOOST = 1.5
# ...except in a request about a relation between two things, which has both as subjects.
_RELATION = re.compile(r"\b(affects?|affected|affecting|impacts?|influences?|effects?\s+of|"
                       r"impact\s+of|influence\s+of|relationship|between|versus|vs)\b", re.I)


def _request_words(text: str) -> list[tuple[str, bool]]:
    """Each word of a request, and whether it was written as a name (capitalised inside a
    request that is not in title case)."""
    raw = [m.group(0) for m in _TOKEN_RE.finditer(text)]
    title_case = len([w for w in raw if w[:1].isupper()]) >= max(2, 0.6 * len(raw))
    words: list[tuple[str, bool]] = []
    for position, original in enumerate(raw):
        name = _is_name(original, position, title_case)
        words.extend((w, name) for w in tokens(original))
    return words


def _pair(stats: TermStats, s1: str, s2: str, generic: bool, after_article: bool
          ) -> str | None:
    """"phrase", "group" or None for two adjacent words of a request.

    A pair the corpus uses is a phrase ("heat pump", "compound interest"); with a generic
    word it must be a frequent one ("climate change", not "change colour"). A pair it never
    uses is a group when an article makes it a noun phrase ("the shipping container"),
    else two words ("volcanoes erupt": a subject and its verb)."""
    together = stats.doc_freq((s1, s2))
    if generic:
        rarer = min(stats.doc_freq((s1,)), stats.doc_freq((s2,)))
        return "phrase" if together and rarer and together / rarer >= PHRASE_MIN_SHARE else None
    if together:
        return "phrase"
    return "group" if after_article else None


def key_terms(text: str, stats: TermStats | None, language: str = "en") -> list[KeyTerm]:
    """The terms that say what ``text`` (a request) is about, weighted by rarity."""
    words = _request_words(text)
    articles = ARTICLES.get(language, frozenset())
    kept = [(i, w, stem(w, language), name) for i, (w, name) in enumerate(words)
            if _content(w, language)]  # fmt: skip
    found: list[tuple[int, KeyTerm]] = []  # (position in the request, term)
    used: set[int] = set()
    for (i, w1, s1, n1), (j, w2, s2, n2) in zip(kept, kept[1:], strict=False):
        if j != i + 1 or i in used or stats is None:
            continue
        generic = _generic(w1, language) or _generic(w2, language)
        kind = _pair(stats, s1, s2, generic, i > 0 and words[i - 1][0] in articles)
        if kind == "phrase":
            pair = (s1, s2)
            required = (n1 or n2) and stats.doc_freq(pair) <= NAME_MAX_DF
            found.append((i, KeyTerm(f"{w1} {w2}", pair, stats.idf(pair), bool(required))))
        elif kind == "group":
            parts = [_single(w, s, n, stats) for w, s, n in ((w1, s1, n1), (w2, s2, n2))]
            found.append((i, KeyTerm(f"{w1} {w2}", (s1, s2), sum(p.weight for p in parts),
                                     any(p.required for p in parts), group=True)))
        else:
            continue
        used.update((i, j))
    for i, word, s, name in kept:
        if i in used or _generic(word, language) or any(t.unit == (s,) for _, t in found):
            continue
        found.append((i, _single(word, s, name, stats)))
    ordered = [t for _, t in sorted(found, key=lambda pair: pair[0])]
    relational = _RELATION.search(text) is not None  # "how X affects Y": two subjects
    if len(ordered) > 1 and not ordered[0].text.isdigit() and not relational:
        first = ordered[0]
        ordered[0] = KeyTerm(first.text, first.unit, first.weight * SUBJECT_BOOST,
                             first.required, first.group)  # fmt: skip
    return ordered


def _single(word: str, s: str, name: bool, stats: TermStats | None) -> KeyTerm:
    if stats is None:  # no corpus for the language: equal weights, nothing required
        return KeyTerm(word, (s,), 1.0)
    df = stats.doc_freq((s,))
    weight = stats.idf((s,))
    if word.isdigit():
        weight = min(weight, NUMBER_MAX_WEIGHT)
    # In no article of the encyclopedia at all (a made-up or very rare name), or a
    # capitalised rare word: the request is about that name.
    required = (df == 0 and word.isalpha()) or (name and df <= NAME_MAX_DF)
    return KeyTerm(word, (s,), weight, required)


# A word also matches its derived forms. A long one by its first len - 3 letters (at least
# DERIVED_MIN_PREFIX) opening a word at most one letter shorter: "photosynthesis" /
# "photosynthetic", "volcano" / "volcanic", "vaccine" / "vaccination". A shorter one by
# itself plus a derivational suffix: "erupt" / "eruption", "tide" / "tidal".
DERIVED_MIN_LENGTH = 7
DERIVED_MIN_PREFIX = 6
_SUFFIXES = "ion|ions|ive|al|ic|ical|er|ers|ment|ity|ous|ary|ation|ly|y"


@lru_cache(maxsize=4096)
def _pattern(unit: tuple[str, ...]) -> re.Pattern[str]:
    *head, last = unit
    if len(last) >= DERIVED_MIN_LENGTH:
        prefix = last[: max(DERIVED_MIN_PREFIX, len(last) - 3)]
        rest = max(0, len(last) - 1 - len(prefix))
        tail = re.escape(prefix) + r"\w{" + str(rest) + ",}"
    elif len(last) >= 3 and last.isalpha():
        tail = re.escape(last) + f"(?:{_SUFFIXES})?"
    else:
        tail = re.escape(last)
    return re.compile(" " + "".join(re.escape(h) + " " for h in head) + tail + " ")


# A term named only to compare or to exclude ("soft-bodied, like octopuses", "surpassed only
# by black holes", "similar to heat pumps", "neither a bee nor an ant") is not what the
# passage is about: those mentions are cut
# before counting. "Animals like octopuses" (no comma) is an example and stays.
_COMPARISON = re.compile(
    r"(?:(?:^|[,;(])\s*(?:un)?like|\bunlike|\bthan|\bsurpassed\s+(?:only\s+)?by|"
    r"\b(?:similar|compared|comparable)\s+(?:to|with)|\bas\s+opposed\s+to|"
    r"\binstead\s+of|\bapart\s+from|\bexcept\s+for|\bneither|\bnor)"
    r"\s+(?:(?:the|a|an|other|all|most|many|some|those|that|of)\s+)*[^\W\d_][\w'-]*"
    r"(?:\s+[^\W\d_][\w'-]*)?", re.I)


def without_comparisons(text: str) -> str:
    """``text`` with the things it only compares to cut out (see _COMPARISON)."""
    return _COMPARISON.sub(" ", text)


def adjacent_pairs(text: str, language: str = "en") -> list[tuple[str, str]]:
    """Stems of neighbouring content words of ``text`` ("compound interest", "heat pump"):
    a page that uses the same pair likely means the same thing."""
    words = tokens(text)
    return [(stem(a, language), stem(b, language)) for a, b in zip(words, words[1:], strict=False)
            if _content(a, language) and _content(b, language)]  # fmt: skip


def present(term: KeyTerm, line: str) -> bool:
    """Whether ``term`` occurs in ``line`` (a :func:`stem_line`)."""
    if term.group:
        return all(_pattern((part,)).search(line) is not None for part in term.unit)
    return _pattern(term.unit).search(line) is not None


def coverage(terms: list[KeyTerm], line: str) -> float:
    """The share of the request's key weight that ``line`` mentions (0..1)."""
    total = sum(t.weight for t in terms)
    if not total:
        return 0.0
    return sum(t.weight for t in terms if present(t, line)) / total
