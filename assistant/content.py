"""The content model every part shares: what was asked, found, written, checked, made
and published.

Channels, tools, the CLI, evals and the graph all speak these types; the graph's
``PipelineState`` (assistant/graph/state.py) is one typed dict of them. They are plain
pydantic models, so a checkpoint round-trips them and a test can build one by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from annotated_types import MaxLen
from pydantic import BaseModel, Field, field_validator

M = TypeVar("M", bound=BaseModel)

Format = Literal["short", "video", "podcast", "blog", "social"]
Style = Literal["casual", "professional", "academic", "viral"]
# How hard research looks: the number of sub-queries and hits per query
# (assistant/tools/research/planning.py says how many each means).
Depth = Literal["shallow", "deep", "exhaustive"]
DEPTHS: tuple[Depth, ...] = ("shallow", "deep", "exhaustive")
FORMATS: tuple[Format, ...] = ("short", "video", "podcast", "blog", "social")
STYLES: tuple[Style, ...] = ("casual", "professional", "academic", "viral")

TOPIC_MAX_CHARS = 500


def clip_words(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary (``ellipsis`` marks
    the cut, inside the limit). A code-filled field must fit its bound: a pydantic
    ValidationError over a long topic is a crash the user cannot act on."""
    if len(text) <= limit:
        return text
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = max(limit - len(ellipsis), 0)
    cut = text[:room + 1]
    # the last space inside the room; a single long word is cut where the room ends
    head = cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut[:room]
    head = head[:room].rstrip(" ,;:-–—")
    return (head + ellipsis)[:limit] if head else text[:limit]


def fit(model: type[M], **values: Any) -> M:
    """``model(**values)`` with every string cut to its field's ``max_length`` at a word
    boundary and every list to its length bound: for the fields code fills from a topic or
    a model's output, never from a person's exact words."""
    for name, value in values.items():
        field = model.model_fields.get(name)
        bound = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)),
                     None) if field else None
        if bound is None:
            continue
        if isinstance(value, str):
            values[name] = clip_words(value, bound)
        elif isinstance(value, list):
            values[name] = value[:bound]
    return model(**values)

# Speaking rate used to turn seconds of speech into words (and back).
WORDS_PER_SECOND = 2.5

# What a user expects when they give no length: (seconds of speech, words of text).
DEFAULT_LENGTH: dict[Format, tuple[int | None, int]] = {
    "short": (45, int(45 * WORDS_PER_SECOND)),
    "video": (180, int(180 * WORDS_PER_SECOND)),
    "podcast": (300, int(300 * WORDS_PER_SECOND)),
    "blog": (None, 800),
    "social": (None, 120),
}

# How hard research looks when the person does not say: a long piece needs the sources a
# deep search finds (the tides blog reached 772 of 800 words at deep, 385 at shallow), a
# short or a post is filled by a shallow one and keeps its write step quick.
DEFAULT_DEPTH: dict[Format, Depth] = {
    "short": "shallow",
    "social": "shallow",
    "video": "deep",
    "podcast": "deep",
    "blog": "deep",
}

# Which template writes each format (assistant/templates/<name>.*.j2).
TEMPLATE_FOR_FORMAT: dict[Format, str] = {
    "short": "short",
    "video": "youtube_script",
    "podcast": "podcast_script",
    "blog": "blog_post",
    "social": "social_post",
}

# Platform limits that QA enforces on spoken formats.
MAX_SECONDS: dict[Format, int] = {"short": 60}


class Brief(BaseModel):
    """What the person asked for."""

    topic: str
    format: Format = "blog"
    style: Style = "casual"
    target_seconds: int | None = None
    target_words: int = 0
    audience: str = "a curious general audience"
    user: str = "local"
    notes: str = ""
    depth: Depth = "shallow"
    language: str = Field("en", description="ISO 639-1 code of the content (en, es, fr, ...).")
    # where it is published (assistant/tools/publishing names); empty: ASSISTANT_PUBLISH_TO
    platforms: list[str] = Field(default_factory=list)
    publish_at: datetime | None = Field(None, description="UTC; None: publish once approved.")

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        # "en-US", "EN", "fr_FR" -> the two-letter code every provider understands.
        code = value.strip().replace("_", "-").split("-")[0].lower()
        if not code.isalpha() or not 2 <= len(code) <= 3:
            raise ValueError(f"'{value}' is not a language code: use one like en, es or fr")
        return code

    @field_validator("topic")
    @classmethod
    def _topic_is_usable(cls, value: str) -> str:
        topic = " ".join(value.split())
        if not topic:
            raise ValueError("the topic is empty: say what the content should be about")
        if len(topic) > TOPIC_MAX_CHARS:
            raise ValueError(
                f"the topic is {len(topic):,} characters long; the limit is {TOPIC_MAX_CHARS}: "
                "give a short topic and put background material in the knowledge base"
            )
        return topic

    @classmethod
    def create(
        cls,
        topic: str,
        format: Format = "blog",
        style: Style = "casual",
        *,
        seconds: int | None = None,
        words: int | None = None,
        user: str = "local",
        depth: Depth | None = None,
        language: str = "en",
    ) -> Brief:
        """A brief with the format's default length and research depth unless given."""
        default_seconds, default_words = DEFAULT_LENGTH[format]
        if seconds is not None and words is None:
            words = int(seconds * WORDS_PER_SECOND)
        if words is not None and seconds is None and default_seconds is not None:
            seconds = int(words / WORDS_PER_SECOND)
        return cls(
            topic=topic,
            format=format,
            style=style,
            target_seconds=seconds if seconds is not None else default_seconds,
            target_words=words if words is not None else default_words,
            user=user,
            depth=depth if depth is not None else DEFAULT_DEPTH[format],
            language=language,
        )

    @property
    def spoken(self) -> bool:
        return self.format in ("short", "video", "podcast")


class Source(BaseModel):
    """A document the content may cite."""

    id: str
    title: str
    uri: str = Field(
        description="Where this job can read it again: a stored file (file://...) for a "
        "knowledge-base document, else the same as url. Internal: never shown as a citation."
    )
    url: str = Field("", description="Public citation URL; empty for a local file.")
    provider: str = Field("", description="Research provider that found it (kb, encyclopedia..).")
    license: str = Field("", description="Attribution, e.g. 'CC BY-SA 4.0 (Wikipedia)'.")
    language: str = ""
    retrieved_at: datetime | None = None

    def citation(self) -> str:
        """What a reader is shown: the title, the public URL when there is one, and the
        attribution the license asks for."""
        text = f"{self.title} <{self.url}>" if self.url else self.title
        return f"{text}, {self.license}" if self.license else text


class Finding(BaseModel):
    """A retrieved passage, with the source it came from."""

    text: str
    source_id: str
    heading: str = ""
    score: float = 0.0
    chunk_index: int = 0
    facet: str = Field("", description="The planned facet whose sub-query found it.")
    relevance: float = Field(
        0.0, description="The relevance gate's score: higher is more on topic."
    )


class Coverage(BaseModel):
    """Whether research found support for one facet of the topic."""

    facet: str
    query: str
    covered: bool = False
    passages: int = 0


class Research(BaseModel):
    query: str
    findings: list[Finding] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    coverage: list[Coverage] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list,
        description="What research left out and why (unreachable providers, dropped "
        "instructions, ...).",
    )

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def uncovered(self) -> list[Coverage]:
        """The facets nothing relevant was found for: the writer must not claim them."""
        return [c for c in self.coverage if not c.covered]

    def covered(self) -> list[Coverage]:
        return [c for c in self.coverage if c.covered]

    def for_facet(self, facet: str) -> list[Finding]:
        """The passages found for ``facet``, best first."""
        return [f for f in self.findings if f.facet == facet]


class Section(BaseModel):
    """A scene (spoken formats), a section (blog) or a post (social)."""

    heading: str = ""
    text: str
    visual_prompt: str = ""
    target_seconds: float = 0.0
    citations: list[str] = Field(default_factory=list, description="Source ids.")


class Script(BaseModel):
    """The written piece, whatever the format."""

    format: Format
    title: str
    hook: str
    sections: list[Section]
    call_to_action: str = ""
    description: str = ""
    hashtags: list[str] = Field(default_factory=list)
    seo_keywords: list[str] = Field(default_factory=list)
    citations: list[Source] = Field(default_factory=list)
    version: int = 1
    writer: str = Field("", description="How it was written: grounded/generative + model.")
    notes: list[str] = Field(default_factory=list, description="What the writer fell back on.")

    def body_text(self) -> str:
        """Everything a reader reads or a voice speaks, in order."""
        parts = [self.hook, *(s.text for s in self.sections), self.call_to_action]
        return "\n\n".join(p for p in parts if p)

    def word_count(self) -> int:
        return len(self.body_text().split())

    def spoken_scenes(self) -> list[str]:
        """What the voice says over each scene: the hook opens the first, the call to
        action closes the last."""
        texts = [s.text for s in self.sections]
        if not texts:
            return [t for t in (self.hook, self.call_to_action) if t]
        texts[0] = f"{self.hook} {texts[0]}".strip()
        texts[-1] = f"{texts[-1]} {self.call_to_action}".strip()
        return texts


class QACheck(BaseModel):
    name: str
    passed: bool
    message: str
    severity: Literal["error", "warning", "info"] = "error"
    fixable: bool = False


class QAReport(BaseModel):
    round: int = 1
    checks: list[QACheck] = Field(default_factory=list)
    redactions: list[str] = Field(default_factory=list)
    reading_grade: float | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.severity == "error")

    @property
    def fixable_failures(self) -> list[QACheck]:
        return [c for c in self.checks if not c.passed and c.fixable and c.severity == "error"]


class ReviewDecision(BaseModel):
    """The resume value of a human review interrupt."""

    action: Literal["approve", "revise", "reject"]
    notes: str = ""
    by: str = "unknown"
    stage: str = ""


class Publication(BaseModel):
    """Where a piece went on one platform (assistant/tools/publishing), as the platform said."""

    platform: str
    location: str
    files: list[str] = Field(default_factory=list)
    url: str = ""
    post_id: str = Field("", description="The platform's id of the post, video or message.")
    # published: the platform has it (a WordPress post set to 'future' included); scheduled:
    # waiting in our publications table for its publish_at; failed: see error
    status: Literal["published", "scheduled", "failed"] = "published"
    publish_at: datetime | None = None
    error: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)


class SceneMedia(BaseModel):
    image: str
    start_s: float = 0.0
    end_s: float = 0.0


class MediaAssets(BaseModel):
    """Files the media steps made (artifact paths) and what they measured."""

    scenes: list[SceneMedia] = Field(default_factory=list)
    thumbnail: str = ""
    voiceover: str = ""
    voiceover_seconds: float = 0.0
    captions_srt: str = ""
    captions_ass: str = ""
    transcript: str = ""
    wer: float | None = None
    output: str = ""
    preset: str = ""
    version: int = 0
