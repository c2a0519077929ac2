"""Taking personal data out of a script, so that what is heard still reads naturally.

Two rules, by where the text ends up:
- heard (a spoken piece's hook, sections and call to action) and pictured (visual
  prompts): a sentence that holds personal data is left out whole. A placeholder read
  aloud says nothing ("email bracket"), and a sentence built around a contact ("Report it
  to the coordinator on ...") has no use without it; the rest of the piece keeps its facts.
- read (titles, headings, descriptions, a written piece's body): the value becomes a
  placeholder ("[email]"), so a reader sees that something was there; a sentence that was
  only a contact line ("Email [email] or call [phone].") is left out, as it says nothing.
A section that held nothing but contact lines is dropped; if every section would be, the
sections keep their placeholders instead, so a piece never loses its whole body.
Counts by kind are all that is reported (``Redaction.notes``), never a value.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from assistant.content import Script, Section
from assistant.tools.knowledge.chunking import split_sentences
from assistant.tools.quality.pii import PLACEHOLDERS, Detector, describe, replace

NOTE_PREFIX = "personal data taken out before review: "
SPOKEN_FORMATS = ("short", "video", "podcast")
# Words a contact line is made of; a sentence with fewer than three other words is one.
_CONTACT_WORDS = """
    email e-mail mail call phone telephone tel mobile cell contact contacts reach text write
    ring fax number numbers address addresses details info information enquiries inquiries
    questions question please you your can may for more the our and or at on to via by us
    me her him them coordinator office team line lines directly today now anytime
"""
CONTACT_WORDS = frozenset(_CONTACT_WORDS.split())
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


@dataclass
class Redaction:
    """What was taken out of one script: counts by kind, and how many sentences went."""

    counts: Counter[str] = field(default_factory=Counter)
    sentences_dropped: int = 0
    sections_dropped: int = 0
    # In the writer's own notes (a verifier quoting a sentence it removed): shown to the
    # reviewer, so cleaned too, and counted apart from the piece.
    in_notes: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.counts or self.in_notes)

    def notes(self) -> list[str]:
        if not self.counts:
            return []
        notes = [NOTE_PREFIX + ", ".join(describe(self.counts))]
        if self.sentences_dropped or self.sections_dropped:
            notes.append(f"left out {self.sentences_dropped} sentence(s) and "
                         f"{self.sections_dropped} section(s) that were built around a "
                         "contact, rather than reading a placeholder aloud")
        return notes


def counts_from_notes(notes: list[str]) -> list[str]:
    """The counts a script's redaction note reports ("1 email address", ...)."""
    for note in notes:
        if note.startswith(NOTE_PREFIX):
            return note.removeprefix(NOTE_PREFIX).split(", ")
    return []


@dataclass
class _Cleaned:
    text: str
    counts: Counter[str]
    dropped: int = 0


def _is_contact_line(sentence: str) -> bool:
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", _PLACEHOLDER.sub(" ", sentence))
    return sum(1 for w in words if w.lower() not in CONTACT_WORDS and len(w) > 2) < 3


def clean(text: str, detector: Detector, *, heard: bool) -> _Cleaned:
    """``text`` without its personal data: sentences holding it left out when ``heard``,
    placeholders (and contact-only sentences left out) when read."""
    matches = detector.find(text)
    if not matches:
        return _Cleaned(text, Counter())
    counts = Counter(m.kind for m in matches)
    replaced = replace(text, matches)
    dropped = 0
    paragraphs = re.split(r"(\n\s*\n)", replaced)  # the separators stay, at odd indices
    for i in range(0, len(paragraphs), 2):
        if not _PLACEHOLDER.search(paragraphs[i]):
            continue
        kept = []
        for sentence in split_sentences(paragraphs[i]):
            if _PLACEHOLDER.search(sentence) and (heard or _is_contact_line(sentence)):
                dropped += 1
            else:
                kept.append(sentence)
        paragraphs[i] = " ".join(kept)
    result = re.sub(r"(\n\s*\n)+", "\n\n", "".join(paragraphs)).strip()
    return _Cleaned(result, counts, dropped)


def redact_script(script: Script, detector: Detector) -> tuple[Script, Redaction]:
    """``script`` with personal data out of every field, and what was taken out."""
    spoken = script.format in SPOKEN_FORMATS
    redaction = Redaction()

    def take(cleaned: _Cleaned) -> str:
        redaction.counts.update(cleaned.counts)
        redaction.sentences_dropped += cleaned.dropped
        return cleaned.text

    def read(text: str) -> str:
        return take(clean(text, detector, heard=False))

    def body(text: str) -> _Cleaned:
        return clean(text, detector, heard=spoken)

    bodies = [body(s.text) for s in script.sections]
    keep_all = all(not b.text for b in bodies)  # never drop the whole body
    sections: list[Section] = []
    for section, cleaned in zip(script.sections, bodies, strict=True):
        if keep_all:
            cleaned = _Cleaned(replace(section.text, detector.find(section.text)),
                               cleaned.counts)
        elif not cleaned.text:
            redaction.sections_dropped += 1
            redaction.counts.update(cleaned.counts)
            continue
        sections.append(section.model_copy(update={
            "heading": read(section.heading),
            "text": take(cleaned),
            "visual_prompt": take(clean(section.visual_prompt, detector, heard=True)),
        }))
    citations = [s.model_copy(update={"title": read(s.title)}) for s in script.citations]
    updated = script.model_copy(update={
        "title": read(script.title),
        "hook": take(body(script.hook)),
        "call_to_action": take(body(script.call_to_action)),
        "description": read(script.description),
        "hashtags": _without_personal(script.hashtags, detector, redaction),
        "seo_keywords": _without_personal(script.seo_keywords, detector, redaction),
        "sections": sections,
        "citations": citations,
    })
    notes = []
    for note in script.notes:
        found = detector.find(note)
        redaction.in_notes.update(m.kind for m in found)
        notes.append(replace(note, found))
    return updated.model_copy(update={"notes": notes + redaction.notes()}), redaction


def _without_personal(tags: list[str], detector: Detector, redaction: Redaction) -> list[str]:
    """Tags and keywords are one value each: one that holds personal data goes."""
    kept = []
    for tag in tags:
        found = detector.count(tag)
        redaction.counts.update(found)
        if not found:
            kept.append(tag)
    return kept
