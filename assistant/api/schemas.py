"""The API's request and response models: what the OpenAPI document promises."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from assistant.content import TOPIC_MAX_CHARS, Depth, Format, Style

API_VERSION = "1.0.0"
API_PREFIX = "/api/v1"
# What a field's pattern means, in words, for the 422 message (a regex says nothing to a user)
PATTERN_HINTS = {
    "topic": "the topic is empty: say what the content should be about",
    "lang": "not a language code: use one like en, es or fr",
}
JobStatus = Literal["pending", "processing", "review", "published", "rejected", "failed",
                    "cancelled"]
ReviewAction = Literal["approve", "revise", "reject"]


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class JobCreate(BaseModel):
    """A new job: what to make. The same values as ``/new`` in chat."""

    topic: str = Field(min_length=1, max_length=TOPIC_MAX_CHARS, pattern=r"[^\W_]",
                       examples=["how tides work"],
                       description="What it is about (at least one letter or digit).")
    format: Format = "blog"
    style: Style = "casual"
    seconds: int | None = Field(None, gt=0, le=100_000,
                                description="Target length of spoken formats, in seconds.")
    words: int | None = Field(None, gt=0, le=100_000, description="Target length in words.")
    depth: Depth | None = Field(None, description="How hard research looks (default: by "
                                                  "format, as in chat).")
    lang: str = Field("en", min_length=2, max_length=16,
                      pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
                      description="Language of the content, an ISO 639-1 code (en, es, fr).")
    publish_to: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        None, max_length=10, description="Platforms to publish to once approved (default: "
                                         "the server's ASSISTANT_PUBLISH_TO).")

    @field_validator("topic")
    @classmethod
    def _visible(cls, value: str) -> str:
        # chat never starts a job on a topic of spaces or zero-width characters either
        if not any(ch.isalnum() for ch in value):
            raise ValueError("the topic is empty: say what the content should be about")
        return value


class ReviseRequest(BaseModel):
    notes: str = Field(min_length=1, max_length=5000,
                       description="What should change, in words the writer can act on.")


class Step(BaseModel):
    name: str
    order: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None
    error: str | None


class Artifact(BaseModel):
    id: str
    name: str
    step: str
    type: str
    mime: str
    size: int
    sha256: str
    version: int
    download_url: str = Field(description="A signed link, valid for a limited time.")


class Review(BaseModel):
    """What a job in ``review`` waits for."""

    stage: str = Field(description="The review waiting: review_script or review_final.")
    description: str
    preview_markdown: str
    actions: list[ReviewAction]
    allow_revise: bool


class PublicationOut(BaseModel):
    id: str
    job_id: str
    platform: str
    location: str | None
    platform_post_id: str | None
    status: str
    published_at: datetime


class JobSummary(BaseModel):
    id: str
    title: str
    format: str
    style: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    error: str | None


class JobDetail(JobSummary):
    brief: dict[str, Any]
    steps: list[Step]
    artifacts: list[Artifact]
    review: Review | None = Field(description="Set while the status is review.")
    publications: list[PublicationOut]


class JobPage(BaseModel):
    items: list[JobSummary]
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the "
                                                "last one.")


class JobAction(BaseModel):
    """What a cancel or review decision did (it runs on in the background: poll the job)."""

    job_id: str
    status: JobStatus
    message: str


class LogEntry(BaseModel):
    agent: str
    level: str
    message: str
    created_at: datetime


class JobLogs(BaseModel):
    job_id: str
    items: list[LogEntry]


class ArtifactList(BaseModel):
    job_id: str
    items: list[Artifact]


class KbSource(BaseModel):
    id: str
    title: str
    name: str
    scope: Literal["shared", "personal", "workspace"]
    chunks: int
    added_at: str | None


class KbList(BaseModel):
    items: list[KbSource]


class KbAdded(BaseModel):
    id: str
    title: str
    name: str
    chunks: int
    status: Literal["added", "unchanged", "updated"]
    message: str


class Deleted(BaseModel):
    id: str
    deleted: bool


class ContentItem(BaseModel):
    job: JobSummary
    publications: list[PublicationOut]


class ContentList(BaseModel):
    items: list[ContentItem]
    limit: int
    offset: int
    next_offset: int | None


class PublicationList(BaseModel):
    job_id: str
    items: list[PublicationOut]


class Usage(BaseModel):
    username: str
    period_start: datetime
    period_end: datetime
    jobs: int = Field(description="Jobs started in the period.")
    limits: dict[str, int | None] = Field(
        default_factory=dict, description="The tier's limits, where the billing service "
                                          "knows them (null: unlimited).")
    tier: str | None = None
    metered: dict[str, float] = Field(default_factory=dict,
                                      description="Other metered usage (tokens, seconds).")
