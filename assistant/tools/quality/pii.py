"""Personal data: find it, take it out, and say only how much was taken out.

Detected: email addresses (also written out, "jane at example dot org"), phone numbers in
international and national formats (libphonenumber's matcher, through ``phonenumbers``,
with the brand rules' default region), card numbers (Luhn-checked, card-network prefixes
only), US social security numbers and IBANs (mod-97 checked). A value is replaced by a
placeholder ("[email]", "[phone]") and counted by kind; the value itself is never kept
in a result that can be logged or stored (``PIIMatch`` hides it from ``repr``).

A business contact the person approved (brand rule ``allowed_contacts``: an email, a phone
number or a URL) stays where it is. The graph's ``redact`` step runs this on every field
of a script right after ``write``; QA runs it again on the voiceover's transcript and the
captions; the job runner runs it on the request itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

KINDS = ("email", "phone", "card", "ssn", "iban", "address")
PLACEHOLDERS = {"email": "[email]", "phone": "[phone]", "card": "[card number]",
                "ssn": "[SSN]", "iban": "[IBAN]", "address": "[address]"}
NAMES = {"email": ("email address", "email addresses"),
         "phone": ("phone number", "phone numbers"),
         "card": ("card number", "card numbers"),
         "ssn": ("US social security number", "US social security numbers"),
         "iban": ("IBAN", "IBANs"),
         # only in a transcript: a web or email address as ASR heard it (find_spoken)
         "address": ("web or email address", "web or email addresses")}
# When two detectors claim the same characters, the more specific one wins.
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}

_TLDS = r"(?:com|org|net|edu|gov|info|biz|io|co|uk|us|de|fr|es|it|nl|eu|ca|au|ie)"
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                   r"\.[A-Za-z]{2,}\b")
# "jane at example dot org", "jane [at] example [dot] org": how an address is spoken, and
# how a page hides one from scrapers.
_SPELLED_DOT = r"(?:\[dot\]|\(dot\)|\bdot\b)"
SPELLED_EMAIL = re.compile(
    rf"\b[A-Za-z0-9][\w.+-]*(?:\s*{_SPELLED_DOT}\s*[\w+-]+)*"
    rf"\s*(?:\[at\]|\(at\)|\bat\b)\s*[A-Za-z0-9-]+"
    rf"(?:\s*(?:\[dot\]|\(dot\)|\bdot\b|\.)\s*[A-Za-z0-9-]+)*?"
    rf"\s*(?:\[dot\]|\(dot\)|\bdot\b)\s*{_TLDS}\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\d-])[2-6](?:[ -]?\d){12,18}(?![\d-])")
SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])"
                 r"|(?<=SSN )\d{9}\b|(?<=SSN: )\d{9}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
# A number that only could be a phone number (a fictional 555 or 01632 number, a local
# number without its area code) counts when a word just before it says it is one.
PHONE_CUE = re.compile(r"(?i)\b(?:call|calls|calling|phone|telephone|tel|mobile|cell|ring|"
                       r"text|whatsapp|fax|hotline|helpline)\b\W{0,3}(?:\w+\W+){0,3}$")
# Digits read out ("five five five, zero one three two") in a transcript.
_DIGIT_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double \w+)"
SPOKEN_DIGITS = re.compile(rf"\b{_DIGIT_WORDS}(?:[\s,-]+{_DIGIT_WORDS}){{6,}}\b",
                           re.IGNORECASE)
# A transcript writes a read-out number as digit groups, often oddly ("plus 4427,946-0958"
# for +44 20 7946 0958, faster-whisper tiny.en); two years are a range, and a count in
# thousands or a decimal is a quantity, not a phone.
DIGIT_RUN = re.compile(r"(?<![\d.,])\+?\d(?:[ ,.-]?\d){6,}")
NOT_A_PHONE = re.compile(r"^(?:(?:1[5-9]|20)\d\d ?[-–] ?(?:1[5-9]|20)?\d\d"
                         r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)$")
# What ASR makes of a spoken address ("jane.dowathedjogrescue.org" for jane.doe@...): in a
# voiceover, anything shaped like a domain is an email or web address being read out.
DOMAIN = re.compile(rf"\b[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\.{_TLDS}\b", re.IGNORECASE)

# Lengths of the IBANs each country issues (ISO 13616 registry, SWIFT, 2024).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
    "VG": 24, "XK": 20,
}


@dataclass(frozen=True)
class PIIMatch:
    kind: str
    start: int
    end: int
    # The value itself: used to cut it out, never shown (a repr reaches logs and reports).
    text: str = field(repr=False)

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """ISO 13616: the country's length, and the number mod 97 is 1 with the first four
    characters moved to the end and letters as 10..35."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def describe(counts: Counter[str] | dict[str, int]) -> list[str]:
    """``{"email": 2}`` as ``["2 email addresses"]``, in the order of ``KINDS``."""
    return [f"{n} {NAMES[k][0 if n == 1 else 1]}" for k in KINDS if (n := counts.get(k, 0))]


class Detector:
    """Finds personal data in text; ``region`` reads national phone formats ("US", "GB");
    ``allowed`` are the contacts a person approved (emails, phone numbers, URLs)."""

    def __init__(self, region: str = "US", allowed: Iterable[str] = ()) -> None:
        self.region = region.upper()
        self.allowed_emails: set[str] = set()
        self.allowed_phones: set[str] = set()
        self.allowed_urls: list[str] = []
        for contact in (c.strip() for c in allowed if c.strip()):
            if re.match(r"(?i)^(?:https?://|www\.|mailto:)", contact):
                self.allowed_urls.append(contact)
                if contact.lower().startswith("mailto:"):
                    self.allowed_emails.add(contact[7:].lower())
            elif "@" in contact:
                self.allowed_emails.add(contact.lower())
            elif (number := self._e164(contact)) is not None:
                self.allowed_phones.add(number)

    def _e164(self, raw: str) -> str | None:
        try:
            parsed = phonenumbers.parse(raw, self.region)
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)

    def find(self, text: str) -> list[PIIMatch]:
        """Every piece of personal data in ``text``, left to right, none overlapping."""
        if not re.search(r"[@\d]|\bat\b|\[at\]|\(at\)", text, re.IGNORECASE):
            return []  # nothing to find: most sentences, at no cost
        found = [PIIMatch("email", m.start(), m.end(), m.group()) for m in EMAIL.finditer(text)]
        found += [PIIMatch("email", m.start(), m.end(), m.group())
                  for m in SPELLED_EMAIL.finditer(text)]
        if any(ch.isdigit() for ch in text):
            found += self._ibans(text)
            found += [PIIMatch("card", m.start(), m.end(), m.group()) for m in CARD.finditer(text)
                      if luhn_valid(re.sub(r"\D", "", m.group()))]
            found += [PIIMatch("ssn", m.start(), m.end(), m.group()) for m in SSN.finditer(text)]
            found += self._phones(text, Leniency.VALID)
            found += [m for m in self._phones(text, Leniency.POSSIBLE) + _digit_runs(text)
                      if PHONE_CUE.search(text[max(0, m.start - 40):m.start])]
        return self._allowed_removed(text, _without_overlaps(found))

    def find_spoken(self, text: str) -> list[PIIMatch]:
        """``find`` and what a transcript makes of a spoken value: any number a phone could
        have (not only a valid one), runs of seven or more digits, digits read out as words."""
        found = self.find(text)
        found += self._phones(text, Leniency.POSSIBLE)
        found += _digit_runs(text)
        found += [PIIMatch("phone", m.start(), m.end(), m.group())
                  for m in SPOKEN_DIGITS.finditer(text)]
        found += [PIIMatch("address", m.start(), m.end(), m.group())
                  for m in DOMAIN.finditer(text) if not self._allowed_domain(m.group())]
        return self._allowed_removed(text, _without_overlaps(found))

    def _allowed_domain(self, heard: str) -> bool:
        """An approved contact's own domain may be read out ("visit example.org")."""
        domains = {e.rsplit("@", 1)[-1] for e in self.allowed_emails}
        domains |= {re.sub(r"(?i)^(?:https?://|mailto:[^@]*@)?(?:www\.)?", "", u).split("/")[0]
                    for u in self.allowed_urls}
        heard = heard.lower()
        return any(d and (heard == d.lower() or heard.endswith("." + d.lower()))
                   for d in domains)

    def count(self, text: str, *, spoken: bool = False) -> Counter[str]:
        return Counter(m.kind for m in (self.find_spoken(text) if spoken else self.find(text)))

    def _phones(self, text: str, leniency: int) -> list[PIIMatch]:
        return [PIIMatch("phone", m.start, m.end, m.raw_string)
                for m in PhoneNumberMatcher(text, self.region, leniency=leniency)]

    def _ibans(self, text: str) -> list[PIIMatch]:
        found = []
        for m in IBAN.finditer(text):
            # The pattern may run on into a following capitalised word: take the country's
            # length of characters, spaces aside.
            length = IBAN_LENGTHS.get(m.group()[:2], 0)
            taken, end = 0, m.start()
            for end, ch in enumerate(m.group(), m.start()):  # noqa: B007 - end is kept
                taken += ch != " "
                if taken == length:
                    break
            compact = text[m.start():end + 1].replace(" ", "")
            if taken == length and iban_valid(compact):
                found.append(PIIMatch("iban", m.start(), end + 1, text[m.start():end + 1]))
        return found

    def _allowed_removed(self, text: str, found: list[PIIMatch]) -> list[PIIMatch]:
        if not (self.allowed_emails or self.allowed_phones or self.allowed_urls):
            return found
        inside_urls = [(m.start(), m.end()) for url in self.allowed_urls
                       for m in re.finditer(re.escape(url), text, re.IGNORECASE)]
        kept = []
        for match in found:
            if any(a <= match.start and match.end <= b for a, b in inside_urls):
                continue
            if match.kind == "email" and match.text.lower() in self.allowed_emails:
                continue
            if match.kind == "phone" and self._e164(match.text) in self.allowed_phones:
                continue
            kept.append(match)
        return kept


def _digit_runs(text: str) -> list[PIIMatch]:
    return [PIIMatch("phone", m.start(), m.end(), m.group()) for m in DIGIT_RUN.finditer(text)
            if not NOT_A_PHONE.match(m.group())]


def _without_overlaps(found: list[PIIMatch]) -> list[PIIMatch]:
    """The longest, most specific match of each stretch of text, left to right."""
    ordered = sorted(found, key=lambda m: (m.start, -(m.end - m.start), _PRIORITY[m.kind]))
    kept: list[PIIMatch] = []
    for match in ordered:
        if kept and match.start < kept[-1].end:
            continue
        kept.append(match)
    return kept


def replace(text: str, matches: list[PIIMatch]) -> str:
    """``text`` with each match replaced by its placeholder."""
    for match in sorted(matches, key=lambda m: m.start, reverse=True):
        text = text[:match.start] + match.placeholder + text[match.end:]
    return text
