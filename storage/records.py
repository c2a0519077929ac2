"""Plain, immutable views of stored rows: what the storage API hands out.

ORM objects stay inside ``storage``; callers get these frozen dataclasses, which are safe to
keep after the session is closed and to pass between threads. Ids are strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.models import Approval, ContentArtifact, Job, JobStep, Publication


@dataclass(frozen=True)
class JobRecord:
    id: str
    title: str
    content_type: str
    status: str
    user_id: str | None
    description: str | None
    target_platforms: list[str]
    priority: int
    configuration: dict[str, Any]
    input_data: dict[str, Any]
    output_data: dict[str, Any]
    meta: dict[str, Any]
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, row: Job) -> JobRecord:
        return cls(
            id=row.id,
            title=row.title,
            content_type=row.content_type,
            status=row.status,
            user_id=str(row.user_id) if row.user_id else None,
            description=row.description,
            target_platforms=list(row.target_platforms or []),
            priority=row.priority,
            configuration=dict(row.configuration or {}),
            input_data=dict(row.input_data or {}),
            output_data=dict(row.output_data or {}),
            meta=dict(row.meta or {}),
            error_message=row.error_message,
            created_at=row.created_at,
            updated_at=row.updated_at,
            started_at=row.started_at,
            completed_at=row.completed_at,
            failed_at=row.failed_at,
        )


@dataclass(frozen=True)
class StepRecord:
    id: str
    job_id: str
    name: str
    step_order: int
    status: str
    retry_count: int
    input_data: dict[str, Any]
    output_data: dict[str, Any]
    error_message: str | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None

    @classmethod
    def of(cls, row: JobStep) -> StepRecord:
        return cls(
            id=str(row.id),
            job_id=row.job_id,
            name=row.name,
            step_order=row.step_order,
            status=row.status,
            retry_count=row.retry_count,
            input_data=dict(row.input_data or {}),
            output_data=dict(row.output_data or {}),
            error_message=row.error_message,
            started_at=row.started_at,
            completed_at=row.completed_at,
            duration_ms=row.duration_ms,
        )


@dataclass(frozen=True)
class ApprovalRecord:
    id: str
    job_id: str
    stage: str
    round: int
    status: str
    approval_type: str
    preview: Any
    decided_by: str | None
    feedback: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: Approval) -> ApprovalRecord:
        return cls(
            id=str(row.id),
            job_id=row.job_id,
            stage=row.stage,
            round=row.round,
            status=row.status,
            approval_type=row.approval_type,
            preview=row.content_preview,
            decided_by=row.decided_by,
            feedback=row.feedback,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )


@dataclass(frozen=True)
class PublicationRecord:
    id: str
    job_id: str
    platform: str
    location: str | None  # post URL, or the outbox path for the local publisher
    platform_post_id: str | None
    artifact_id: str | None
    status: str  # pending | published | scheduled | failed (storage/models/jobs.py)
    published_at: datetime
    meta: dict[str, Any]
    publish_at: datetime | None = None
    error: str | None = None

    @property
    def post_url(self) -> str | None:
        """The column's name for ``location``."""
        return self.location

    @classmethod
    def of(cls, row: Publication) -> PublicationRecord:
        return cls(
            id=str(row.id),
            job_id=row.job_id,
            platform=row.platform,
            location=row.post_url,
            platform_post_id=row.platform_post_id,
            artifact_id=str(row.content_artifact_id) if row.content_artifact_id else None,
            status=row.status,
            published_at=row.published_at,
            meta=dict(row.meta or {}),
            publish_at=row.publish_at,
            error=row.error_message,
        )


@dataclass(frozen=True)
class ArtifactRecord:
    id: str
    job_id: str
    name: str
    path: Path  # absolute: <root>/<job_id>/<file>
    sha256: str
    size: int
    mime: str
    version: int
    step: str
    type: str
    is_final: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: ContentArtifact, root: Path) -> ArtifactRecord:
        return cls(
            id=str(row.id),
            job_id=row.job_id,
            name=row.name,
            path=root / row.file_path,
            sha256=row.sha256,
            size=row.file_size,
            mime=row.mime_type,
            version=row.version,
            step=row.step,
            type=row.type,
            is_final=row.is_final,
            meta=dict(row.meta or {}),
        )
