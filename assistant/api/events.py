"""Live job events for the API's Server-Sent Events stream (``GET /api/v1/events``).

The hub subscribes to the conversation (:meth:`Conversation.subscribe`) once per API user
with an open stream, for each identity that user acts as: the same delivery the chat
channels get, so a job started in chat, in another process (the Redis bus) or here reaches
the stream, and only the user's own jobs (and those they watch) do. Each conversation event
becomes one of the PRD §6.2 names:

- ``job:created``, once per job, before anything else about it (when the API starts it, or
  with the first event of a job started elsewhere),
- ``job:updated`` (progress within a step), ``job:step_completed`` (a step finished),
- ``notification:approval_required`` (a review waits),
- ``job:completed`` (published, rejected or cancelled) and ``job:failed`` (with its error);
  these two are read from the job's stored status, not parsed from chat text.

Every event has a numeric ``id``; the last :data:`REPLAY` events per user are kept, so a
client reconnecting with ``Last-Event-ID`` gets what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from assistant.app.events import ChannelUser, OutEvent
from assistant.app.runner import FINISHED

if TYPE_CHECKING:
    from assistant.app.conversation import Conversation

log = logging.getLogger(__name__)

REPLAY = 200  # events kept per user for Last-Event-ID
JOBS_REMEMBERED = 10_000  # jobs whose job:created / end was announced (the oldest go first)
QUEUE_MAX = 1000  # events waiting for one slow client before the newest are dropped
SEEN = 32  # one event reaches a user once per identity, one identity after the other
NAMES = ("job:created", "job:updated", "job:step_completed", "notification:approval_required",
         "job:completed", "job:failed")


@dataclass(frozen=True)
class ApiEvent:
    id: int
    name: str
    data: dict[str, Any]

    def encode(self) -> str:
        """The SSE frame: ``id``, ``event`` and one ``data`` line of JSON."""
        body = json.dumps(self.data, default=str, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.name}\ndata: {body}\n\n"


@dataclass
class Stream:
    """One client's queue, filled from job threads, read on the server's event loop."""

    username: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[ApiEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))

    def put(self, event: ApiEvent) -> None:
        def put_now() -> None:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("an event stream of %s is full: dropped event %s", self.username,
                            event.id)

        with contextlib.suppress(RuntimeError):  # the loop is closed: the client is gone
            self.loop.call_soon_threadsafe(put_now)


class EventHub:
    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._streams: dict[str, list[Stream]] = {}
        self._unsubscribe: dict[str, list[Callable[[], None]]] = {}
        self._recent: dict[str, deque[ApiEvent]] = {}
        self._seen: dict[str, deque[OutEvent]] = {}  # the last events handled, per user
        # "user|job" -> the end announced / whether job:created was sent
        self._settled: LRUCache[str, str] = LRUCache(JOBS_REMEMBERED)
        self._created: LRUCache[str, bool] = LRUCache(JOBS_REMEMBERED)

    # --- streams -------------------------------------------------------------------------

    def open(self, username: str, loop: asyncio.AbstractEventLoop,
             last_event_id: int | None = None) -> Stream:
        """A new stream for ``username``; with ``last_event_id``, the kept events after it
        are queued first."""
        stream = Stream(username, loop)
        with self._lock:
            first = username not in self._streams
            self._streams.setdefault(username, []).append(stream)
            missed = [e for e in self._recent.get(username, ())
                      if last_event_id is not None and e.id > last_event_id]
        for event in missed:
            stream.put(event)
        if first:
            self._subscribe(username)
        return stream

    def close_stream(self, stream: Stream) -> None:
        with self._lock:
            streams = self._streams.get(stream.username, [])
            if stream in streams:
                streams.remove(stream)
            if streams:
                return
            self._streams.pop(stream.username, None)
            unsubscribe = self._unsubscribe.pop(stream.username, [])
        for stop in unsubscribe:
            stop()

    def close(self) -> None:
        with self._lock:
            stops = [s for group in self._unsubscribe.values() for s in group]
            self._unsubscribe.clear()
            self._streams.clear()
        for stop in stops:
            stop()

    def _subscribe(self, username: str) -> None:
        identities = self.conv.identities.identities(username) or []
        users = {ChannelUser(i.channel, i.external_id) for i in identities}
        users.add(ChannelUser("web", username))  # the identity API requests act as
        stops = [self.conv.subscribe(user, self._handler(username)) for user in users]
        with self._lock:
            if username in self._streams:
                self._unsubscribe.setdefault(username, []).extend(stops)
                return
        for stop in stops:  # every stream closed while we subscribed
            stop()

    def _handler(self, username: str) -> Callable[[ChannelUser, OutEvent], None]:
        def on_event(user: ChannelUser, event: OutEvent) -> None:
            # the conversation calls once per recipient identity: one user sees it once
            # (held, not their ids: a freed event's id may be reused by a new one)
            with self._lock:
                seen = self._seen.setdefault(username, deque(maxlen=SEEN))
                if any(e is event for e in seen):
                    return
                seen.append(event)
            if event.job_id:
                self._announce(username, event.job_id)
            for name, data in self.translate(username, event):
                self._emit(username, name, data)

        return on_event

    # --- events ----------------------------------------------------------------------------

    def job_created(self, username: str, job_id: str) -> None:
        self._announce(username, job_id)

    def _announce(self, username: str, job_id: str) -> None:
        """job:created, unless this job's was sent: whichever comes first, the API's start
        or the job's first event (its thread may be faster than the request that began it)."""
        key = f"{username}|{job_id}"
        with self._lock:
            if key in self._created:
                return
            self._created[key] = True
        self._emit(username, "job:created", {"job": self._job(job_id)})

    def job_settled(self, username: str, job_id: str) -> None:
        """Announce the job's end now if it has ended (a cancel with no thread running)."""
        for name, data in self._settled_events(username, job_id):
            self._emit(username, name, data)

    def translate(self, username: str, event: OutEvent) -> list[tuple[str, dict[str, Any]]]:
        job_id = event.job_id
        if not job_id:
            return []
        if event.kind == "approval_request":
            return [("notification:approval_required", {
                "job_id": job_id, "step_id": event.stage, "stage": event.stage,
                "description": event.text, "actions": list(event.actions)})]
        if event.kind == "progress":
            if event.percent == 100.0 and event.text == "done":
                return [("job:step_completed", {"job_id": job_id, "step": {
                    "name": event.step, "status": "completed"}})]
            return [("job:updated", {"job_id": job_id, "step": event.step,
                                     "percent": event.percent, "message": event.text})]
        return self._settled_events(username, job_id)

    def _settled_events(self, username: str, job_id: str) -> list[tuple[str, dict[str, Any]]]:
        """job:completed / job:failed once per end the job reaches (a failed job that is
        resumed and fails again is announced again)."""
        job = self.conv.svc.repo.get_job(job_id)
        if job is None or job.status not in (*FINISHED, "failed"):
            return []
        mark, key = f"{job.status}@{job.updated_at.isoformat()}", f"{username}|{job_id}"
        with self._lock:
            if self._settled.get(key) == mark:
                return []
            self._settled[key] = mark
        if job.status == "failed":
            return [("job:failed", {"job": self._job(job_id),
                                    "error": job.error_message or "failed"})]
        return [("job:completed", {"job": self._job(job_id)})]

    def _job(self, job_id: str) -> dict[str, Any]:
        from assistant.api.views import summary

        job = self.conv.svc.repo.get_job(job_id)
        return summary(job).model_dump(mode="json") if job else {"id": job_id}

    def _emit(self, username: str, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            event = ApiEvent(next(self._ids), name, data)
            self._recent.setdefault(username, deque(maxlen=REPLAY)).append(event)
            streams = list(self._streams.get(username, ()))
        for stream in streams:
            stream.put(event)
