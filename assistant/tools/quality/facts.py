"""The checkable facts in a text: numbers, dates, quantities with units, and names.

A small model's worst habit is to state a number or a name its source never gave. These
are exactly the things code can check by string matching, so the writer and QA both ask
"does every fact of this sentence appear in its passage?" (``missing_facts``) before a
sentence is kept. Everything here is deterministic and needs no model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache

# Units normalised to one spelling, so "16 metres" and "16 m" are the same quantity.
_UNITS: dict[str, str] = {}
for _canon, _spellings in {
    "m": "m metre metres meter meters",
    "km": "km kilometre kilometres kilometer kilometers",
    "cm": "cm centimetre centimetres centimeter centimeters",
    "mm": "mm millimetre millimetres millimeter millimeters",
    "mi": "mi mile miles",
    "ft": "ft foot feet",
    "in": "inch inches",
    "kg": "kg kilogram kilograms kilogramme kilogrammes",
    "g": "g gram grams",
    "t": "tonne tonnes ton tons",
    "l": "l litre litres liter liters",
    "%": "% percent per-cent",
    "h": "h hr hrs hour hours",
    "min": "min mins minute minutes",
    "s": "sec secs second seconds",
    "day": "day days",
    "week": "week weeks",
    "month": "month months",
    "yr": "yr yrs year years",
    "deg": "° degree degrees °c °f",
    "x": "times",
    "nm": "nm nanometre nanometres nanometer nanometers",
    "um": "µm μm micron microns micrometre micrometres micrometer micrometers",
    "ly": "light-year light-years",
    "ha": "ha hectare hectares",
    "acre": "acre acres",
    "hz": "hz hertz",
    "khz": "khz kilohertz",
    "mhz": "mhz megahertz",
    "ghz": "ghz gigahertz",
    "w": "w watt watts",
    "mw": "mw megawatt megawatts",
    "gw": "gw gigawatt gigawatts",
    "v": "v volt volts",
    "kcal": "kcal calorie calories",
    "mph": "mph",
    "kmh": "km/h kph",
    "usd": "$ dollar dollars usd",
    "eur": "€ euro euros eur",
    "gbp": "£ pound pounds gbp",
    "kwh": "kwh kw kilowatt kilowatts",
}.items():
    for _spelling in _spellings.split():
        _UNITS[_spelling] = _canon

_SMALL = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twice": 2, "thrice": 3, "dozen": 12, "hundred": 100, "thousand": 1000,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALE = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "trillion": 1_000_000_000_000}
# "one" is left out on purpose: "one of", "the one facing the Moon" are not quantities.
_NUMBER_WORD = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:-(" + "|".join(k for k in _SMALL if _SMALL[k] < 10)
    + r"))?|(" + "|".join(_SMALL) + r"))\b",
    re.IGNORECASE,
)
_CURRENCY = "$€£"
_NUMBER = re.compile(
    r"(?<![\w.])([$€£]\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(s\b)?"
    r"(?:\s?(million|billion|trillion|thousand|hundred)\b)?"
    r"(?:[\s-]?(per cent|[a-z°%]+|%))?",
    re.IGNORECASE,
)
# Capitalised words that join a multi-word name ("Bay of Fundy", "Gulf of Mexico").
_CONNECTORS = {"of", "de", "la", "du", "von", "van", "der", "del", "da"}
_LEADING_STOP = {"the", "a", "an", "in", "on", "at", "of", "by", "for", "to", "from", "and",
                 "but", "or", "so", "as", "if", "when", "while", "with", "this", "that",
                 "these", "those", "it", "its", "their", "our", "your", "his", "her"}
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_OPENERS = ".!?:;\"“”([—–"


@dataclass(frozen=True)
class FactSet:
    """The facts one text states, normalised for comparison."""

    numbers: frozenset[str] = frozenset()  # "384400", "5.5", "1870s"
    quantities: frozenset[tuple[str, str]] = frozenset()  # ("16", "m")
    names: frozenset[str] = frozenset()  # "bay of fundy", "rayleigh"
    shown: dict[str, str] = field(default_factory=dict, compare=False)  # key -> as written

    def __bool__(self) -> bool:
        return bool(self.numbers or self.names)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.names)

    def items(self) -> list[str]:
        """Every fact as the text wrote it (for messages)."""
        keys = sorted(self.numbers) + sorted(self.names)
        return [self.shown.get(k, k) for k in keys]


def _format(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _numbers(text: str) -> tuple[set[str], set[tuple[str, str]], dict[str, str]]:
    numbers: set[str] = set()
    quantities: set[tuple[str, str]] = set()
    shown: dict[str, str] = {}
    for m in _NUMBER.finditer(text):
        currency, whole, fraction, decade, scale, unit = m.groups()
        if decade:  # "the 1870s" is a date, not the number 1870
            key = whole.replace(",", "") + "s"
        else:
            value = float(whole.replace(",", "") + (fraction or ""))
            key = _format(value * _SCALE.get((scale or "").lower(), 1))
        numbers.add(key)
        shown.setdefault(key, m.group().strip())
        canon = _UNITS.get((unit or "").lower()) or (
            _UNITS.get(currency.strip()) if currency else None)
        if canon:
            quantities.add((key, canon))
    for m in _NUMBER_WORD.finditer(text):
        tens, unit_word, small = m.groups()
        if small:
            value = _SMALL[small.lower()]
        else:
            value = _TENS[tens.lower()] + (_SMALL[unit_word.lower()] if unit_word else 0)
        after = text[m.end():m.end() + 12].lower().split()
        scale = _SCALE.get(after[0], 1) if after and after[0] in _SCALE else 1
        key = _format(float(value * scale))
        numbers.add(key)
        shown.setdefault(key, m.group())
    return numbers, quantities, shown


@cache
def _vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """Lower-case English words (the MiniLM tokenizer's whole-word vocabulary) and the
    six-letter prefixes of its longer words.

    Used only to tell a sentence's first word ("Tides are ...") from a name that happens to
    start it ("Brindlewood has ..."): a word the vocabulary lacks, whose first six letters
    start no word it has ("subscribe" shares "subscr" with "subscription"), is rare enough
    to be a name.
    """
    try:
        from assistant.tools.knowledge.embeddings import minilm_tokenizer_path

        vocab = json.loads(minilm_tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    except Exception:  # noqa: BLE001 - without it, a sentence's first word counts as common
        return frozenset(), frozenset()
    words = frozenset(w for w in vocab if w.isalpha())
    return words, frozenset(w[:6] for w in words if len(w) >= 6)


def _common(word: str) -> bool:
    words, prefixes = _vocabulary()
    if not words:
        return True
    lower = word.lower()
    stems = {lower, lower.removesuffix("s"), lower.removesuffix("es"), lower.removesuffix("ed"),
             lower.removesuffix("ing"), lower.removesuffix("ly")}
    return bool(stems & words) or (len(lower) >= 7 and lower[:6] in prefixes)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or (sum(c.isupper() for c in word) >= 2) or (
        any(c.isdigit() for c in word) and any(c.isalpha() for c in word))


def _strip(word: str) -> str:
    return re.sub(r"['’]s?$", "", word)


def _names(text: str) -> tuple[set[str], dict[str, str]]:
    words = [(m.start(), _strip(m.group())) for m in _WORD.finditer(text)]
    lower_seen = {w.lower() for _, w in words if w[:1].islower()}
    alpha = [w for _, w in words if w.isalpha() and len(w) > 3]
    # Title case ("How Tides Work: the Moon ...") capitalises common words: there only rare
    # words count as names.
    # (A sentence full of names still has lower-case words: "... in Maine reaches 16 m".)
    title_case = len(alpha) >= 2 and all(w[:1].isupper() for w in alpha)
    names: set[str] = set()
    shown: dict[str, str] = {}
    phrase: list[str] = []
    phrase_initial = False

    def close() -> None:
        nonlocal phrase, phrase_initial
        while phrase and phrase[-1].lower() in _CONNECTORS:
            phrase.pop()
        while phrase and phrase[0].lower() in _LEADING_STOP:
            phrase.pop(0)
            phrase_initial = False
        if phrase:
            single = len(phrase) == 1
            word = phrase[0]
            common = word.lower() in lower_seen or _common(word)
            acronym = sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word)
            if acronym or not single or not (common and (phrase_initial or title_case)):
                key = " ".join(phrase).lower()
                names.add(key)
                shown.setdefault(key, " ".join(phrase))
        phrase, phrase_initial = [], False

    for i, (start, word) in enumerate(words):
        before = text[words[i - 1][0]:start] if i else ""
        initial = i == 0 or any(c in _OPENERS for c in before[len(words[i - 1][1]):])
        if not word or word[0].isdigit():
            close()
            continue
        if _is_capitalised(word) and word != "I":
            if initial or title_case:  # in a title each capitalised word stands alone
                close()
            if not phrase:
                phrase_initial = initial
            phrase.append(word)
        elif phrase and word.lower() in _CONNECTORS and not initial:
            phrase.append(word)
        else:
            close()
    close()
    return names, shown


def facts_in(text: str) -> FactSet:
    """The numbers, dates, quantities and names that ``text`` states."""
    numbers, quantities, shown = _numbers(text)
    names, name_shown = _names(text)
    return FactSet(frozenset(numbers), frozenset(quantities), frozenset(names),
                   {**shown, **name_shown})


# Adjectives that name a body: "the lunar effect" states the Moon as surely as "the Moon's".
_ADJECTIVE_NAMES = {"lunar": "moon", "solar": "sun", "martian": "mars", "terrestrial": "earth",
                    "jovian": "jupiter", "venusian": "venus", "arctic": "arctic"}


def _normalised(text: str) -> str:
    words = [_strip(w).lower() for w in _WORD.findall(text)]
    present = set(words)
    for adjective, noun in _ADJECTIVE_NAMES.items():
        if adjective in present or noun in present:
            words += [adjective, noun]
    return " " + " ".join(words) + " "


def missing_facts(sentence: str, passage: str, *, allowed: str = "") -> list[str]:
    """The facts of ``sentence`` that ``passage`` (or ``allowed``, e.g. the topic) lacks.

    A number must be stated by the passage; a number with a unit must not come with a
    different unit there ("16 km" against "16 metres"); a name must appear in the passage,
    as a phrase or word by word.
    """
    said = facts_in(sentence)
    known = facts_in(passage + "\n\n" + allowed)
    plain = _normalised(passage + " " + allowed)
    missing: list[str] = []
    for number in sorted(said.numbers):
        if number not in known.numbers:
            missing.append(said.shown.get(number, number))
    for value, unit in sorted(said.quantities):
        units_there = {u for v, u in known.quantities if v == value}
        if value in known.numbers and units_there and unit not in units_there:
            missing.append(said.shown.get(value, f"{value} {unit}"))
    for name in sorted(said.names):
        if f" {name} " in plain:
            continue
        parts = [p for p in name.split() if p not in _CONNECTORS]
        if parts and all(f" {p} " in plain for p in parts):
            continue
        missing.append(said.shown.get(name, name))
    return list(dict.fromkeys(missing))
