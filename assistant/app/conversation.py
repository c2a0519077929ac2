"""The channel-agnostic conversation: messages, commands and button presses in, events out.

A channel calls :meth:`Conversation.handle` with a user's text and :meth:`Conversation.decide`
for an approval button, and renders the :class:`~assistant.channels.OutEvent` s it gets back.
Each job runs on a background thread (a user may have several at once); its later events
reach the callbacks registered with :meth:`Conversation.subscribe`. Methods are thread-safe.

Delivery (subscribers, history, the bus) is :mod:`assistant.app.subscriptions`; the job
threads are :mod:`assistant.app.background`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.app import commands as cmd
from assistant.app.background import JobThreads
from assistant.app.bus import EventBus, make_bus
from assistant.app.command_registry import REGISTRY as GROUP_COMMANDS
from assistant.app.command_registry import CommandContext, take_secret_answer
from assistant.app.events import (
    REVIEW_ACTIONS,
    Callback,
    ChannelUser,
    OutEvent,
    approval_request,
    refuse,
    say,
)
from assistant.app.groups.reports import offer_defaults
from assistant.app.identity import IdentityLinks, check_review
from assistant.app.knowledge import add_files as kb_add
from assistant.app.knowledge import kb_reply
from assistant.app.role_checks import RoleRechecks
from assistant.app.runner import FINISHED, JobRunner, observed_status
from assistant.app.subscriptions import HISTORY_LIMIT, IDENTITY_TTL_S, Subscriptions
from assistant.content import ReviewDecision
from assistant.errors import AssistantError, InputError, JobNotFound, JobStateError
from assistant.graph.services import Services
from assistant.infra.ratelimit import RateLimited, RateLimiter, make_rate_limiter
from storage.errors import StorageError
from storage.records import JobRecord

if TYPE_CHECKING:
    from assistant.tools.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

__all__ = ["ACTIVE", "HISTORY_LIMIT", "IDENTITY_TTL_S", "Conversation"]

ACTIVE = ("pending", "processing", "review", "failed")
_CHARGED: ContextVar[bool] = ContextVar("conversation_rate_charged", default=False)


class Conversation:
    def __init__(self, svc: Services, runner: JobRunner,
                 identities: IdentityLinks | None = None, *, bus: EventBus | None = None,
                 limiter: RateLimiter | None = None) -> None:
        self.svc, self.runner = svc, runner
        # per-user rate limits (Redis when configured)
        self._limiter = limiter or make_rate_limiter(svc.settings)
        self.identities = identities or IdentityLinks(svc.db)
        self.roles = RoleRechecks(svc.db, self.identities, svc.settings)  # Discord roles
        self._lock = threading.RLock()
        self._subs = Subscriptions(svc.repo, self.identities, bus or make_bus(svc.settings),
                                   self._lock)
        self.origin = self._subs.origin
        self._jobs = JobThreads(svc, self._subs.publish, self._lock)
        self._clarify: dict[ChannelUser, cmd.RequestParse] = {}
        self._confirm: dict[ChannelUser, tuple[str, str]] = {}

    # --- what channels call ----------------------------------------------------------------

    def subscribe(self, who: ChannelUser | str, callback: Callback) -> Callable[[], None]:
        """Later events for one identity, or every identity on a channel ("telegram"); the
        callback runs on the job's thread with the identity to show the event to (the owner's
        linked identities, whoever started or decided the job). Returns an unsubscriber."""
        return self._subs.subscribe(who, callback)

    def handle(self, user: ChannelUser, text: str) -> list[OutEvent]:
        """A message: a slash command or free text. Returns the immediate replies."""
        return self._safely(None, self._limited(user, lambda: self._handle(user, text.strip())))

    def decide(self, user: ChannelUser, job_id: str, action: str, notes: str = "",
               stage: str | None = None) -> list[OutEvent]:
        """A review answer (a button press): approve, revise (with notes) or reject.

        ``stage``, when the button carries it, must be the review now waiting, so a stale
        button from an earlier review cannot decide a later one.
        """
        return self._safely(job_id, self._limited(
            user, lambda: self._decide(user, job_id, action, notes, stage)))

    def add_files(self, user: ChannelUser, paths: Iterable[Path]) -> list[OutEvent]:
        """Files a user uploaded, into the knowledge base."""
        return self._safely(None, lambda: [say(None, kb_add(
            self._kb(), self.svc, self.username(user), paths))])

    def username(self, user: ChannelUser) -> str:
        """The internal user this identity acts as (read again after IDENTITY_TTL_S: every
        turn needs it, and a link made in another process shows here within that time)."""
        return self._subs.username(user)

    def pending_approvals(self, user: ChannelUser) -> list[OutEvent]:
        """The approval requests waiting for this user: to show again after a restart."""
        jobs = self.svc.repo.list_jobs(100, user=self.username(user), status="review")
        return [approval_request(j.id, r) for j in jobs if (r := self.runner.pending_review(j.id))]

    def pending_by_channel(self, channel: str) -> list[tuple[ChannelUser, OutEvent]]:
        """Every approval request waiting now, with each identity on ``channel`` to show it to
        (the owner's linked identities and whoever watched the job in this process): what a
        bot or the web app shows again after a restart."""
        found: list[tuple[ChannelUser, OutEvent]] = []
        for job in self.svc.repo.list_jobs(1000, status="review"):
            review = self.runner.pending_review(job.id)
            if review is None:
                continue
            watchers = self._subs.watchers(job.id)
            for user in self._subs.recipients(job.id, watchers):
                if user.channel == channel:
                    found.append((user, approval_request(job.id, review)))
        return found

    def history(self, job_id: str) -> list[OutEvent]:
        """The job's background events so far (the newest HISTORY_LIMIT)."""
        return self._subs.history(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until the job's background work stops; False if ``timeout`` ran out first."""
        return self._jobs.wait(job_id, timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Wait for background work to stop (a job waiting for review holds no thread)."""
        self._jobs.join_all(timeout)
        self._subs.close()
        self.roles.close()

    def _limited(self, user: ChannelUser,
                 act: Callable[[], list[OutEvent]]) -> Callable[[], list[OutEvent]]:
        """``act`` behind the user's rate limit (one token per message or button press; a
        command that decides inside the same message is not charged twice)."""
        def run() -> list[OutEvent]:
            if _CHARGED.get():
                return act()
            wait = self._limiter.acquire(self.username(user))
            if wait > 0:
                raise RateLimited(wait)
            token = _CHARGED.set(True)
            try:
                return act()
            finally:
                _CHARGED.reset(token)

        return run

    def _kb(self) -> KnowledgeBase:
        return self.svc.kb()

    def _safely(self, job_id: str | None, act: Callable[[], list[OutEvent]]) -> list[OutEvent]:
        """Run ``act``; a failure becomes one error line (an unexpected one is logged)."""
        try:
            return act()
        except AssistantError as exc:
            return [refuse(job_id, exc.user_message)]
        except StorageError as exc:
            return [refuse(job_id, str(exc))]
        except Exception:
            log.exception("conversation failed (job %s)", job_id)
            return [refuse(job_id, "something went wrong on our side (it is logged): try again")]

    def _handle(self, user: ChannelUser, text: str) -> list[OutEvent]:
        """Free text is the yes/no we asked for, the answer to our one clarifying question,
        notes for the user's job waiting for review (confirmed first), or a new request."""
        if not text:
            raise InputError("say what you would like to make, or send /help")
        with self._lock:
            confirm = self._confirm.pop(user, None)
            pending = self._clarify.pop(user, None)
        secret = take_secret_answer(user)  # an application password we asked for: never kept
        if secret is not None and not text.startswith("/"):
            return secret(text)
        if text.startswith("/"):
            return self._command(user, cmd.parse_command(text))
        if confirm is not None:
            answer = cmd.yes_or_no(text)
            if answer is True:
                return self.decide(user, confirm[0], "revise", confirm[1])
            if answer is False:
                return [say(confirm[0], f"OK, nothing was sent to {confirm[0]}.")]
        if pending is not None:
            return self._answer(user, pending, text)
        if cmd.yes_or_no(text) is not None:
            raise InputError("there is nothing to confirm: /help lists what I can do")
        return self._free_text(user, text)

    # --- commands --------------------------------------------------------------------------

    def _command(self, user: ChannelUser, command: cmd.Command) -> list[OutEvent]:
        name, username = command.name, self.username(user)
        if name == "help":
            return [say(None, cmd.HELP_TEXT)]
        if name == "new":
            assert command.request is not None
            return self._start(user, command.request)
        if name == "jobs":
            return [say(None, cmd.format_jobs(self.svc.repo.list_jobs(10, user=username)))]
        if name == "status":
            return self._status(username, command.job)
        if name in ("approve", "reject"):
            return self.decide(user, command.job or self._pick(username, ["review"], name), name)
        if name == "revise":
            job_id = command.job or self._pick(username, ["review"], name)
            return self.decide(user, job_id, "revise", command.text)
        if name == "cancel":
            return self._cancel(user, command.job or self._pick(username, ACTIVE, name))
        if name == "kb":
            return [say(None, kb_reply(self._kb(), self.svc, username, command.text))]
        if name == "link":
            linked = self.identities.link(user.channel, user.external_id, command.text)
            self._subs.forget_identities()  # a new link acts, and gets its events, at once
            return [say(None, linked)]
        group = GROUP_COMMANDS.get(name)
        if group is not None:
            return group.run(CommandContext(self.svc, user, username, self.identities),
                             command.text)
        raise InputError(f"unknown command /{name}: /help lists the commands")

    def _pick(self, username: str, statuses: Collection[str], verb: str) -> str:
        """The user's one job in ``statuses``; an InputError that asks which if several."""
        jobs = self.jobs_of(username, statuses)
        if len(jobs) == 1:
            return jobs[0].id
        if not jobs:
            what = "waiting for review" if verb in REVIEW_ACTIONS else "in progress"
            raise InputError(f"you have no job {what}: /jobs lists yours")
        ids = ", ".join(j.id for j in jobs)
        raise InputError(f"which one? {ids}: send /{verb} JOB")

    def _status(self, username: str, job_id: str | None) -> list[OutEvent]:
        if job_id is None:
            active = self.jobs_of(username, ACTIVE)
            latest = active or self.svc.repo.list_jobs(1, user=username)
            if not latest:
                return [say(None, cmd.format_jobs([]))]
            job_id = self._pick(username, ACTIVE, "status") if active else latest[0].id
        job = self.job(job_id)
        self.check_reviewer(username, job)
        review = self.runner.pending_review(job_id) if job.status == "review" else None
        stage = review["action_request"]["action"] if review else None
        location = next((p.location for p in self.svc.repo.publications(job_id)), None)
        text = cmd.format_status(job, self.svc.repo.list_steps(job_id), stage, location)
        return [say(job_id, text), *([approval_request(job_id, review)] if review else [])]

    # --- jobs ------------------------------------------------------------------------------

    def _start(self, user: ChannelUser, request: cmd.RequestParse) -> list[OutEvent]:
        given = {k for k, v in vars(request).items() if v is not None}  # what they said
        brief, advice = offer_defaults(self.svc, request.brief(self.username(user)), given)
        job_id = self.runner.create(brief)
        self._subs.watch(job_id, user)
        self._jobs.launch(job_id, lambda sink: self.runner.start(job_id, brief, sink))
        return [say(job_id, f"Started {job_id}: {cmd.describe_brief(brief)}. I will show "
                            "the progress here and ask you to review the script."
                            + (f"\n{advice}" if advice else ""))]

    def cancel(self, user: ChannelUser, job_id: str) -> list[OutEvent]:
        """Cancel a job; a running one stops after the step it is on."""
        return self._safely(job_id, lambda: self._cancel(user, job_id))

    def _cancel(self, user: ChannelUser, job_id: str) -> list[OutEvent]:
        job = self.job(job_id)
        self.check_reviewer(self.username(user), job)
        if job.status in FINISHED:
            raise JobStateError(f"{job_id} is already {job.status}")
        running = self._jobs.cancel(job_id)
        self.svc.repo.set_status(job_id, "cancelled")
        observed_status(job_id, "cancelled")
        if running:
            return [say(job_id, f"Cancelling {job_id}: it stops after the step it is on.")]
        return [say(job_id, f"{job_id} cancelled.")]

    def job(self, job_id: str) -> JobRecord:
        job = self.svc.repo.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}: /jobs lists yours")
        return job

    def check_reviewer(self, username: str, job: JobRecord) -> None:
        """Refused unless ``username`` owns the job or reviews for its workspace (a role
        Discord granted is asked again, whichever channel this comes from)."""
        actor = self.svc.repo.ensure_user(username)
        if actor != job.user_id:
            self.roles.recheck(actor, username)
        check_review(self.svc.db, actor, job.id, job.user_id)

    def jobs_of(self, username: str, statuses: Collection[str]) -> list[JobRecord]:
        return [j for j in self.svc.repo.list_jobs(100, user=username) if j.status in statuses]

    # --- free text -------------------------------------------------------------------------

    def _free_text(self, user: ChannelUser, text: str) -> list[OutEvent]:
        parsed = cmd.parse_request(text)
        waiting = self.jobs_of(self.username(user), ["review"])
        if waiting and not cmd.is_new_request(text, parsed):
            if len(waiting) > 1:
                ids = ", ".join(j.id for j in waiting)
                raise InputError(f"several jobs wait for your review ({ids}): send "
                                 "/revise JOB NOTES, or ask for “a new short about …”")
            job_id = waiting[0].id
            with self._lock:
                self._confirm[user] = (job_id, text)
            return [say(job_id, f"Revise {job_id} with: “{text}”? Reply yes or no.")]
        if parsed.topic is None and cmd.leftover_words(text):
            chat = self.svc.chat()
            parsed = cmd.guess_request(chat, text, parsed)
        if not parsed.topic:
            with self._lock:
                self._clarify[user] = parsed
            return [say(None, cmd.CLARIFY_QUESTION)]
        return self._start(user, parsed)

    def _answer(self, user: ChannelUser, pending: cmd.RequestParse,
                text: str) -> list[OutEvent]:
        """The reply to our clarifying question: whatever it names is the topic."""
        parsed = pending.merged(cmd.parse_request(text))
        topic = parsed.topic or cmd.answer_topic(text)
        if not topic:
            raise InputError("I still do not know what it should be about: try "
                             "“a short about how tides work”")
        return self._start(user, parsed.merged(cmd.RequestParse(topic=topic)))

    # --- decisions -------------------------------------------------------------------------

    def _decide(self, user: ChannelUser, job_id: str, action: str, notes: str,
                stage: str | None) -> list[OutEvent]:
        if action not in REVIEW_ACTIONS:
            raise InputError(f"unknown action {action!r}: approve, revise or reject")
        if action == "revise" and not notes.strip():
            raise InputError(f"say what should change: /revise {job_id} NOTES")
        username = self.username(user)
        job = self.job(job_id)
        self.check_reviewer(username, job)
        if job.status == "review":  # a worker that just asked may still be exiting
            self.wait(job_id, 2.0)
        with self._lock:  # one decision per review, even when two channels press at once
            job = self.job(job_id)
            review = None if job.status in FINISHED else self.runner.pending_review(job_id)
            if review is None:
                word = cmd.STATUS_WORDS.get(job.status, job.status)
                raise JobStateError(f"{job_id} is not waiting for a review (it is {word})")
            waiting = review["action_request"]["action"]
            if stage and stage != waiting:
                raise JobStateError(f"that {stage} of {job_id} was already decided; it now "
                                    f"waits at {waiting}")
            decision = ReviewDecision.model_validate({
                "action": action, "notes": notes.strip(),
                "by": f"{username} via {user.channel}:{user.external_id}"[:255]})
            self._subs.watch(job_id, user)
            self._jobs.launch(job_id, lambda sink: self.runner.resume(job_id, decision, sink))
        done = {"approve": "Approved", "revise": "Sent your notes for", "reject": "Rejected"}
        return [say(job_id, f"{done[action]} {job_id} ({waiting}).")]
