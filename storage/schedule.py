"""Scheduled publications: claiming the due ones under a lease, moving and cancelling them,
and the weekly reports sent.

A publication waits as a ``publications`` row with ``status='scheduled'`` and its
``publish_at``. :meth:`ScheduleRepository.claim_due` hands a due one to exactly one
scheduler: on PostgreSQL the candidates are read ``FOR UPDATE OF publications SKIP LOCKED``
(a second scheduler skips the rows the first is claiming instead of waiting for them), and
on both backends the claim itself is one conditional UPDATE of the row's
``publication_leases`` entry (``INSERT ... ON CONFLICT DO NOTHING`` makes it on first use),
which matches only while nobody holds the lease or it has expired. A scheduler that is
killed stops renewing; its lease expires and another picks the publication up, which its
publisher resumes rather than repeats (the upload session kept in the row's meta).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage._base import RepositoryBase
from storage.errors import ConflictError, NotFoundError
from storage.models import Job, Publication, PublicationLease, ReportDelivery
from storage.records import PublicationRecord

# holds a failed publication's lease until its retry is due (no process owns it)
RETRY_HOLDER = "retry"
# statuses a person may still move or cancel (a failed one may be tried again at a new time)
CHANGEABLE = frozenset({"scheduled", "failed"})


class ScheduleRepository(RepositoryBase):
    # --- claims ----------------------------------------------------------------------------
    def claim_due(self, now: datetime, owner: str, ttl_s: float,
                  limit: int = 10) -> list[PublicationRecord]:
        """The due publications this ``owner`` now holds the lease of (at most ``limit``),
        earliest first. A 'pending' one with a lease row is one a scheduler began and did
        not finish (killed): it is claimed again once that lease expired."""
        free = or_(PublicationLease.owner.is_(None), PublicationLease.expires_at.is_(None),
                   PublicationLease.expires_at < now)
        begun = and_(Publication.status == "pending", PublicationLease.publication_id.is_not(None))
        candidates = (
            select(Publication.id)
            .outerjoin(PublicationLease, PublicationLease.publication_id == Publication.id)
            .where(or_(Publication.status == "scheduled", begun),
                   Publication.publish_at.is_not(None), Publication.publish_at <= now, free)
            .order_by(Publication.publish_at, Publication.id)
            .limit(limit)
        )
        claimed: list[uuid.UUID] = []
        if self._db.is_sqlite:
            # SQLite has no row locks: each claim is its own short write transaction, whose
            # conditional UPDATE is atomic (writers are serialised by the database file)
            with self._db.session() as s:
                ids = list(s.scalars(candidates))
            for pid in ids:
                with self._db.session() as s:
                    if self._take(s, pid, owner, now, ttl_s):
                        claimed.append(pid)
        else:
            with self._db.session() as s:
                locked = candidates.with_for_update(of=Publication, skip_locked=True)
                claimed = [pid for pid in list(s.scalars(locked))
                           if self._take(s, pid, owner, now, ttl_s)]
        if not claimed:
            return []
        with self._db.session() as s:
            rows = s.scalars(select(Publication).where(Publication.id.in_(claimed))
                             .order_by(Publication.publish_at, Publication.id))
            return [PublicationRecord.of(r) for r in rows]

    def _take(self, s: Session, pid: uuid.UUID, owner: str, now: datetime,
              ttl_s: float) -> bool:
        insert = pg_insert if not self._db.is_sqlite else sqlite_insert
        s.execute(insert(PublicationLease).values(publication_id=pid, attempts=0,
                                                  updated_at=now)
                  .on_conflict_do_nothing(index_elements=["publication_id"]))
        still_due = exists().where(Publication.id == pid,
                                   Publication.status.in_(("scheduled", "pending")))
        stmt = (
            update(PublicationLease)
            .where(PublicationLease.publication_id == pid,
                   or_(PublicationLease.owner.is_(None), PublicationLease.expires_at.is_(None),
                       PublicationLease.expires_at < now),
                   still_due)
            .values(owner=owner, expires_at=now + timedelta(seconds=ttl_s), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(s.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def renew(self, publication_id: str, owner: str, now: datetime, ttl_s: float) -> bool:
        """Extend our lease while a long upload runs; False when it is no longer ours."""
        stmt = (
            update(PublicationLease)
            .where(PublicationLease.publication_id == uuid.UUID(publication_id),
                   PublicationLease.owner == owner)
            .values(expires_at=now + timedelta(seconds=ttl_s), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        with self._db.session() as s:
            return bool(s.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def release(self, publication_id: str, owner: str, error: str | None = None, *,
                retry_at: datetime | None = None) -> None:
        """Give the lease back after an attempt (counted; ``error`` says why it failed).

        A failed attempt with ``retry_at`` goes back to 'scheduled' and is not claimed again
        before then (the lease is held by nobody until ``retry_at``); without, a failure the
        ledger did not record yet (no script, an unknown platform) is recorded 'failed'."""
        pid = uuid.UUID(publication_id)
        with self._db.session() as s:
            lease = s.get(PublicationLease, pid, with_for_update=True)
            if lease is None or lease.owner != owner:
                return
            lease.owner, lease.expires_at = None, None
            lease.attempts += 1
            lease.last_error = error
            row = s.get(Publication, pid, with_for_update=True)
            if error is None or row is None or row.status in ("published", "cancelled"):
                return
            row.error_message = error
            if retry_at is not None:
                row.status = "scheduled"
                lease.owner, lease.expires_at = RETRY_HOLDER, retry_at
            else:
                row.status = "failed"

    def lease_of(self, publication_id: str) -> dict[str, Any] | None:
        with self._db.session() as s:
            lease = s.get(PublicationLease, uuid.UUID(publication_id))
            if lease is None:
                return None
            return {"owner": lease.owner, "expires_at": lease.expires_at,
                    "attempts": lease.attempts, "last_error": lease.last_error}

    # --- what a person changes ---------------------------------------------------------------
    def move(self, job_id: str, platform: str, when: datetime, now: datetime) -> PublicationRecord:
        """Publish (job, platform) at ``when`` instead; only while it has not gone out and no
        scheduler is publishing it right now."""
        with self._db.session() as s:
            row = self._changeable(s, job_id, platform, now)
            row.status, row.publish_at, row.error_message = "scheduled", when, None
            s.flush()
            return PublicationRecord.of(row)

    def cancel(self, job_id: str, platforms: list[str] | None, now: datetime) -> list[str]:
        """Cancel the job's scheduled publications (all, or ``platforms``); the platforms
        cancelled. One that is publishing right now, or already out, is a ConflictError."""
        with self._db.session() as s:
            rows = s.scalars(select(Publication).where(
                Publication.job_id == job_id, Publication.status.in_(CHANGEABLE))).all()
            names = [r.platform for r in rows if platforms is None or r.platform in platforms]
            if platforms is not None and sorted(names) != sorted(set(platforms)):
                missing = sorted(set(platforms) - set(names))
                raise ConflictError(f"{job_id} has nothing scheduled on {', '.join(missing)}")
            done = []
            for name in names:
                row = self._changeable(s, job_id, name, now)
                row.status = "cancelled"
                done.append(name)
            return sorted(done)

    def _changeable(self, s: Session, job_id: str, platform: str, now: datetime) -> Publication:
        if s.get(Job, job_id) is None:
            raise NotFoundError(f"no job {job_id!r}")
        row = s.scalars(select(Publication).where(
            Publication.job_id == job_id, Publication.platform == platform)
            .with_for_update()).first()
        if row is None:
            raise NotFoundError(f"{job_id} has no publication on {platform}")
        if row.status not in CHANGEABLE:
            raise ConflictError(f"{job_id} on {platform} is already {row.status}: it can no "
                                "longer be moved or cancelled")
        lease = s.get(PublicationLease, row.id, with_for_update=True)
        if lease is not None and lease.owner == RETRY_HOLDER:
            lease.owner, lease.expires_at = None, None  # the person's new time wins
        elif lease is not None and lease.owner and lease.expires_at and lease.expires_at >= now:
            raise ConflictError(f"{job_id} is being published on {platform} right now")
        return row

    # --- weekly reports ----------------------------------------------------------------------
    def report_sent(self, audience: str, period_start: datetime) -> bool:
        with self._db.session() as s:
            return s.scalar(select(ReportDelivery.id).where(
                ReportDelivery.audience == audience,
                ReportDelivery.period_start == period_start)) is not None

    def claim_report(self, audience: str, period_start: datetime, summary: str) -> bool:
        """Record that ``audience``'s report for the week from ``period_start`` goes out;
        False when another scheduler (or an earlier run) already sent it. Recorded before
        it is sent: a crash in between loses that week's report, never sends it twice."""

        def get(s: Session) -> bool | None:
            found = s.scalar(select(ReportDelivery.id).where(
                ReportDelivery.audience == audience, ReportDelivery.period_start == period_start))
            return False if found is not None else None

        def insert(s: Session) -> bool:
            if get(s) is not None:
                return False
            s.add(ReportDelivery(audience=audience, period_start=period_start, summary=summary))
            s.flush()
            return True

        return self._insert_or_get(insert, get)
