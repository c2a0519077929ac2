"""Outgoing webhooks (PRD section 6.3): registered per workspace, fed by the job runner.

A webhook belongs to a user's own workspace (their jobs outside any organization) or to an
organization they own; it names the events it wants (:data:`EVENTS`) and gets a secret,
shown once, that signs every delivery (:mod:`assistant.app.webhook_delivery`).

Where events come from: the :class:`~assistant.app.runner.JobRunner`, the one place every job
passes through whichever process runs it (chat server, API, worker, CLI). Its create writes
``job.created``; :func:`runner_sink` turns its events into ``approval.required``,
``job.failed``, ``job.completed`` and ``content.published``. They are written as delivery
rows in the process that saw them, once: the cross-process bus would hand each event to
every listening process, and each would send it again.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from assistant.app.quotas import check_webhooks
from assistant.app.webhook_delivery import Resolver, WebhookRefused, resolve_target, wake_workers
from assistant.config import Settings
from assistant.errors import InputError
from storage.db import Database
from storage.errors import NotFoundError
from storage.models import Job, Organization, Webhook, WebhookDelivery

if TYPE_CHECKING:
    from assistant.graph.services import Services

log = logging.getLogger(__name__)

# the runner's Event and its sinks, named without importing the runner (it imports this)
RunnerEvent = Any
EventSink = Callable[[RunnerEvent], None]

EVENTS = ("job.created", "job.completed", "job.failed", "content.published",
          "approval.required")
MAX_PER_USER = 20


@dataclass(frozen=True)
class WebhookInfo:
    id: str
    url: str
    events: list[str]
    workspace: str | None  # organization slug; None: the user's own jobs
    active: bool
    created_at: datetime
    last_triggered: datetime | None


@dataclass(frozen=True)
class DeliveryInfo:
    id: str
    event: str
    status: str  # pending | delivered | failed
    attempts: int
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None


def _info(hook: Webhook, slug: str | None) -> WebhookInfo:
    return WebhookInfo(str(hook.id), hook.url, list(hook.events), slug, hook.is_active,
                       hook.created_at, hook.last_triggered)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFoundError(f"no {what} {value!r}") from None


class Webhooks:
    """Register, list and delete a user's webhooks; read their deliveries."""

    def __init__(self, db: Database, settings: Settings, *,
                 resolver: Resolver | None = None) -> None:
        self.db, self.settings = db, settings
        self._resolver = resolver

    def register(self, profile_id: str, url: str, events: list[str],
                 workspace: str | None = None) -> tuple[WebhookInfo, str]:
        """A new webhook and its secret (returned this once, never shown again)."""
        wanted = sorted(set(events))
        unknown = [e for e in wanted if e not in EVENTS]
        if not wanted or unknown:
            raise InputError(f"unknown event {unknown[0]!r}: choose from {', '.join(EVENTS)}"
                             if unknown else f"name at least one event: {', '.join(EVENTS)}")
        if len(url) > 1000:
            raise WebhookRefused("the webhook URL is longer than 1000 characters")
        check_webhooks(self.db, self.settings, profile_id)
        kwargs = {} if self._resolver is None else {"resolver": self._resolver}
        resolve_target(url, allow_private=self.settings.webhook_allow_private, **kwargs)
        user = uuid.UUID(profile_id)
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.db.session() as s:
            org_id = self._owned_workspace(s, user, workspace) if workspace else None
            count = len(list(s.scalars(select(Webhook.id).where(Webhook.user_id == user))))
            if count >= MAX_PER_USER:
                raise InputError(f"you have {count} webhooks, the most one user may have: "
                                 "delete one first")
            hook = Webhook(user_id=user, organization_id=org_id, name=url[:255], url=url,
                           events=wanted, secret=secret, is_active=True)
            s.add(hook)
            s.flush()
            return _info(hook, workspace), secret

    @staticmethod
    def _owned_workspace(s: Any, user: uuid.UUID, slug: str) -> uuid.UUID:
        org = s.scalar(select(Organization).where(Organization.slug == slug))
        if org is None or org.owner_id != user:
            raise NotFoundError(f"no workspace {slug!r} that you own")
        return uuid.UUID(str(org.id))

    def of_user(self, profile_id: str) -> list[WebhookInfo]:
        with self.db.session() as s:
            rows = s.execute(
                select(Webhook, Organization.slug)
                .outerjoin(Organization, Organization.id == Webhook.organization_id)
                .where(Webhook.user_id == uuid.UUID(profile_id))
                .order_by(Webhook.created_at)).all()
            return [_info(hook, slug) for hook, slug in rows]

    def _own(self, s: Any, profile_id: str, webhook_id: str) -> Webhook:
        hook = s.get(Webhook, _uuid(webhook_id, "webhook"))
        if hook is None or str(hook.user_id) != str(profile_id):
            raise NotFoundError(f"no webhook {webhook_id!r}")  # another user's: not found
        return hook

    def delete(self, profile_id: str, webhook_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._own(s, profile_id, webhook_id))  # deliveries go with it (cascade)

    def deliveries(self, profile_id: str, webhook_id: str,
                   limit: int = 50) -> list[DeliveryInfo]:
        with self.db.session() as s:
            hook = self._own(s, profile_id, webhook_id)
            rows = s.scalars(select(WebhookDelivery)
                             .where(WebhookDelivery.webhook_id == hook.id)
                             .order_by(WebhookDelivery.created_at.desc()).limit(limit))
            return [DeliveryInfo(str(d.id), d.event_type, d.status, d.retry_count,
                                 d.response_status, d.error, d.created_at, d.delivered_at,
                                 d.next_attempt_at) for d in rows]


# --- events -------------------------------------------------------------------------------

def enqueue(db: Database, job_id: str, event: str, data: dict[str, Any], *,
            clock: Callable[[], float] = time.time) -> int:
    """Write one delivery per active webhook that wants ``event`` for this job's workspace
    (its organization's hooks, or its owner's own when it is in none); how many."""
    now = clock()
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None or job.user_id is None:
            return 0
        scope = (Webhook.organization_id == job.organization_id if job.organization_id
                 else (Webhook.user_id == job.user_id) & Webhook.organization_id.is_(None))
        hooks = [h for h in s.scalars(select(Webhook).where(Webhook.is_active.is_(True), scope))
                 if event in (h.events or [])]
        if not hooks:
            return 0
        job_data = {"id": job.id, "title": job.title, "format": job.content_type,
                    "status": job.status, "created_at": job.created_at.isoformat()}
        event_id = f"evt_{uuid.uuid4().hex}"
        at = datetime.fromtimestamp(now, UTC)
        for hook in hooks:
            s.add(WebhookDelivery(
                id=uuid.uuid4(), webhook_id=hook.id, event_type=event, status="pending",
                next_attempt_at=at, payload={"id": event_id, "event": event,
                                             "created": int(now),
                                             "data": {"job": job_data, **data}}))
        return len(hooks)


def job_created(svc: Services, job_id: str) -> None:
    _safely(svc, job_id, "job.created", {})


def _safely(svc: Services, job_id: str, event: str, data: dict[str, Any]) -> None:
    """Enqueue, never failing the job: a webhook is a notification, not part of the work."""
    try:
        if enqueue(svc.db, job_id, event, data):
            wake_workers()
    except Exception:
        log.exception("could not queue the %s webhook of %s", event, job_id)


def runner_sink(svc: Services, on_event: EventSink | None) -> EventSink:
    """``on_event`` with the webhook events the runner's events mean written first."""
    def sink(event: RunnerEvent) -> None:
        job_id = event.job_id
        if event.kind == "review":
            _safely(svc, job_id, "approval.required",
                    {"stage": event.step, "description": event.message})
        elif event.kind == "error":
            _safely(svc, job_id, "job.failed", {"error": event.message, "step": event.step})
        elif event.kind == "done" and event.message == "failed":
            _safely(svc, job_id, "job.failed", {"error": "the job ended without a result"})
        elif event.kind == "done":
            job = svc.repo.get_job(job_id)
            duration = (datetime.now(UTC) - job.created_at).total_seconds() if job else None
            _safely(svc, job_id, "job.completed",
                    {"status": event.message, "duration": duration})
            if event.message == "published":
                # a post's public URL; a local outbox path is nothing a receiver can open
                pubs = [{"platform": p.platform, "status": p.status,
                         "url": p.location if (p.location or "").startswith("http") else None}
                        for p in svc.repo.publications(job_id)]
                _safely(svc, job_id, "content.published", {"publications": pubs})
        if on_event is not None:
            on_event(event)

    return sink
