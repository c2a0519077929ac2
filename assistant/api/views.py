"""Stored records as API models, and the queries the routes need beyond the repository's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from assistant.api import schemas
from assistant.api.keys import Principal
from assistant.app.identity import REVIEW_ROLES, may_review
from assistant.config import Settings
from assistant.errors import JobNotFound
from assistant.infra import media_links
from storage.db import Database
from storage.jobs import JobRepository
from storage.models import Job, Organization, OrganizationMember
from storage.records import ArtifactRecord, JobRecord, PublicationRecord, StepRecord


def visible_job(db: Database, repo: JobRepository, who: Principal, job_id: str) -> JobRecord:
    """The job, if ``who`` owns it or reviews for its workspace; JobNotFound otherwise (so
    another user's job id reads the same as one that does not exist)."""
    job = repo.get_job(job_id) if len(job_id) <= 64 else None
    if job is None or not may_review(db, who.profile_id, job.id, job.user_id):
        raise JobNotFound(f"no job {job_id[:64]}")
    return job


def list_jobs(db: Database, who: Principal, *, limit: int, offset: int,
              status: str | None = None, fmt: str | None = None,
              statuses: tuple[str, ...] = ()) -> tuple[list[JobRecord], bool]:
    """The jobs ``who`` may see (their own and their review workspaces'), newest first, and
    whether there are more after this page."""
    me = uuid.UUID(who.profile_id)
    with db.session() as s:
        reviewing = select(OrganizationMember.organization_id).where(
            OrganizationMember.user_id == me, OrganizationMember.role.in_(REVIEW_ROLES))
        owning = select(Organization.id).where(Organization.owner_id == me)
        q = (select(Job).where(or_(Job.user_id == me, Job.organization_id.in_(reviewing),
                                   Job.organization_id.in_(owning)))
             .order_by(Job.created_at.desc(), Job.id.desc()).offset(offset).limit(limit + 1))
        if status is not None:
            q = q.where(Job.status == status)
        if statuses:
            q = q.where(Job.status.in_(statuses))
        if fmt is not None:
            q = q.where(Job.content_type == fmt)
        rows = [JobRecord.of(j) for j in s.scalars(q)]
    return rows[:limit], len(rows) > limit


def summary(job: JobRecord) -> schemas.JobSummary:
    return schemas.JobSummary(
        id=job.id, title=job.title, format=job.content_type,
        style=str(job.configuration.get("style") or job.input_data.get("style") or ""),
        status=job.status,  # one of JOB_STATUSES: the schema checks it
        created_at=job.created_at, updated_at=job.updated_at, completed_at=job.completed_at,
        error=job.error_message)


def step(record: StepRecord) -> schemas.Step:
    return schemas.Step(name=record.name, order=record.step_order, status=record.status,
                        started_at=record.started_at, completed_at=record.completed_at,
                        duration_ms=record.duration_ms, error=record.error_message)


def download_url(settings: Settings, base_url: str, job_id: str, path: Any,
                 viewer: str) -> str:
    """A signed link to one of the job's files, for ``viewer`` (see
    :mod:`assistant.infra.media_links`), under the public base URL when one is set."""
    base = (settings.public_base_url or base_url).rstrip("/")
    return base + media_links.media_link(settings, job_id, path, viewer)


def artifact(settings: Settings, base_url: str, record: ArtifactRecord,
             viewer: str) -> schemas.Artifact:
    return schemas.Artifact(
        id=record.id, name=record.name, step=record.step, type=record.type, mime=record.mime,
        size=record.size, sha256=record.sha256, version=record.version,
        download_url=download_url(settings, base_url, record.job_id, record.path, viewer))


def publication(record: PublicationRecord) -> schemas.PublicationOut:
    return schemas.PublicationOut(
        id=record.id, job_id=record.job_id, platform=record.platform,
        location=record.location, platform_post_id=record.platform_post_id,
        status=record.status, published_at=record.published_at)


def review(pending: dict[str, Any] | None) -> schemas.Review | None:
    """What a waiting review offers, from the graph's Agent Inbox request."""
    if pending is None:
        return None
    request = pending.get("action_request") or {}
    config = pending.get("config") or {}
    return schemas.Review(
        stage=str(request.get("action", "")), description=str(pending.get("description", "")),
        preview_markdown=str((request.get("args") or {}).get("markdown", "")),
        actions=["approve", "revise", "reject"],
        allow_revise=bool(config.get("allow_respond", True)))
