"""The scheduler loop: due publications, the metrics pull, the weekly report.

It runs as a thread in ``assistant worker`` (beside the Celery worker) and on its own as
``assistant scheduler``, not as Celery beat: beat is one extra process whose schedule lives
in a file, and two beats (two replicas, one restarted while the old one still runs) would
both fire. Here every round claims what it does in the database — a due publication by its
lease (:meth:`storage.schedule.ScheduleRepository.claim_due`, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), a weekly report by its (workspace, week) row — so any number of loops, in any
process, restarted at any time, publish each piece once and send each report once. It needs
no broker: the embedded install runs it the same way.

Time comes from an injected clock (``clock()`` -> aware UTC), so the tests drive a cascade
through its hours in a second.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from assistant.app.events import OutEvent, say
from assistant.app.groups.reports import build_report
from assistant.config import Settings
from assistant.content import Publication
from assistant.errors import AssistantError
from assistant.tools.publishing import PublishRequest, publishers_for
from assistant.tools.publishing.accounts import AccountStore, owners_of_job
from assistant.tools.publishing.analytics import MetricsReader, platform_reader, pull_due
from assistant.tools.publishing.base import Role, media_files
from assistant.tools.publishing.ledger import publish_once
from assistant.tools.publishing.schedule import label, zone
from storage.analytics import AnalyticsRepository
from storage.models import Organization, OrganizationMember, Profile
from storage.records import PublicationRecord
from storage.schedule import ScheduleRepository

if TYPE_CHECKING:
    from assistant.graph.services import Services

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# publishes one claimed (job, platform) row; raises AssistantError with one line on failure
DuePublish = Callable[[PublicationRecord], Publication]
Deliver = Callable[[OutEvent], None]
LEASE_TTL_S = 300.0  # renewed every third while an upload runs
MAX_ATTEMPTS = 4  # a failed publication is tried again 3 times before the person is told
RETRY_FIRST = timedelta(minutes=5)
# a loop that was down at report time still sends it within a day, not a week later
REPORT_LATE_MAX = timedelta(days=1)
# the pieces a weekly report shows: the last four weeks', whose counters still grow
REPORT_WINDOW = timedelta(days=28)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Round:
    """What one round did (the tests and the log read it)."""

    published: list[tuple[str, str]] = field(default_factory=list)  # (job, platform)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (job, platform, why)
    metrics_pulled: int = 0
    reports_sent: list[str] = field(default_factory=list)  # audiences


def state_publisher(svc: Services, state_of: Callable[[str], dict[str, Any]]) -> DuePublish:
    """Publish a due row the way the publish step does: the job's final state (its brief,
    script and media, read from its checkpoint by ``state_of``) through the ledger."""

    def publish(row: PublicationRecord) -> Publication:
        state = state_of(row.job_id)
        if not state.get("script"):
            raise AssistantError(f"{row.job_id} has no approved script to publish")
        accounts: dict[str, Any] = {}
        if svc.settings.secret_key is not None:
            store = AccountStore.from_settings(svc.settings, svc.db)
            accounts = dict(store.credentials_for(owners_of_job(svc.db, row.job_id)))
        target = publishers_for(svc.settings, accounts, [row.platform])[0]
        request = PublishRequest(job_id=row.job_id, brief=state["brief"], script=state["script"],
                                 files=_files(svc, row.job_id, state),
                                 credentials=target.credentials, publish_at=row.publish_at)
        return publish_once(target.publisher, request, svc.repo)

    return publish


def _files(svc: Services, job_id: str, state: dict[str, Any]) -> dict[Role, Path]:
    files: dict[Role, Path] = {}
    final = svc.objects.get(job_id, "final.md")
    if final is not None:
        files["markdown"] = final.path
    files.update(media_files(state.get("media")))
    qa = svc.objects.get(job_id, "qa.json")
    if qa is not None:
        files["qa"] = qa.path
    return files


class Scheduler:
    def __init__(self, svc: Services, publish: DuePublish, *, clock: Clock = utc_clock,
                 deliver: Deliver | None = None, read_metrics: MetricsReader | None = None,
                 lease_ttl_s: float = LEASE_TTL_S) -> None:
        self.svc = svc
        self.publish = publish
        self.clock = clock
        self.deliver = deliver or (lambda event: None)
        self.read_metrics = read_metrics or platform_reader(svc.settings, svc.db)
        self.lease_ttl_s = lease_ttl_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.schedule = ScheduleRepository(svc.db)
        self.analytics = AnalyticsRepository(svc.db)
        self._last_pull: datetime | None = None

    # --- one round ---------------------------------------------------------------------------
    def run_once(self) -> Round:
        done = Round()
        self.publish_due(done)
        now = self.clock()
        interval = self.svc.settings.analytics_interval_s
        # the table says which pieces are due; asking it every round is cheap, but a round
        # a minute is enough to find them
        if self._last_pull is None or now - self._last_pull >= timedelta(seconds=min(interval, 60)):
            self._last_pull = now
            done.metrics_pulled = sum(pull_due(self.analytics, self.read_metrics, now,
                                               interval).pulled.values())
        self.send_weekly_reports(done)
        return done

    def publish_due(self, done: Round) -> None:
        for row in self.schedule.claim_due(self.clock(), self.owner, self.lease_ttl_s):
            stop = threading.Event()
            renewer = threading.Thread(target=self._renew, args=(row.id, stop), daemon=True,
                                       name=f"publication-lease-{row.id}")
            renewer.start()
            error: str | None = None
            try:
                publication = self.publish(row)
            except AssistantError as err:
                error = err.user_message
            except Exception as err:  # a bug: logged; the row is released and says why
                log.exception("scheduled publication %s of %s failed", row.platform, row.job_id)
                error = f"{row.platform}: publishing failed unexpectedly ({type(err).__name__})"
            finally:
                stop.set()
                renewer.join(timeout=5)
                retry_at = self._retry_at(row.id) if error is not None else None
                self.schedule.release(row.id, self.owner, error, retry_at=retry_at)
            if error is not None:
                done.failed.append((row.job_id, row.platform, error))
                if retry_at is not None:  # a platform that was down may be back by then
                    log.warning("%s on %s failed (%s); trying again at %s", row.job_id,
                                row.platform, error, retry_at)
                    continue
                self.deliver(say(row.job_id, f"{row.job_id} was not published on "
                                             f"{label(row.platform)}: {error}. Try again with "
                                             f"/schedule {row.job_id} {row.platform} TIME."))
                continue
            done.published.append((row.job_id, row.platform))
            where = publication.url or publication.location
            self.deliver(say(row.job_id, f"{row.job_id} is published on {label(row.platform)}"
                                         + (f": {where}" if where else ".")))

    def _retry_at(self, publication_id: str) -> datetime | None:
        """When a failed attempt is tried again: 5, 15, then 45 minutes on; None after the
        last (the person is told, and /schedule tries again)."""
        lease = self.schedule.lease_of(publication_id)
        attempts = 1 + int(lease["attempts"] if lease else 0)  # counting this one
        if attempts >= MAX_ATTEMPTS:
            return None
        return self.clock() + RETRY_FIRST * 3 ** (attempts - 1)

    def _renew(self, publication_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease_ttl_s / 3):
            if not self.schedule.renew(publication_id, self.owner, self.clock(),
                                       self.lease_ttl_s):
                log.error("lost the lease of publication %s", publication_id)
                return

    # --- the weekly report ---------------------------------------------------------------------
    def last_report_time(self, now: datetime) -> datetime | None:
        """The newest weekly report time at or before ``now`` (aware UTC); None when the
        setting turns reports off."""
        spec = self.svc.settings.weekly_report_at.strip().lower()
        if not spec:
            return None
        day, _, at = spec.partition(" ")
        try:
            weekday = DAYS.index(day[:3])
            hour, minute = (int(x) for x in (at or "10:00").split(":"))
        except ValueError:
            raise AssistantError(f"ASSISTANT_WEEKLY_REPORT_AT={spec!r}: write a day and a "
                                 "time, e.g. 'mon 10:00'") from None
        tz = zone(self.svc.settings)
        local = now.astimezone(tz)
        days_back = (local.weekday() - weekday) % 7
        date = (local - timedelta(days=days_back)).date()
        slot = datetime(date.year, date.month, date.day, hour, minute, tzinfo=tz).astimezone(UTC)
        return slot if slot <= now else slot - timedelta(days=7)

    def send_weekly_reports(self, done: Round) -> None:
        now = self.clock()
        slot = self.last_report_time(now)
        if slot is None or now - slot > REPORT_LATE_MAX:
            return  # a week's report is sent on its day, or not: the next one comes
        since = slot - REPORT_WINDOW
        local = slot.astimezone(zone(self.svc.settings))
        title = f"Weekly report to {local:%a} {local.day} {local:%b}"
        for audience, organization_id, username in self.analytics.audiences():
            if self.schedule.report_sent(audience, slot):
                continue
            events = build_report(self.svc, now=now, username=username,
                                  organization_id=organization_id, since=since, title=title)
            summary = next((e.text for e in events if e.kind == "text"), "")
            if not self.schedule.claim_report(audience, slot, summary):
                continue  # sent already, by this loop or another
            for name in self._recipients(organization_id, username):
                for event in events:
                    self.deliver(_addressed(event, name))
            done.reports_sent.append(audience)

    def _recipients(self, organization_id: str | None, username: str | None) -> list[str]:
        if username is not None:
            return [username]
        org = uuid.UUID(str(organization_id))
        with self.svc.db.session() as s:
            owner = s.scalar(select(Profile.username).join(
                Organization, Organization.owner_id == Profile.id).where(Organization.id == org))
            members = s.scalars(select(Profile.username).join(
                OrganizationMember, OrganizationMember.user_id == Profile.id).where(
                OrganizationMember.organization_id == org)).all()
        return sorted({n for n in [owner, *members] if n})

    # --- the loop -----------------------------------------------------------------------------
    def run_forever(self, stop: threading.Event) -> None:
        """Rounds every ``scheduler_interval_s`` until ``stop`` is set; a failed round is
        logged and the next one runs (a database that is down for a minute stops nothing)."""
        log.info("scheduler %s started", self.owner)
        while not stop.is_set():
            try:
                done = self.run_once()
                if done.published or done.failed or done.reports_sent:
                    log.info("scheduler round: %s", done)
            except Exception:
                log.exception("a scheduler round failed; trying again next round")
            stop.wait(self.svc.settings.scheduler_interval_s)


def _addressed(event: OutEvent, username: str) -> OutEvent:
    """The event for one person (see :meth:`assistant.app.subscriptions.Subscriptions`,
    which delivers a job-less event to the identities of ``data['to']``)."""
    from dataclasses import replace

    return replace(event, data={**event.data, "to": username})


# --- running it -----------------------------------------------------------------------------


def run_scheduler(settings: Settings, stop: threading.Event | None = None) -> int:
    """`assistant scheduler` (and the thread in `assistant worker`): the loop until ``stop``
    is set or the process is told to stop (SIGTERM, Ctrl-C). What it has to say (a piece
    published, a weekly report) reaches the chat processes through the event bus, so it needs
    ASSISTANT_REDIS_URL for that; without, it still publishes, and says so once."""
    from assistant.app.bus import make_bus, new_origin
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services

    svc = Services.create(settings)
    runner = JobRunner(svc)
    bus, origin = make_bus(settings), new_origin()
    if not settings.redis_url:
        log.warning("scheduler: no ASSISTANT_REDIS_URL, so its messages (published, weekly "
                    "reports) reach no chat process; it still publishes what is due")
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    scheduler = Scheduler(svc, state_publisher(svc, runner.state),
                          deliver=lambda event: bus.publish(event, origin))
    try:
        scheduler.run_forever(stop)
    finally:
        runner.close()
        svc.close()
    return 0


def start_in_thread(settings: Settings) -> Callable[[], None]:
    """The loop on a daemon thread of this process (the media worker's); returns a stopper."""
    stop = threading.Event()
    threading.Thread(target=run_scheduler, args=(settings, stop), daemon=True,
                     name="scheduler").start()
    return stop.set
