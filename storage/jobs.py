"""What the pipeline records about a job: the job, its steps, approvals, publications, logs.

Every write is safe to repeat, because LangGraph runs a resumed node again from its start:
``create_job``, ``request_approval`` and ``record_publication`` return what is already there;
``start_step`` picks up a step that a dead process left 'processing' instead of adding a row.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage._base import as_uuid
from storage.db import Database
from storage.errors import ConflictError, NotFoundError
from storage.models import (
    CONTENT_TYPES,
    JOB_FINISHED,
    JOB_STATUSES,
    AgentLog,
    Job,
    JobStep,
    Profile,
    utcnow,
)
from storage.objects import check_component
from storage.outcomes import OutcomesMixin
from storage.records import JobRecord, StepRecord

LOG_LEVELS = frozenset({"debug", "info", "warning", "error", "critical"})


class JobRepository(OutcomesMixin):
    """Jobs and everything hanging off them, one short transaction per call.

    Approvals and publications come from :class:`~storage.outcomes.OutcomesMixin`.
    """

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # username -> profile id. Profiles are never deleted or renamed, so an id once read
        # stays true; every chat turn needs it, and a query each time is most of a turn.
        self._user_ids: dict[str, str] = {}

    # --- users ---------------------------------------------------------------------------------
    def ensure_user(self, username: str) -> str:
        """The id of the profile named ``username``, created on first use."""
        if not username or len(username) > 100:
            raise ValueError(f"invalid username {username!r}")
        known = self._user_ids.get(username)
        if known is not None:
            return known

        def get(s: Session) -> str | None:
            found = s.scalar(select(Profile.id).where(Profile.username == username))
            return str(found) if found else None

        def insert(s: Session) -> str:
            existing = get(s)
            if existing:
                return existing
            profile = Profile(username=username)
            s.add(profile)
            s.flush()
            return str(profile.id)

        user_id = self._insert_or_get(insert, get)
        self._user_ids[username] = user_id
        return user_id

    # --- jobs ----------------------------------------------------------------------------------
    def create_job(
        self,
        job_id: str,
        *,
        title: str,
        content_type: str,
        user: str | None = None,
        configuration: dict[str, Any] | None = None,
        input_data: dict[str, Any] | None = None,
        description: str | None = None,
        target_platforms: list[str] | None = None,
        priority: int = 50,
    ) -> JobRecord:
        """Create job ``job_id`` for username ``user``; the same call again returns it as is.

        The same id with another title, format or user is a ConflictError (an id collision).
        """
        check_component(job_id, "job id", 64)
        if content_type not in CONTENT_TYPES:
            raise ValueError(f"unknown content type {content_type!r}: {sorted(CONTENT_TYPES)}")
        user_id = uuid.UUID(self.ensure_user(user)) if user else None

        def get(s: Session) -> JobRecord | None:
            job = s.get(Job, job_id)
            if job is None:
                return None
            if (job.title, job.content_type, job.user_id) != (title, content_type, user_id):
                raise ConflictError(f"job id {job_id!r} is already used by another job")
            return JobRecord.of(job)

        def insert(s: Session) -> JobRecord:
            found = get(s)
            if found is not None:
                return found
            job = Job(
                id=job_id,
                title=title,
                content_type=content_type,
                user_id=user_id,
                description=description,
                target_platforms=list(target_platforms or []),
                priority=priority,
                configuration=dict(configuration or {}),
                input_data=dict(input_data or {}),
            )
            s.add(job)
            s.flush()
            return JobRecord.of(job)

        return self._insert_or_get(insert, get)

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._db.session() as s:
            job = s.get(Job, job_id)
            return JobRecord.of(job) if job else None

    def list_jobs(
        self, limit: int = 50, *, user: str | None = None, status: str | None = None
    ) -> list[JobRecord]:
        """Newest first; ``user`` is a username."""
        q = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        if status is not None:
            q = q.where(Job.status == status)
        if user is not None:
            q = q.join(Profile, Profile.id == Job.user_id).where(Profile.username == user)
        with self._db.session() as s:
            return [JobRecord.of(j) for j in s.scalars(q)]

    def set_status(self, job_id: str, status: str, error: str | None = None) -> JobRecord:
        """Move the job to ``status``, stamping started/completed/failed times."""
        if status not in JOB_STATUSES:
            raise ValueError(f"unknown job status {status!r}: {sorted(JOB_STATUSES)}")
        now = utcnow()
        with self._db.session() as s:
            job = self._job(s, job_id)
            if status == "processing" and job.started_at is None:
                job.started_at = now
            if status == "failed":
                job.failed_at = now
                job.error_message = error or job.error_message or "failed"
            elif job.status == "failed":  # resumed after a failure
                job.failed_at = None
                job.error_message = error
            elif error is not None:
                job.error_message = error
            if status in JOB_FINISHED:
                job.completed_at = job.completed_at or now
            elif status != "failed":
                job.completed_at = None
            job.status = status
            s.flush()
            return JobRecord.of(job)

    def update_job(
        self,
        job_id: str,
        *,
        output_data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> JobRecord:
        """Merge ``output_data`` / ``meta`` into what the job has."""
        with self._db.session() as s:
            job = self._job(s, job_id)
            if output_data:
                job.output_data = {**(job.output_data or {}), **output_data}
            if meta:
                job.meta = {**(job.meta or {}), **meta}
            s.flush()
            return JobRecord.of(job)

    # --- lease: one process runs a job at a time -------------------------------------------------
    def acquire_lease(
        self, job_id: str, owner: str, ttl_s: float, *, replacing: str | None = None
    ) -> bool:
        """Take (or renew) the job's lease for ``ttl_s`` seconds; False if another owner holds
        it. ``replacing`` names a holder known to be dead, whose lease may be taken over.

        One conditional UPDATE of the job row, so it is atomic on SQLite and PostgreSQL alike:
        it matches only when the lease is free, expired, already ours, or the dead holder's.
        """
        now = utcnow()
        free = or_(Job.lease_owner.is_(None), Job.lease_owner == owner,
                   Job.lease_expires_at.is_(None), Job.lease_expires_at < now)
        if replacing:
            free = or_(free, Job.lease_owner == replacing)
        stmt = (
            update(Job)
            .where(Job.id == job_id, free)
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as s:
            taken = s.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
            if not taken:
                self._job(s, job_id)  # NotFoundError for a job that does not exist
            return taken

    def release_lease(self, job_id: str, owner: str) -> None:
        """Give the lease back (only ``owner``'s own)."""
        stmt = (
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as s:
            s.execute(stmt)

    def lease(self, job_id: str) -> tuple[str | None, datetime | None]:
        """(owner, expiry) of the job's lease; (None, None) when nobody holds it."""
        with self._db.session() as s:
            job = self._job(s, job_id)
            if job.lease_expires_at is None or job.lease_expires_at < utcnow():
                return None, None
            return job.lease_owner, job.lease_expires_at

    # --- steps ---------------------------------------------------------------------------------
    def start_step(self, job_id: str, name: str, input_data: dict[str, Any] | None = None) -> str:
        """Open step ``name``; a row a dead process left 'processing' is reused (retry_count+1)."""
        now = utcnow()
        with self._db.session() as s:
            self._job(s, job_id, lock=True)  # one step-opener per job at a time (PostgreSQL)
            latest = s.scalars(
                select(JobStep)
                .where(JobStep.job_id == job_id, JobStep.name == name)
                .order_by(JobStep.step_order.desc())
                .limit(1)
            ).first()
            if latest is not None and latest.status == "processing":
                latest.retry_count += 1
                latest.started_at = now
                if input_data is not None:
                    latest.input_data = dict(input_data)
                return str(latest.id)
            order = s.scalar(select(func.max(JobStep.step_order)).where(JobStep.job_id == job_id))
            step = JobStep(
                job_id=job_id,
                name=name,
                step_order=(order or 0) + 1,
                status="processing",
                started_at=now,
                input_data=dict(input_data or {}),
            )
            s.add(step)
            s.flush()
            return str(step.id)

    def finish_step(self, step_id: str, output_data: dict[str, Any] | None = None) -> StepRecord:
        return self._close_step(step_id, "completed", output_data=output_data)

    def fail_step(self, step_id: str, error: str) -> StepRecord:
        return self._close_step(step_id, "failed", error=error)

    def _close_step(
        self,
        step_id: str,
        status: str,
        *,
        output_data: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> StepRecord:
        now = utcnow()
        with self._db.session() as s:
            step = s.get(JobStep, as_uuid(step_id, "step"))
            if step is None:
                raise NotFoundError(f"no step {step_id!r}")
            step.status = status
            step.completed_at = now
            if step.started_at is not None:
                step.duration_ms = max(0, int((now - step.started_at).total_seconds() * 1000))
            if output_data is not None:
                step.output_data = dict(output_data)
            step.error_message = error
            s.flush()
            return StepRecord.of(step)

    def list_steps(self, job_id: str) -> list[StepRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(JobStep)
                .where(JobStep.job_id == job_id)
                .order_by(JobStep.step_order, JobStep.started_at)
            )
            return [StepRecord.of(r) for r in rows]

    # --- logs ----------------------------------------------------------------------------------
    def log(
        self,
        job_id: str | None,
        agent: str,
        level: str,
        message: str,
        meta: dict[str, Any] | None = None,
        *,
        step_id: str | None = None,
    ) -> None:
        """Append to ``agent_logs``; ``agent`` is the step / node name. Never log secrets."""
        level = level.lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}: {sorted(LOG_LEVELS)}")
        with self._db.session() as s:
            s.add(
                AgentLog(
                    job_id=job_id,
                    agent=agent,
                    level=level,
                    message=message,
                    meta=dict(meta or {}),
                    job_step_id=as_uuid(step_id, "step") if step_id else None,
                )
            )

    def logs(self, job_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """The job's newest log lines, oldest first, as plain dicts."""
        with self._db.session() as s:
            rows = list(
                s.scalars(
                    select(AgentLog)
                    .where(AgentLog.job_id == job_id)
                    .order_by(AgentLog.created_at.desc())
                    .limit(limit)
                )
            )
        return [
            {
                "agent": r.agent,
                "level": r.level,
                "message": r.message,
                "meta": dict(r.meta or {}),
                "created_at": r.created_at,
            }
            for r in reversed(rows)
        ]
