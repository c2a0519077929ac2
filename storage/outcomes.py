"""Approvals (what a person decided at each review stage) and publications (where it went).

Both are idempotent on their natural keys, (job, stage, round) and (job, platform), because a
resumed graph node runs again from its start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from storage._base import RepositoryBase, as_uuid
from storage.errors import ConflictError, NotFoundError
from storage.models import Approval, Publication, utcnow
from storage.records import ApprovalRecord, PublicationRecord

APPROVAL_ACTIONS = {"approve": "approved", "revise": "revise", "reject": "rejected"}


class OutcomesMixin(RepositoryBase):
    # --- approvals -----------------------------------------------------------------------------
    def request_approval(
        self,
        job_id: str,
        stage: str,
        round: int,
        preview: Any,
        *,
        approval_type: str | None = None,
        step_id: str | None = None,
    ) -> str:
        """Record that (job, stage, round) awaits a person; the same request again is a no-op."""

        def get(s: Session) -> str | None:
            row = self._approval(s, job_id, stage, round)
            return str(row.id) if row is not None else None

        def insert(s: Session) -> str:
            found = get(s)
            if found is not None:
                return found
            self._job(s, job_id)
            row = Approval(
                job_id=job_id,
                stage=stage,
                round=round,
                approval_type=approval_type or stage,
                content_preview=preview,
                job_step_id=as_uuid(step_id, "step") if step_id else None,
            )
            s.add(row)
            s.flush()
            return str(row.id)

        return self._insert_or_get(insert, get)

    def decide_approval(
        self, job_id: str, stage: str, round: int, action: str, by: str, notes: str | None = None
    ) -> ApprovalRecord:
        """approve / revise / reject. Repeating the decision is a no-op; changing it conflicts."""
        if action not in APPROVAL_ACTIONS:
            raise ValueError(f"unknown action {action!r}: {sorted(APPROVAL_ACTIONS)}")
        status = APPROVAL_ACTIONS[action]
        now = utcnow()
        with self._db.session() as s:
            row = self._approval(s, job_id, stage, round, lock=True)
            if row is None:
                raise NotFoundError(f"job {job_id} has no approval {stage} round {round}")
            if row.status == status:
                return ApprovalRecord.of(row)
            if row.status != "pending":
                raise ConflictError(
                    f"{stage} round {round} of job {job_id} was already decided: {row.status}"
                )
            row.status, row.decided_by, row.decided_at, row.feedback = status, by, now, notes
            if status == "approved":
                row.approved_at = now
            elif status == "rejected":
                row.rejected_at = now
            s.flush()
            return ApprovalRecord.of(row)

    def pending_approval(self, job_id: str) -> ApprovalRecord | None:
        """The newest approval of the job still waiting for a person, if any."""
        with self._db.session() as s:
            row = s.scalars(
                select(Approval)
                .where(Approval.job_id == job_id, Approval.status == "pending")
                .order_by(Approval.created_at.desc(), Approval.round.desc())
                .limit(1)
            ).first()
            return ApprovalRecord.of(row) if row else None

    def approvals(self, job_id: str) -> list[ApprovalRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(Approval).where(Approval.job_id == job_id).order_by(Approval.created_at)
            )
            return [ApprovalRecord.of(r) for r in rows]

    @staticmethod
    def _approval(
        s: Session, job_id: str, stage: str, round: int, *, lock: bool = False
    ) -> Approval | None:
        q = select(Approval).where(
            Approval.job_id == job_id, Approval.stage == stage, Approval.round == round
        )
        return s.scalars(q.with_for_update() if lock else q).first()

    # --- publications --------------------------------------------------------------------------
    def record_publication(
        self,
        job_id: str,
        platform: str,
        *,
        location: str,
        artifact_id: str | None = None,
        meta: dict[str, Any] | None = None,
        post_id: str | None = None,
    ) -> tuple[PublicationRecord, bool]:
        """Record that the job went out on ``platform``; (record, created). Once per platform."""

        def get(s: Session) -> tuple[PublicationRecord, bool] | None:
            row = s.scalars(
                select(Publication).where(
                    Publication.job_id == job_id, Publication.platform == platform
                )
            ).first()
            return (PublicationRecord.of(row), False) if row is not None else None

        def insert(s: Session) -> tuple[PublicationRecord, bool]:
            found = get(s)
            if found is not None:
                return found
            self._job(s, job_id)
            row = Publication(
                job_id=job_id,
                platform=platform,
                post_url=location,
                platform_post_id=post_id,
                content_artifact_id=as_uuid(artifact_id, "artifact") if artifact_id else None,
                meta=dict(meta or {}),
            )
            s.add(row)
            s.flush()
            return PublicationRecord.of(row), True

        return self._insert_or_get(insert, get)

    def save_publication(
        self,
        job_id: str,
        platform: str,
        *,
        status: str,
        location: str | None = None,
        post_id: str | None = None,
        meta: dict[str, Any] | None = None,
        publish_at: datetime | None = None,
        error: str | None = None,
    ) -> PublicationRecord:
        """Create or update the (job, platform) row: an upload's progress (``pending``, its
        session in ``meta``), its outcome (``published`` / ``failed``) or its ``scheduled``
        time. ``meta`` is merged into what the row had; None keeps a column as it is."""

        def get(s: Session) -> Publication | None:
            return s.scalars(
                select(Publication)
                .where(Publication.job_id == job_id, Publication.platform == platform)
                .with_for_update()
            ).first()

        def upsert(s: Session) -> PublicationRecord:
            row = get(s)
            if row is None:
                self._job(s, job_id)
                row = Publication(job_id=job_id, platform=platform, meta={}, status=status)
                s.add(row)
            elif status == "published" and row.status != "published":
                row.published_at = utcnow()  # the row was made when the upload began
            row.status = status
            if location is not None:
                row.post_url = location
            if post_id is not None:
                row.platform_post_id = post_id
            if publish_at is not None:
                row.publish_at = publish_at
            row.error_message = error
            if meta:
                row.meta = {**(row.meta or {}), **meta}
            s.flush()
            return PublicationRecord.of(row)

        try:
            with self._db.session() as s:
                return upsert(s)
        except exc.IntegrityError:  # another writer created the row first: update theirs
            with self._db.session() as s:
                return upsert(s)

    def publication(self, job_id: str, platform: str) -> PublicationRecord | None:
        with self._db.session() as s:
            row = s.scalars(
                select(Publication).where(
                    Publication.job_id == job_id, Publication.platform == platform
                )
            ).first()
            return PublicationRecord.of(row) if row is not None else None

    def publications(self, job_id: str) -> list[PublicationRecord]:
        with self._db.session() as s:
            rows = s.scalars(
                select(Publication)
                .where(Publication.job_id == job_id)
                .order_by(Publication.published_at, Publication.platform)
            )
            return [PublicationRecord.of(r) for r in rows]
