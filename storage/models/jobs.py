"""A job and what it produces: steps, approvals, artifacts, publications, analytics, usage, logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    JOB_ID,
    Base,
    UTCDateTime,
    _created,
    _fk,
    _id,
    _json,
    _meta,
    _updated,
)


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
    __table_args__ = (
        UniqueConstraint("job_id", "platform"),
        Index("idx_publications_status_publish_at", "status", "publish_at"),
    )

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
    # pending (an upload under way, its session in meta) | published | scheduled (waits for
    # publish_at) | failed (error_message says why; running again resumes)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)


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
