"""``GET /users/usage``: what you used this month, and your tier's limits when the billing
service (:mod:`assistant.app.quotas`) is installed; else the jobs you started this month."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from assistant.api import schemas
from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS
from assistant.api.keys import Principal
from storage.db import Database
from storage.models import Job

router = APIRouter(prefix="/users", tags=["users"], responses=COMMON_ERRORS)


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else \
        start.replace(month=start.month + 1)
    return start, end


def jobs_started(db: Database, profile_id: str, start: datetime, end: datetime) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count(Job.id)).where(
            Job.user_id == uuid.UUID(profile_id), Job.created_at >= start,
            Job.created_at < end)) or 0)


def _quotas_report(ctx: ApiContext, who: Principal) -> dict[str, Any] | None:
    """The billing service's report, when it is installed: ``usage_report(svc, username)``
    returning a mapping with ``jobs``, ``tier``, ``limits``, ``metered``."""
    try:
        quotas = importlib.import_module("assistant.app.quotas")
    except ModuleNotFoundError:
        return None
    report = getattr(quotas, "usage_report", None)
    if report is None:
        return None
    found = report(ctx.svc, who.username)
    return dict(found) if found is not None else None


@router.get("/usage", response_model=schemas.Usage, summary="Your usage this month")
def usage(who: Principal = Depends(principal),
          ctx: ApiContext = Depends(context)) -> schemas.Usage:
    start, end = month_bounds(datetime.now(UTC))
    report = _quotas_report(ctx, who) or {}
    jobs = report.get("jobs")
    return schemas.Usage(
        username=who.username, period_start=report.get("period_start", start),
        period_end=report.get("period_end", end),
        jobs=int(jobs) if jobs is not None else jobs_started(ctx.svc.db, who.profile_id,
                                                              start, end),
        tier=report.get("tier"), limits=dict(report.get("limits") or {}),
        metered={k: float(v) for k, v in dict(report.get("metered") or {}).items()})
