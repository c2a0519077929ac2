"""SQLAlchemy models after the PRD schema (section 5.1), portable between SQLite and PostgreSQL.

Differences from the PRD, on purpose:

- ids are ``Uuid`` generated in Python (native UUID on PostgreSQL, CHAR(32) on SQLite), except
  ``jobs.id`` which is a readable string chosen by the app (``job-3f9a1c2b``);
- enums are plain strings (the allowed values are the constants below), arrays are JSON lists;
- there is no ``agents`` table: pipeline steps are graph nodes, so steps store the node name and
  logs the agent name;
- ``approvals`` has ``stage`` / ``round`` (unique per job) and ``decided_by`` / ``decided_at``;
  ``content_artifacts`` has ``step`` and ``sha256``; ``publications`` is unique per platform;
- timestamps are set in Python (UTC), and ``updated_at`` on every ORM update; there are no
  triggers, extensions or row-level security policies;
- indexes that the PRD declares ``DESC`` are plain: a b-tree is read backwards just as fast.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JOB_STATUSES = frozenset(
    {"pending", "processing", "review", "published", "rejected", "failed", "cancelled"}
)
JOB_FINISHED = frozenset({"published", "rejected", "cancelled"})
CONTENT_TYPES = frozenset({"short", "video", "podcast", "blog", "social"})
STEP_STATUSES = frozenset({"pending", "processing", "completed", "failed"})
APPROVAL_STATUSES = frozenset({"pending", "approved", "revise", "rejected"})

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always gives back aware UTC datetimes.

    SQLite keeps no zone: values are stored as UTC and read back as naive, so the zone is
    attached again here; naive values coming in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
JOB_ID = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, nullable=False, default=utcnow)


def _updated() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


def _json(nullable: bool = False, default: Any = dict) -> Mapped[Any]:
    return mapped_column(JSONType, nullable=nullable, default=default)


def _meta() -> Mapped[dict[str, Any]]:
    return mapped_column("metadata", JSONType, nullable=False, default=dict)


def _fk(target: str, ondelete: str | None = "CASCADE", nullable: bool = False) -> Mapped[Any]:
    type_ = JOB_ID if target == "jobs.id" else Uuid
    return mapped_column(type_, ForeignKey(target, ondelete=ondelete), nullable=nullable)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[uuid.UUID] = _id()
    # channel-qualified names such as "discord:123456789012345678" need more than 50
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="user")
    subscription_tier: Mapped[str] = mapped_column(String(20), nullable=False, default="free")
    api_quota_daily: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    api_quota_monthly: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    preferences: Mapped[dict[str, Any]] = _json()
    onboarding_completed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # web-chat login (scrypt, "scrypt$n$r$p$salt$hash"); NULL for users who only use bots
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class IdentityLink(Base):
    """A chat identity (``telegram`` + ``"42"``) linked to the profile it acts as."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[uuid.UUID] = _id()
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    linked_at: Mapped[datetime] = _created()


class LinkCode(Base):
    """A one-time code from ``/link``; only its sha256 is kept."""

    __tablename__ = "link_codes"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = _created()


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = _fk("profiles.id")
    subscription_tier: Mapped[str] = mapped_column(String(20), nullable=False, default="free")
    billing_email: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class OrganizationMember(Base):
    __tablename__ = "organization_members"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[uuid.UUID] = _id()
    organization_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    role: Mapped[str] = mapped_column(String(50), nullable=False, default="member")
    permissions: Mapped[dict[str, Any]] = _json()
    joined_at: Mapped[datetime] = _created()


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("idx_jobs_user_id", "user_id"),
        Index("idx_jobs_status", "status"),
        Index("idx_jobs_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(JOB_ID, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = _fk("profiles.id", nullable=True)
    organization_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    target_platforms: Mapped[list[str]] = _json(default=list)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[dict[str, Any]] = _json()
    input_data: Mapped[dict[str, Any]] = _json()
    output_data: Mapped[dict[str, Any]] = _json()
    meta: Mapped[dict[str, Any]] = _meta()
    # which process runs the job now (see JobRepository.acquire_lease), and until when
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class JobStep(Base):
    __tablename__ = "job_steps"
    __table_args__ = (
        Index("idx_job_steps_job_id", "job_id", "step_order"),
        Index("idx_job_steps_status", "status"),
    )

    id: Mapped[uuid.UUID] = _id()
    job_id: Mapped[str] = _fk("jobs.id")
    step_order: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # the graph node
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    input_data: Mapped[dict[str, Any]] = _json()
    output_data: Mapped[dict[str, Any]] = _json()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    meta: Mapped[dict[str, Any]] = _meta()
    created_at: Mapped[datetime] = _created()


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("job_id", "stage", "round"),)

    id: Mapped[uuid.UUID] = _id()
    job_id: Mapped[str] = _fk("jobs.id")
    job_step_id: Mapped[uuid.UUID | None] = _fk("job_steps.id", "SET NULL", nullable=True)
    stage: Mapped[str] = mapped_column(String(100), nullable=False)  # e.g. "review_script"
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    assigned_to: Mapped[uuid.UUID | None] = _fk("profiles.id", "SET NULL", nullable=True)
    approval_type: Mapped[str] = mapped_column(String(100), nullable=False)
    content_preview: Mapped[Any] = _json(nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(255))  # channel user id
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class ContentArtifact(Base):
    __tablename__ = "content_artifacts"
    __table_args__ = (UniqueConstraint("job_id", "name", "version"),)

    id: Mapped[uuid.UUID] = _id()
    job_id: Mapped[str] = _fk("jobs.id")
    job_step_id: Mapped[uuid.UUID | None] = _fk("job_steps.id", "SET NULL", nullable=True)
    step: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_path: Mapped[str] = mapped_column(String(1000), nullable=False)  # relative to the root
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mime_type: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    meta: Mapped[dict[str, Any]] = _meta()
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    is_final: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = _created()


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("job_id", "platform"),)

    id: Mapped[uuid.UUID] = _id()
    job_id: Mapped[str] = _fk("jobs.id")
    content_artifact_id: Mapped[uuid.UUID | None] = _fk(
        "content_artifacts.id", "SET NULL", nullable=True
    )
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    platform_post_id: Mapped[str | None] = mapped_column(String(500))
    post_url: Mapped[str | None] = mapped_column(String(1000))
    published_at: Mapped[datetime] = _created()
    meta: Mapped[dict[str, Any]] = _meta()
    status: Mapped[str] = mapped_column(String(50), nullable=False, default="published")


class Analytics(Base):
    __tablename__ = "analytics"
    __table_args__ = (
        Index("idx_analytics_publication_id", "publication_id"),
        Index("idx_analytics_recorded_at", "recorded_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    publication_id: Mapped[uuid.UUID] = _fk("publications.id")
    metric_name: Mapped[str] = mapped_column(String(100), nullable=False)
    metric_value: Mapped[Decimal | None] = mapped_column(Numeric)
    recorded_at: Mapped[datetime] = _created()
    meta: Mapped[dict[str, Any]] = _meta()


class ApiUsage(Base):
    __tablename__ = "api_usage"
    __table_args__ = (
        Index("idx_api_usage_user_id", "user_id"),
        Index("idx_api_usage_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID | None] = _fk("profiles.id", nullable=True)
    organization_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)
    endpoint: Mapped[str] = mapped_column(String(500), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    tokens_used: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(
        Numeric(10, 4), nullable=False, default=Decimal("0.0000")
    )
    created_at: Mapped[datetime] = _created()


class AgentLog(Base):
    __tablename__ = "agent_logs"
    __table_args__ = (
        Index("idx_agent_logs_agent", "agent"),
        Index("idx_agent_logs_job_id", "job_id"),
        Index("idx_agent_logs_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    agent: Mapped[str] = mapped_column(String(100), nullable=False)
    job_id: Mapped[str | None] = _fk("jobs.id", nullable=True)
    job_step_id: Mapped[uuid.UUID | None] = _fk("job_steps.id", nullable=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False, default="info")
    message: Mapped[str] = mapped_column(Text, nullable=False)
    meta: Mapped[dict[str, Any]] = _meta()
    created_at: Mapped[datetime] = _created()


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    organization_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(String(1000), nullable=False)
    events: Mapped[list[str]] = _json(default=list)
    secret: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_triggered: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = _id()
    webhook_id: Mapped[uuid.UUID] = _fk("webhooks.id")
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[Any] = _json()
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime] = _created()
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class WorkflowTemplate(Base):
    __tablename__ = "workflow_templates"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    configuration: Mapped[dict[str, Any]] = _json()
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_by: Mapped[uuid.UUID] = _fk("profiles.id", ondelete=None)
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


# --- web-chat history (the Chainlit data layer, migration 0003) ---------------------------
CHAT_ID = String(64)  # Chainlit's ids: uuid4 text


class ChatThread(Base):
    """A web-chat conversation; ``user_id`` is the profile it belongs to."""

    __tablename__ = "chat_threads"
    __table_args__ = (Index("idx_chat_threads_user_id", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = _fk("profiles.id", nullable=True)
    name: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str]] = _json(default=list)
    meta: Mapped[dict[str, Any]] = _meta()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class ChatStep(Base):
    """A message or step shown in a thread; ``data`` is Chainlit's step dict."""

    __tablename__ = "chat_steps"
    __table_args__ = (Index("idx_chat_steps_thread_id", "thread_id", "created_at"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(CHAT_ID)
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    data: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()


class ChatElement(Base):
    """A media element attached to a message; ``data`` is Chainlit's element dict."""

    __tablename__ = "chat_elements"
    __table_args__ = (Index("idx_chat_elements_thread_id", "thread_id"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    for_id: Mapped[str | None] = mapped_column(CHAT_ID)
    data: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()


class ChatFeedback(Base):
    """A thumbs up (1) or down (0) on a message."""

    __tablename__ = "chat_feedback"

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    step_id: Mapped[str] = mapped_column(CHAT_ID, nullable=False, unique=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
