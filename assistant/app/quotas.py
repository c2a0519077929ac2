"""Tiers and quotas: what each subscription tier allows, checked before work starts.

The tiers are data (:file:`tiers.yaml`, after PRD section 12.1). A user's tier is
``profiles.subscription_tier`` (Stripe keeps it current, :mod:`assistant.app.billing`); a
workspace (organization) is on its owner's tier. Limits are held in one place each:

- jobs per calendar month (UTC) and storage: :func:`reserve_job`, called by
  :meth:`~assistant.app.runner.JobRunner.create`, the one path the chat channels and the API
  start jobs through (the operator's CLI is exempt);
- outgoing webhooks: :func:`check_webhooks` (:mod:`assistant.app.webhooks`);
- team members and connected platforms: :func:`check_members`, :func:`check_platforms`
  for the code that adds them; API requests per day: :func:`check_api_request`.

A refusal is :class:`QuotaExceeded`: one line naming the limit and how to upgrade (the API
answers it with 402 and the code ``quota_exceeded``).

Usage is metered into ``api_usage`` rows with ``method = "METER"``; the ``endpoint`` names
the meter and the job (``meter/jobs/<job>``, ``meter/render/<job>`` with its milliseconds in
``response_time_ms``, ``meter/tokens/<job>`` with the model tokens its runs used, where the
model reports them, in ``tokens_used``), so metering a job again updates its one row.
Storage is measured, not metered: the bytes of the user's artifacts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.errors import AssistantError
from storage.db import Database
from storage.models import (
    ApiUsage,
    ContentArtifact,
    Job,
    JobStep,
    Organization,
    OrganizationMember,
    Profile,
    Webhook,
)

TIERS_PATH = Path(__file__).with_name("tiers.yaml")
METER = "METER"
JOBS_METER = "meter/jobs/"
RENDER_METER = "meter/render/"
TOKENS_METER = "meter/tokens/"
RENDER_STEPS = ("visuals", "voice", "assemble")  # the steps that render media
GB = 1024**3


@dataclass(frozen=True)
class Tier:
    name: str
    price_usd_month: int | None
    jobs_per_month: int | None  # None: unlimited
    storage_bytes: int | None
    platforms: int | None
    team_members: int | None
    api_requests_per_day: int | None
    webhooks: int | None  # 0: not in this tier


@lru_cache(maxsize=4)
def load_tiers(path: Path = TIERS_PATH) -> dict[str, Tier]:
    """The tiers in their upgrade order (the file's order)."""
    raw: dict[str, dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    tiers: dict[str, Tier] = {}
    for name, limits in raw.items():
        gb = limits.get("storage_gb")
        tiers[name] = Tier(
            name, limits.get("price_usd_month"), limits.get("jobs_per_month"),
            None if gb is None else int(gb * GB), limits.get("platforms"),
            limits.get("team_members"), limits.get("api_requests_per_day"),
            limits.get("webhooks"))
    return tiers


def tier_named(name: str | None) -> Tier:
    """A tier by name; an unknown or empty one is the first (free) tier."""
    tiers = load_tiers()
    return tiers.get(name or "", next(iter(tiers.values())))


def next_tier(name: str) -> str | None:
    names = list(load_tiers())
    at = names.index(name) if name in names else 0
    return names[at + 1] if at + 1 < len(names) else None


class QuotaExceeded(AssistantError):
    """A tier's limit refuses this: ``limit`` names it; ``upgrade`` says how to lift it."""

    def __init__(self, limit: str, message: str, upgrade: str) -> None:
        super().__init__(f"{message}: {upgrade}")
        self.limit, self.upgrade = limit, upgrade


def upgrade_hint(settings: Settings, tier: str) -> str:
    """How to lift a limit of ``tier``: the next tier up, where to buy it."""
    target = next_tier(tier)
    if target is None:
        return "contact us to raise it"
    where = settings.upgrade_url or ""
    how = (f"send /upgrade {target} in chat or POST /api/v1/billing/checkout "
           f'{{"tier": "{target}"}}')
    return f"upgrade to {target} ({where}) — {how}" if where else f"upgrade to {target}: {how}"


def enforced(settings: Settings) -> bool:
    """Quotas apply when asked for, and by default when billing is configured (a self-hosted
    studio without billing has no one to sell an upgrade to)."""
    if settings.quotas is not None:
        return settings.quotas
    return settings.stripe_api_key is not None


def _uuid(profile_id: str | uuid.UUID) -> uuid.UUID:
    return profile_id if isinstance(profile_id, uuid.UUID) else uuid.UUID(str(profile_id))


def month_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def account_tier(db: Database, profile_id: str | uuid.UUID) -> Tier:
    with db.session() as s:
        name = s.scalar(select(Profile.subscription_tier).where(Profile.id == _uuid(profile_id)))
    return tier_named(name)


def _jobs_this_month(s: Any, user: uuid.UUID, since: datetime) -> int:
    return int(s.scalar(select(func.count()).select_from(ApiUsage).where(
        ApiUsage.user_id == user, ApiUsage.method == METER,
        ApiUsage.endpoint.like(f"{JOBS_METER}%"), ApiUsage.created_at >= since)) or 0)


def _storage_bytes(s: Any, user: uuid.UUID) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(ContentArtifact.file_size), 0))
                        .join(Job, Job.id == ContentArtifact.job_id)
                        .where(Job.user_id == user)) or 0)


def reserve_job(db: Database, settings: Settings, profile_id: str, job_id: str, *,
                check: bool = True) -> None:
    """Count a new job against its owner's month, or raise QuotaExceeded before it exists
    (jobs this month, storage). Checked and counted in one transaction, with the profile
    row locked on PostgreSQL, so two jobs started at once cannot both take the last one.
    ``check=False`` (the operator's CLI) counts without refusing."""
    user = _uuid(profile_id)
    with db.session() as s:
        name = s.scalar(select(Profile.subscription_tier).where(Profile.id == user)
                        .with_for_update())
        if check and enforced(settings):
            tier = tier_named(name)
            used = _jobs_this_month(s, user, month_start())
            if tier.jobs_per_month is not None and used >= tier.jobs_per_month:
                raise QuotaExceeded(
                    "jobs_per_month", f"your {tier.name} plan includes {tier.jobs_per_month} "
                    f"jobs a month and you have used {used}", upgrade_hint(settings, tier.name))
            stored = _storage_bytes(s, user)
            if tier.storage_bytes is not None and stored >= tier.storage_bytes:
                raise QuotaExceeded(
                    "storage", f"your {tier.name} plan includes {tier.storage_bytes // GB} GB "
                    f"of storage and {stored / GB:.1f} GB are in use",
                    upgrade_hint(settings, tier.name))
        s.add(ApiUsage(user_id=user, endpoint=f"{JOBS_METER}{job_id}", method=METER,
                       status_code=200))


def meter_render(db: Database, job_id: str) -> None:
    """The job's render time so far (its media steps' durations), in its one meter row."""
    with db.session() as s:
        owner = s.scalar(select(Job.user_id).where(Job.id == job_id))
        if owner is None:
            return
        ms = int(s.scalar(select(func.coalesce(func.sum(JobStep.duration_ms), 0)).where(
            JobStep.job_id == job_id, JobStep.name.in_(RENDER_STEPS))) or 0)
        endpoint = f"{RENDER_METER}{job_id}"
        row = s.scalar(select(ApiUsage).where(ApiUsage.endpoint == endpoint,
                                              ApiUsage.method == METER))
        if row is None:
            if ms == 0:
                return
            s.add(ApiUsage(user_id=owner, endpoint=endpoint, method=METER, status_code=200,
                           response_time_ms=ms))
        else:
            row.response_time_ms = ms


def meter_tokens(db: Database, job_id: str, tokens: int) -> None:
    """Add a run's model tokens to the job's one tokens row (a resumed job adds its own)."""
    if tokens <= 0:
        return
    with db.session() as s:
        owner = s.scalar(select(Job.user_id).where(Job.id == job_id))
        if owner is None:
            return
        endpoint = f"{TOKENS_METER}{job_id}"
        row = s.scalar(select(ApiUsage).where(ApiUsage.endpoint == endpoint,
                                              ApiUsage.method == METER).with_for_update())
        if row is None:
            s.add(ApiUsage(user_id=owner, endpoint=endpoint, method=METER, status_code=200,
                           tokens_used=tokens))
        else:
            row.tokens_used += tokens


@dataclass(frozen=True)
class Usage:
    """A user's use of their tier this month, and the tier's limits (None: unlimited)."""

    tier: str
    period_start: datetime
    jobs: int
    jobs_limit: int | None
    render_seconds: float
    tokens: int  # model tokens, where the model reports them
    storage_bytes: int
    storage_limit_bytes: int | None
    webhooks: int
    webhooks_limit: int | None
    enforced: bool


def usage_for(db: Database, profile_id: str | uuid.UUID,
              settings: Settings | None = None) -> Usage:
    """What ``/usage`` and ``GET /api/v1/users/usage`` show."""
    user, since = _uuid(profile_id), month_start()
    with db.session() as s:
        tier = tier_named(s.scalar(select(Profile.subscription_tier).where(Profile.id == user)))
        jobs = _jobs_this_month(s, user, since)
        metered = ApiUsage.user_id == user, ApiUsage.created_at >= since
        render_ms = int(s.scalar(select(func.coalesce(func.sum(ApiUsage.response_time_ms), 0))
                                 .where(*metered, ApiUsage.method == METER,
                                        ApiUsage.endpoint.like(f"{RENDER_METER}%"))) or 0)
        tokens = int(s.scalar(select(func.coalesce(func.sum(ApiUsage.tokens_used), 0))
                              .where(*metered)) or 0)
        stored = _storage_bytes(s, user)
        hooks = int(s.scalar(select(func.count()).select_from(Webhook)
                             .where(Webhook.user_id == user)) or 0)
    return Usage(tier.name, since, jobs, tier.jobs_per_month, render_ms / 1000, tokens, stored,
                 tier.storage_bytes, hooks, tier.webhooks,
                 enforced(settings) if settings is not None else True)


def format_usage(usage: Usage) -> str:
    def of(used: str, limit: object) -> str:
        return f"{used} of {limit}" if limit is not None else f"{used} (unlimited)"

    storage_limit = (None if usage.storage_limit_bytes is None
                     else f"{usage.storage_limit_bytes / GB:.0f} GB")
    lines = [
        f"Plan: {usage.tier}" + ("" if usage.enforced else " (limits are not enforced here)"),
        f"Jobs since {usage.period_start:%Y-%m-%d}: {of(str(usage.jobs), usage.jobs_limit)}",
        f"Storage: {of(f'{usage.storage_bytes / GB:.2f} GB', storage_limit)}",
        f"Render time: {usage.render_seconds:.0f} s",
        f"Webhooks: {of(str(usage.webhooks), usage.webhooks_limit)}",
    ]
    if usage.tokens:
        lines.append(f"Model tokens: {usage.tokens}")
    return "\n".join(lines)


# --- the other limits, for the code that adds what they count ------------------------------

def _refuse_over(settings: Settings, tier: Tier, limit: str, allowed: int | None, used: int,
                 what: str) -> None:
    if not enforced(settings) or allowed is None or used < allowed:
        return
    message = (f"your {tier.name} plan does not include {what}" if allowed == 0 else
               f"your {tier.name} plan includes {allowed} {what} and you have {used}")
    raise QuotaExceeded(limit, message, upgrade_hint(settings, tier.name))


def check_webhooks(db: Database, settings: Settings, profile_id: str | uuid.UUID) -> None:
    """Before a webhook is registered."""
    user = _uuid(profile_id)
    tier = account_tier(db, user)
    with db.session() as s:
        used = int(s.scalar(select(func.count()).select_from(Webhook)
                            .where(Webhook.user_id == user)) or 0)
    _refuse_over(settings, tier, "webhooks", tier.webhooks, used, "outgoing webhooks")


def check_members(db: Database, settings: Settings, organization_id: str | uuid.UUID) -> None:
    """Before someone joins a workspace (on its owner's tier; the owner counts)."""
    org = _uuid(organization_id)
    with db.session() as s:
        owner = s.scalar(select(Organization.owner_id).where(Organization.id == org))
        members = int(s.scalar(select(func.count()).select_from(OrganizationMember).where(
            OrganizationMember.organization_id == org,
            OrganizationMember.user_id != owner)) or 0)
    if owner is None:
        return
    tier = account_tier(db, owner)
    _refuse_over(settings, tier, "team_members", tier.team_members, members + 1,
                 "team members")


def check_platforms(db: Database, settings: Settings, profile_id: str | uuid.UUID,
                    connected: int) -> None:
    """Before another platform account is connected (``connected``: how many are now)."""
    tier = account_tier(db, profile_id)
    _refuse_over(settings, tier, "platforms", tier.platforms, connected, "connected platforms")


def check_api_request(db: Database, settings: Settings, profile_id: str | uuid.UUID) -> None:
    """Before an API request is served: the tier's requests per day (UTC), counted from the
    requests logged in ``api_usage`` (rows that are not meters)."""
    if not enforced(settings):  # every request passes here: no query when nothing is held
        return
    user = _uuid(profile_id)
    tier = account_tier(db, user)
    if tier.api_requests_per_day is None:
        return
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with db.session() as s:
        used = int(s.scalar(select(func.count()).select_from(ApiUsage).where(
            ApiUsage.user_id == user, ApiUsage.method != METER,
            ApiUsage.created_at >= today)) or 0)
    _refuse_over(settings, tier, "api_requests_per_day", tier.api_requests_per_day, used,
                 "API requests a day")


def usage_report(svc: Any, username: str) -> dict[str, Any]:
    """:func:`usage_for` as the mapping ``GET /api/v1/users/usage`` reads (``svc``: the
    :class:`~assistant.graph.services.Services`)."""
    usage = usage_for(svc.db, svc.repo.ensure_user(username), svc.settings)
    tier = tier_named(usage.tier)
    start = usage.period_start
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else \
        start.replace(month=start.month + 1)
    return {
        "period_start": start, "period_end": end, "jobs": usage.jobs, "tier": usage.tier,
        "limits": {"jobs_per_month": tier.jobs_per_month, "storage_bytes": tier.storage_bytes,
                   "platforms": tier.platforms, "team_members": tier.team_members,
                   "api_requests_per_day": tier.api_requests_per_day,
                   "webhooks": tier.webhooks},
        "metered": {"render_seconds": usage.render_seconds, "tokens": float(usage.tokens),
                    "storage_bytes": float(usage.storage_bytes),
                    "webhooks": float(usage.webhooks)},
    }
