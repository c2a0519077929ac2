"""Word error rate (jiwer) with a light normalisation (case, punctuation, small numbers)."""

from __future__ import annotations

import re

import jiwer

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}


def number_to_words(number: int) -> str:
    """Spell a non-negative integer in English words (no 'and'): 1042 -> one thousand forty two."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, rest = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[rest]}" if rest else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for scale, word in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            return f"{number_to_words(head)} {word}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation or apostrophes; digits spelled out; hyphens split."""
    text = text.lower().replace("’", "'")
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(?<=\d)\.(?=\d)", " point ", text)  # 2.5 -> 2 point 5
    text = re.sub(r"\d+", lambda m: f" {number_to_words(int(m.group()))} ", text)
    text = text.replace("'", "")  # it's == its: the apostrophe is a spelling detail
    text = re.sub(r"[^\w\s]|_", " ", text)
    return text.split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edits needed to turn the hypothesis into the reference, per reference word (jiwer,
    over the words :func:`normalize_words` gives).

    0.0 is a perfect match; it can exceed 1.0 when the hypothesis has many extra words. An
    empty reference gives 0.0 against an empty hypothesis and 1.0 otherwise.
    """
    ref = normalize_words(reference)
    hyp = normalize_words(hypothesis)
    if not ref:  # jiwer refuses an empty reference
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(" ".join(ref), " ".join(hyp)))
