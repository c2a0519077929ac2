"""Text quality checks: length, reading grade, brand rules, citations.

Each check is a small pure function over the script, so the QA node is a list of
them and each can be tested alone. Personal data is found in pii.py and taken out of
the script in redaction.py, right after ``write``. The content
checks (on topic, support, invented facts, repetition, hook, call to action, platform
limits) are in checks.py; all of them share :class:`QAContext`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import textstat
import yaml
from pydantic import BaseModel, Field, PrivateAttr

from assistant.content import MAX_SECONDS, WORDS_PER_SECOND, Brief, QACheck, Research, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.pii import Detector, describe
from assistant.tools.research.terms import TermStats


class BrandRules(BaseModel):
    banned_phrases: list[str] = Field(default_factory=list)
    required_disclosure: str = ""
    max_hashtags: int = 6
    # Business contacts (emails, phone numbers, URLs) a person approved: they stay in a
    # piece; any other personal data is taken out (pii.py).
    allowed_contacts: list[str] = Field(default_factory=list)
    # How phone numbers written without a country code are read (ISO 3166 region).
    phone_region: str = Field("US", pattern=r"^[A-Za-z]{2}$")
    _detector: Detector | None = PrivateAttr(None)

    @classmethod
    def load(cls, path: Path) -> BrandRules:
        from assistant.errors import ConfigError

        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls.model_validate(raw)
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"cannot read the brand rules file {path}: {exc}") from exc

    def detector(self) -> Detector:
        """The personal-data detector for these rules (their region and approved contacts)."""
        if self._detector is None:
            self._detector = Detector(self.phone_region, self.allowed_contacts)
        return self._detector

    def banned_in(self, text: str) -> list[str]:
        """The banned phrases in ``text``, and any personal data in it by kind (never the
        value). Personal data is never a piece's to say unless it is an approved contact, so
        the writer keeps a sentence that holds it out of its pool and its framing, as it
        does one with a banned phrase; the redact step catches what a model adds."""
        lowered = text.lower()
        found = [p for p in self.banned_phrases if p.lower() in lowered]
        return found + [f"personal data ({name})" for name in describe(self.detector().count(text))]


# --- reading grade (Flesch-Kincaid) -------------------------------------------------------


def reading_grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text`` (textstat: syllables from the CMU pronouncing
    dictionary, loaded once per process on the first call; pyphen for words it lacks)."""
    if not re.search(r"[A-Za-z]", text):
        return 0.0
    return round(float(textstat.flesch_kincaid_grade(text)), 1)


# --- the checks ---------------------------------------------------------------------------


@dataclass
class QAContext:
    brief: Brief
    script: Script
    research: Research
    rules: BrandRules
    markdown: str
    max_grade: float
    # MiniLM, for the on-topic and support checks; None falls back to stricter word tests.
    embedder: Embedder | None = None
    # The platforms whose text limits apply (platforms.platforms_for).
    platforms: list[str] = field(default_factory=list)
    # Term rarities for the on-topic gate (topic.gate_stats); None weighs key terms alike.
    term_stats: TermStats | None = None


Check = Callable[[QAContext], QACheck]

LENGTH_TOLERANCE = 0.15  # within +-15% of the target length
THIN = "sources too thin"  # what a writer's note says when the sources cannot fill the length


def length_bounds(target: int) -> tuple[int, int]:
    """The word counts that fit ``target`` (QA and the evals use the same bounds)."""
    return round(target * (1 - LENGTH_TOLERANCE)), round(target * (1 + LENGTH_TOLERANCE))


def check_length(ctx: QAContext) -> QACheck:
    words = ctx.script.word_count()
    target = ctx.brief.target_words
    low, high = length_bounds(target)
    if ctx.brief.spoken:
        seconds = words / WORDS_PER_SECOND
        limit = MAX_SECONDS.get(ctx.brief.format)
        if limit and seconds > limit:
            return QACheck(
                name="length", passed=False, fixable=True,
                message=f"about {seconds:.0f} s of speech; the platform limit is {limit} s",
            )
        measure = (f"{words} words, about {seconds:.0f} s of speech "
                   f"(target {ctx.brief.target_seconds} s, {low}-{high} words)")
    else:
        measure = f"{words} words (target {target}, {low}-{high})"
    if low <= words <= high:
        return QACheck(name="length", passed=True, message=measure)
    if words > high:
        return QACheck(name="length", passed=False, fixable=True,
                       message=f"{measure}: too long by {words - high} words")
    thin = next((n for n in ctx.script.notes if THIN in n.lower()), None)
    if thin is not None:  # an honest stop: the writer said the sources cannot fill it
        return QACheck(name="length", passed=False, severity="warning",
                       message=f"{measure}: too short, and the writer says why: {thin}")
    # Not fixable: a rewrite cannot find what research did not; a person decides.
    return QACheck(name="length", passed=False,
                   message=f"{measure}: too short by {low - words} words, and no note says "
                   f"the {THIN} — add sources on this topic or ask for a shorter piece")


def check_reading_grade(ctx: QAContext) -> QACheck:
    grade = reading_grade(ctx.script.body_text())
    ok = grade <= ctx.max_grade
    return QACheck(
        name="reading_grade", passed=ok, severity="warning",
        message=f"grade {grade} (style {ctx.brief.style} aims at <= {ctx.max_grade})",
    )


def check_brand(ctx: QAContext) -> QACheck:
    banned = ctx.rules.banned_in(ctx.markdown)
    problems = [f"banned phrase {p!r}" for p in banned]
    disclosure = ctx.rules.required_disclosure
    if disclosure and disclosure not in ctx.markdown:
        problems.append("the required disclosure is missing")
    if len(ctx.script.hashtags) > ctx.rules.max_hashtags:
        problems.append(f"{len(ctx.script.hashtags)} hashtags (max {ctx.rules.max_hashtags})")
    if problems:
        return QACheck(name="brand", passed=False, fixable=True, message="; ".join(problems))
    return QACheck(name="brand", passed=True, message="brand rules met")


def _source_exists(uri: str) -> bool:
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        return bool(parsed.netloc)
    path = Path(parsed.path if parsed.scheme == "file" else uri)
    return path.is_file()


_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/.,;") == b.rstrip("/.,;")


def citation_problems(script: Script, research: Research) -> list[str]:
    """Citations to anything this job did not retrieve: unknown source ids, a known id
    with another URL, a URL in the text that no retrieved source has, a missing file."""
    known = {s.id: s for s in research.sources}
    retrieved = [u for s in research.sources for u in (s.url, s.uri) if u]
    problems: list[str] = []
    for i, section in enumerate(script.sections, 1):
        if not section.citations:
            problems.append(f"section {i} cites no source")
        problems += [f"section {i} cites unknown source {c}" for c in section.citations
                     if c not in known]
    for source in script.citations:
        found = known.get(source.id)
        if found is None:
            problems.append(f"{source.id} ({source.title!r}) is not among the sources this "
                            "job retrieved")
            continue
        for name in ("url", "uri"):
            given, real = getattr(source, name), getattr(found, name)
            if given and not _same_url(given, real):
                problems.append(f"{source.id} links to {given}, but this job retrieved it "
                                f"from {real or 'no URL'}")
        if found.uri and not found.uri.startswith(("http://", "https://")) and not \
                _source_exists(found.uri):
            problems.append(f"{source.id} points at a missing file: {found.uri}")
    texts = [("title", script.title), ("hook", script.hook), ("call to action",
             script.call_to_action), ("description", script.description)]
    texts += [(f"section {i}", s.text) for i, s in enumerate(script.sections, 1)]
    for where, text in texts:
        for url in _URL.findall(text):
            if not any(_same_url(url, r) for r in retrieved):
                problems.append(f"{where} links to {url}, which this job did not retrieve")
    return problems


def check_citations(ctx: QAContext) -> QACheck:
    problems = citation_problems(ctx.script, ctx.research)
    if problems:
        return QACheck(name="citations", passed=False, fixable=True, message="; ".join(problems))
    return QACheck(name="citations", passed=True,
                   message=f"{len(ctx.script.citations)} sources cited, all retrieved by this job")


TEXT_CHECKS: list[Check] = [check_length, check_reading_grade, check_brand, check_citations]
