"""Fill an outline from the source-sentence pool, toward the target length, never repeating.

Each beat takes the free source sentences closest to it (each sentence serves one beat of
one piece); long formats then take further on-topic sentences until the target is reached.
When the pool runs dry the piece stays short: ``thin_note`` says so rather than padding.
A sentence that would repeat a six-word run already said is skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from assistant.content import WORDS_PER_SECOND, Brief, Section
from assistant.tools.writing.outline import MAX_PER_BEAT, Beat
from assistant.tools.writing.pool import DEFINES, Pool, SourceSentence

RUN = 6  # words: a run this long said twice is a repeat
# Words the hook and call to action take, roughly, per format.
FRAMING_WORDS = {"short": 22, "social": 20, "video": 25, "podcast": 28, "blog": 28}
THIN = 0.85  # below this share of the target, the note says the sources were too thin
WEAK_SECTION = 0.4  # a source section whose best sentences score below this opens no section
# ...nor one far below the strongest: on the sample tides pages, their own sections scored
# 0.55-0.77 against "how tides work", a "Surfing" summary that mentions a tidal bore 0.45.
SECTION_RELATIVE = 0.65
OVERSHOOT = 1.1  # a sentence that would pass the target by more than this is skipped
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass
class Line:
    """One sentence of the piece and the source sentence it states."""

    text: str
    source: SourceSentence
    rewritten: bool = False

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Part:
    """A section in the making: a beat and its lines."""

    beat: Beat
    heading: str = ""
    lines: list[Line] = field(default_factory=list)
    visual: str = ""  # a model's image prompt, when it wrote one

    @property
    def words(self) -> int:
        return sum(line.words for line in self.lines)

    def order(self) -> None:
        """The sources' own order reads best: by source, then by place in the source."""
        rank: dict[str, int] = {}
        for line in self.lines:
            rank.setdefault(line.source.source_id, len(rank))
        self.lines.sort(key=lambda ln: (rank[ln.source.source_id], ln.source.position))

    def to_section(self, wps: float = WORDS_PER_SECOND) -> Section:
        text = " ".join(line.text for line in self.lines)
        return Section(
            heading=self.heading or self.beat.heading,
            text=text,
            visual_prompt=self.visual,
            target_seconds=round(len(text.split()) / wps, 1),
            citations=list(dict.fromkeys(line.source.source_id for line in self.lines)),
        )


def runs(text: str, run: int = RUN) -> set[tuple[str, ...]]:
    words = _TOKEN.findall(text.lower())
    return {tuple(words[i:i + run]) for i in range(len(words) - run + 1)}


class Said:
    """What the piece has said so far, as six-word runs and whole sentences."""

    def __init__(self, *texts: str) -> None:
        self.grams: set[tuple[str, ...]] = set()
        self.sentences: set[str] = set()
        for text in texts:
            self.add(text)

    def repeats(self, text: str) -> bool:
        key = " ".join(_TOKEN.findall(text.lower()))
        return key in self.sentences or bool(runs(text) & self.grams)

    def add(self, text: str) -> None:
        self.sentences.add(" ".join(_TOKEN.findall(text.lower())))
        self.grams |= runs(text)


def budget_words(brief: Brief) -> int:
    return max(brief.target_words - FRAMING_WORDS[brief.format], 15)


LONG_FORMS = ("blog", "video", "podcast")
CLOSING_BEATS = ("takeaway", "contact")  # further source sections go before these
OPENING_BEATS = ("what", "happened")  # a source's opening section fits these best
HEADING_BONUS = 0.1  # about a beat's cue words: enough to decide between close sections


def plan(brief: Brief, pool: Pool, beats: list[Beat], said: Said) -> list[Part]:
    """One part per beat, each filled with its closest free sentences up to its share.

    A short's scene is a sentence or two, picked one by one. A long piece's section is a
    section of a source (its sentences in the author's order), picked per beat: sentences
    gathered from everywhere read as a list, not as a paragraph.
    """
    budget = budget_words(brief)
    cap = MAX_PER_BEAT[brief.format]
    parts: list[Part] = []
    for beat in beats:
        if total_words(parts) >= budget:
            break
        part = Part(beat)
        if brief.format in LONG_FORMS:
            _take_group(part, pool, brief, said, cap, budget - total_words(parts))
        else:
            _take_sentences(part, pool, brief, said, cap, beat.share * budget,
                            budget * OVERSHOOT - total_words(parts))
        if part.lines:
            parts.append(part)
    fill(brief, pool, parts, said)
    for part in parts:
        part.order()
    name_headings(parts)
    return parts


def _add(part: Part, sentence: SourceSentence, pool: Pool, said: Said) -> None:
    part.lines.append(Line(sentence.text, sentence))
    pool.use(sentence)
    said.add(sentence.text)


def _take_sentences(part: Part, pool: Pool, brief: Brief, said: Said, cap: int,
                    room: float, left: float) -> None:
    for sentence in pool.rank(part.beat, brief.topic):
        if len(part.lines) >= cap or part.words >= room:
            break
        if part.lines and part.words + sentence.words > room * 1.15:
            continue
        if part.beat.key != "what" and DEFINES.match(sentence.text):
            continue  # a definition belongs to "what it is", not to the middle of a scene
        if not part.lines and sentence.words > max(room * 1.6, left * OVERSHOOT):
            continue  # a scene's first sentence may use what the piece has left, about
        if not said.repeats(sentence.text):
            _add(part, sentence, pool, said)


def _take_group(part: Part, pool: Pool, brief: Brief, said: Said, cap: int,
                room: float) -> None:
    """The free source section that fits the beat best, in its own order, up to ``cap``."""
    scores = pool.scores(part.beat, brief.topic)
    groups: dict[tuple[str, str], list[SourceSentence]] = {}
    for s in pool.free():
        groups.setdefault((s.source_id, s.heading), []).append(s)
    strongest = max((_strength(m) for m in groups.values()), default=0.0)
    # A page that only mentions the topic ("Surfing": a tidal bore) fills no beat; every
    # section of a page about the topic may ("What Residents Should Do" of a notice).
    floor = max(WEAK_SECTION, SECTION_RELATIVE * strongest)
    groups = {k: m for k, m in groups.items() if k[0] in pool.about or _strength(m) >= floor}
    if not groups:
        return

    def fit(members: list[SourceSentence]) -> float:
        top = sorted((float(scores[m.index]) for m in members), reverse=True)[:2]
        value = sum(top) / len(top)
        # A section whose own heading names the beat's job ("Who Is Affected", "What
        # Residents Should Do", "Contact") is that beat; a page's opening section says
        # what it is or what happened (a notice's "Traffic and Parking" says "closed" too).
        value += HEADING_BONUS * bool(part.beat.cues_in(members[0].heading))
        if part.beat.key in OPENING_BEATS and min(m.position for m in members)[0] == 0:
            value += HEADING_BONUS
        return value

    members = max(groups.values(), key=fit)
    best = sorted(members, key=lambda m: -scores[m.index])[:cap]  # its best, read in order
    for sentence in sorted(best, key=lambda m: m.position):
        if part.words + sentence.words > room * OVERSHOOT:
            continue  # a shorter sentence of the section may still fit
        if not said.repeats(sentence.text):
            _add(part, sentence, pool, said)
    part.heading = members[0].heading


def trim(parts: list[Part], limit: int) -> list[str]:
    """Cut the body to ``limit`` words: first the weakest of a section's several lines, then
    whole closing sections (never the opening one). Returns what was cut, for the notes."""
    cut: list[str] = []
    while total_words(parts) > limit:
        lines = [(ln, p) for p in parts if len(p.lines) > 1 for ln in p.lines]
        if lines:
            line, part = min(lines, key=lambda lp: lp[0].source.topic_score)
            part.lines.remove(line)
            cut.append(line.text)
        elif len(parts) > 1:
            weakest = min(parts[1:], key=lambda p: p.lines[0].source.topic_score)
            parts.remove(weakest)
            cut.extend(ln.text for ln in weakest.lines)
        else:
            break
    return cut


def total_words(parts: list[Part]) -> int:
    return sum(p.words for p in parts)


def fill(brief: Brief, pool: Pool, parts: list[Part], said: Said) -> None:
    """Add further free on-topic sentences until the body reaches its budget.

    A short deepens its beats (it has its scenes). A long piece first completes the source
    sections it already quotes, then adds further source sections whole, before its
    closing beat; sentences sprinkled by similarity into other sections read as a list.
    """
    budget = budget_words(brief)
    cap = MAX_PER_BEAT[brief.format]
    if brief.format not in LONG_FORMS:
        for sentence in sorted(pool.free(), key=lambda s: -s.topic_score):
            total = total_words(parts)
            if total >= budget:
                break
            if total + sentence.words > budget * OVERSHOOT or said.repeats(sentence.text):
                continue
            home = _closest(pool, sentence, parts, cap)
            if home is not None:
                _add(home, sentence, pool, said)
        return
    groups: dict[tuple[str, str], list[SourceSentence]] = {}
    for s in pool.free():
        groups.setdefault((s.source_id, s.heading), []).append(s)
    homes = {(ln.source.source_id, ln.source.heading): p for p in parts for ln in p.lines}
    extra: list[Part] = []

    best = max((_strength(m) for m in groups.values()), default=0.0)
    for key, members in sorted(groups.items(), key=lambda kv: -_strength(kv[1])):
        home = homes.get(key)
        if home is None:
            # A page that only mentions the topic ("Surfing": a tidal bore) opens no section.
            if key[0] not in pool.about and (
                    _strength(members) < max(WEAK_SECTION, SECTION_RELATIVE * best)):
                continue
            heading = key[1] or pool.titles.get(key[0], "")
            home = Part(Beat("more", heading or "More", "", 0.0), heading=heading)
            extra.append(home)
        for sentence in sorted(members, key=lambda m: m.position):
            total = total_words(parts) + total_words(extra)
            if total >= budget or len(home.lines) >= cap:
                break
            if total + sentence.words > budget * OVERSHOOT or said.repeats(sentence.text):
                continue
            _add(home, sentence, pool, said)
    extra = [p for p in extra if p.lines]
    # Further sections read in their authors' order: by source, then by place in it.
    rank: dict[str, int] = {}
    for p in [*parts, *extra]:
        for ln in p.lines:
            rank.setdefault(ln.source.source_id, len(rank))
    extra.sort(key=lambda p: (rank[p.lines[0].source.source_id],
                              min(ln.source.position for ln in p.lines)))
    if extra:
        # ...before the closing beat: a takeaway, or a notice's contact.
        ends = parts and parts[-1].beat.key in CLOSING_BEATS
        closing = len(parts) - 1 if ends else len(parts)
        parts[closing:closing] = extra


def _strength(members: list[SourceSentence]) -> float:
    """How much a source section is about the topic: its two best sentences."""
    top = sorted((m.topic_score for m in members), reverse=True)[:2]
    return sum(top) / len(top)


def _closest(pool: Pool, sentence: SourceSentence, parts: list[Part], cap: int) -> Part | None:
    """The part whose lines are closest to ``sentence``, when close enough and not full."""
    best, best_sim = None, 0.5  # below this, a sentence belongs to a section of its own
    for part in parts:
        if len(part.lines) >= cap or not part.lines:
            continue
        if part.beat.key != "what" and DEFINES.match(sentence.text):
            continue  # a definition ("The sky is an unobstructed view ...") opens, or nothing
        rows = [line.source.index for line in part.lines]
        sim = float((pool.vectors[rows] @ pool.vectors[sentence.index]).max())
        if sim > best_sim:
            best, best_sim = part, sim
    return best


def name_headings(parts: list[Part]) -> None:
    """A part takes its sources' own heading when that heading is its majority and unused;
    else the beat's plain heading."""
    taken: set[str] = set()
    for part in parts:
        counts = Counter(line.source.heading for line in part.lines if line.source.heading)
        options = [h for h, _ in counts.most_common()] + [part.heading, part.beat.heading]
        part.heading = next((h for h in options if h and h.lower() not in taken),
                            part.beat.heading)
        taken.add(part.heading.lower())


def thin_note(brief: Brief, words: int, passages: int = 0, passage_words: int = 0) -> str | None:
    """"sources too thin: N of M words" when the piece could not reach its length, and
    what research handed over (so a reader knows whether to add sources or search deeper)."""
    if words >= THIN * brief.target_words:
        return None
    note = (f"sources too thin: {words} of {brief.target_words} words; every usable "
            "sentence about the topic is used once and none is repeated")
    if passages:
        note += f" (research found {passages} passages, {passage_words} words"
        note += "; try --depth deep" if brief.depth == "shallow" else ""
        note += ", or add material with `assistant kb add PATH`)"
    return note


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
