"""Metrics pulled from the platforms, one ``analytics`` row per (publication, metric, time).

Counters are stored as the platform reported them at ``recorded_at`` (views so far, likes so
far), so a piece's rows over time are its growth curve. :meth:`AnalyticsRepository.pieces`
reads them back with what the report and the recommendations group by: the job's format,
length and style, the platform, and when it went out.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from storage._base import RepositoryBase
from storage.models import Analytics, Job, OrganizationMember, Profile, Publication
from storage.records import PublicationRecord


@dataclass(frozen=True)
class Piece:
    """One publication and its metrics, oldest first: ``series[name] = [(at, value), ...]``."""

    publication_id: str
    job_id: str
    platform: str
    title: str
    format: str
    published_at: datetime
    owner_id: str | None
    organization_id: str | None
    brief: dict[str, Any]
    meta: dict[str, Any]
    series: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)

    def latest(self, name: str) -> float | None:
        points = self.series.get(name)
        return points[-1][1] if points else None


class AnalyticsRepository(RepositoryBase):
    def record(self, publication_id: str, metrics: Mapping[str, float], at: datetime,
               meta: dict[str, Any] | None = None) -> int:
        """Store one pull's counters; the number of rows written."""
        pid = uuid.UUID(publication_id)
        with self._db.session() as s:
            for name, value in metrics.items():
                s.add(Analytics(publication_id=pid, metric_name=name[:100],
                                metric_value=Decimal(str(value)), recorded_at=at,
                                meta=dict(meta or {})))
        return len(metrics)

    def due_for_pull(self, now: datetime, interval_s: float,
                     limit: int = 100) -> list[PublicationRecord]:
        """Published publications whose newest metrics are older than ``interval_s`` (or
        that have none yet), the longest-waiting first."""
        last = (select(Analytics.publication_id, func.max(Analytics.recorded_at).label("at"))
                .group_by(Analytics.publication_id).subquery())
        cutoff = now - timedelta(seconds=interval_s)
        q = (select(Publication)
             .outerjoin(last, last.c.publication_id == Publication.id)
             .where(Publication.status == "published",
                    (last.c.at.is_(None)) | (last.c.at <= cutoff))
             .order_by(last.c.at.is_not(None), last.c.at, Publication.published_at)
             .limit(limit))
        with self._db.session() as s:
            return [PublicationRecord.of(r) for r in s.scalars(q)]

    def pieces(self, *, username: str | None = None, organization_id: str | None = None,
               since: datetime | None = None) -> list[Piece]:
        """Published pieces with their metrics: a person's own (``username``), or every
        piece of a workspace (``organization_id``) and of its members; ``since`` keeps those
        published from then on."""
        q = (select(Publication, Job).join(Job, Job.id == Publication.job_id)
             .where(Publication.status == "published"))
        if organization_id is not None:
            org = uuid.UUID(organization_id)
            members = select(OrganizationMember.user_id).where(
                OrganizationMember.organization_id == org)
            q = q.where((Job.organization_id == org) | Job.user_id.in_(members))
        if username is not None:
            q = q.join(Profile, Profile.id == Job.user_id).where(Profile.username == username)
        if since is not None:
            q = q.where(Publication.published_at >= since)
        with self._db.session() as s:
            rows = [(p, j) for p, j in s.execute(q.order_by(Publication.published_at))]
            ids = [p.id for p, _ in rows]
            series: dict[uuid.UUID, dict[str, list[tuple[datetime, float]]]] = {}
            if ids:
                for a in s.scalars(select(Analytics).where(Analytics.publication_id.in_(ids))
                                   .order_by(Analytics.recorded_at)):
                    if a.metric_value is None:
                        continue
                    series.setdefault(a.publication_id, {}).setdefault(
                        a.metric_name, []).append((a.recorded_at, float(a.metric_value)))
            return [Piece(
                publication_id=str(p.id), job_id=j.id, platform=p.platform, title=j.title,
                format=j.content_type, published_at=p.published_at,
                owner_id=str(j.user_id) if j.user_id else None,
                organization_id=str(j.organization_id) if j.organization_id else None,
                brief=dict(j.input_data or {}), meta=dict(p.meta or {}),
                series=series.get(p.id, {})) for p, j in rows]

    def audiences(self) -> list[tuple[str, str | None, str | None]]:
        """Who gets a weekly report: (audience key, organization id, username) for every
        workspace with a published piece, and every person with one outside a workspace."""
        with self._db.session() as s:
            orgs = s.scalars(select(Job.organization_id).join(
                Publication, Publication.job_id == Job.id).where(
                Publication.status == "published", Job.organization_id.is_not(None))
                .distinct()).all()
            people = s.scalars(select(Profile.username).join(Job, Job.user_id == Profile.id)
                               .join(Publication, Publication.job_id == Job.id)
                               .where(Publication.status == "published",
                                      Job.organization_id.is_(None)).distinct()).all()
        found: list[tuple[str, str | None, str | None]] = [
            (f"organization:{o}", str(o), None) for o in orgs if o is not None]
        found += [(f"profile:{u}", None, u) for u in people]
        return sorted(found)
