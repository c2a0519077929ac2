"""Who sees a job's events: subscribers, watchers, the owner's linked identities, the bus.

:class:`Subscriptions` is the delivery half of :class:`~assistant.app.conversation.Conversation`:
an event a job emits is kept in the job's history, published on the bus for other processes,
and handed to every callback subscribed for one of its recipients (the owner's linked
identities, whoever started or decided the job here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from cachetools import LRUCache, TTLCache

from assistant.app.bus import EventBus, new_origin
from assistant.app.events import Callback, ChannelUser, OutEvent
from assistant.app.identity import IdentityLinks
from storage.jobs import JobRepository

log = logging.getLogger(__name__)

HISTORY_LIMIT = 500
IDENTITY_TTL_S = 5.0  # how long usernames and an owner's linked identities are reused
CACHE_ENTRIES = 10_000  # identities and job owners remembered (the least recent go first)
_MISSING = object()
K = TypeVar("K")
V = TypeVar("V")


class Subscriptions:
    def __init__(self, repo: JobRepository, identities: IdentityLinks, bus: EventBus,
                 lock: threading.RLock) -> None:
        self.repo, self.identities, self._lock = repo, identities, lock
        # Redis (when configured): events of jobs other processes run
        self.origin = new_origin()
        self._bus = bus
        self._watchers: dict[str, set[ChannelUser]] = {}
        self._subscribers: list[tuple[ChannelUser | str, Callback]] = []
        self._history: dict[str, list[OutEvent]] = {}
        # a job's owner never changes; usernames and linked identities are read again after
        # IDENTITY_TTL_S (a link made in another process shows here within that time)
        self._owners: LRUCache[str, str] = LRUCache(maxsize=CACHE_ENTRIES)
        self._identities: TTLCache[str, frozenset[ChannelUser]] = TTLCache(
            maxsize=CACHE_ENTRIES, ttl=IDENTITY_TTL_S)
        self._usernames: TTLCache[ChannelUser, str] = TTLCache(
            maxsize=CACHE_ENTRIES, ttl=IDENTITY_TTL_S)
        self._unlisten = self._bus.listen(self._on_remote)

    def subscribe(self, who: ChannelUser | str, callback: Callback) -> Callable[[], None]:
        """Later events for one identity, or every identity on a channel; returns an
        unsubscriber."""
        entry = (who, callback)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def close(self) -> None:
        self._unlisten()

    def username(self, user: ChannelUser) -> str:
        """The internal user this identity acts as (read again after IDENTITY_TTL_S)."""
        return self._fresh(self._usernames, user, lambda: self.identities.username(
            user.channel, user.external_id))

    def forget_identities(self) -> None:
        """A new link acts, and gets the owner's events, at once."""
        with self._lock:
            self._identities.clear()
            self._usernames.clear()

    def history(self, job_id: str) -> list[OutEvent]:
        with self._lock:
            return list(self._history.get(job_id, []))

    def watch(self, job_id: str, user: ChannelUser) -> None:
        with self._lock:
            self._watchers.setdefault(job_id, set()).add(user)

    def watchers(self, job_id: str) -> set[ChannelUser]:
        with self._lock:
            return set(self._watchers.get(job_id, ()))

    def publish(self, event: OutEvent) -> None:
        """Deliver here, and to every other process through the bus."""
        self._deliver(event)
        self._bus.publish(event, self.origin)

    def _on_remote(self, origin: str, event: OutEvent) -> None:
        """An event from the bus: delivered here unless this conversation published it."""
        if origin != self.origin:
            self._deliver(event)

    def _deliver(self, event: OutEvent) -> None:
        job_id = event.job_id or ""
        with self._lock:
            history = self._history.setdefault(job_id, [])
            history.append(event)
            del history[:-HISTORY_LIMIT]
            subscribers = list(self._subscribers)
            watchers = set(self._watchers.get(job_id, ()))
        recipients = self.recipients(job_id, watchers)
        if event.data.get("to"):  # addressed to a person (the scheduler's weekly report)
            recipients = sorted(self._owned_identities(str(event.data["to"])),
                                key=lambda u: (u.channel, u.external_id))
        for user in recipients:
            for who, callback in subscribers:
                if who in (user, user.channel):
                    try:
                        callback(user, event)
                    except Exception:
                        log.exception("a %s subscriber failed on %s", user.channel, job_id)

    def recipients(self, job_id: str, watchers: set[ChannelUser]) -> list[ChannelUser]:
        """The job owner's identities, and whoever started or decided the job here."""
        owned = self._owned_identities(self._owner(job_id))
        return sorted(watchers | owned, key=lambda u: (u.channel, u.external_id))

    def _owner(self, job_id: str) -> str:
        """A job's owner (it never changes: looked up once per job, not once per event)."""
        with self._lock:
            owner = self._owners.get(job_id)
        if owner is None:
            job = self.repo.get_job(job_id) if job_id else None
            owner = str(job.input_data.get("user") or "") if job else ""
            if job is not None:
                with self._lock:
                    self._owners[job_id] = owner
        return owner

    def _owned_identities(self, owner: str) -> frozenset[ChannelUser]:
        """The owner's linked identities, read again after IDENTITY_TTL_S: a job sends
        several events a second while it runs, and links change rarely."""
        if not owner:
            return frozenset()
        return self._fresh(self._identities, owner, lambda: frozenset(
            ChannelUser(i.channel, i.external_id) for i in self.identities.identities(owner)))

    def _fresh(self, cache: TTLCache[K, V], key: K, read: Callable[[], V]) -> V:
        """``cache[key]`` if it was read less than IDENTITY_TTL_S ago, else ``read()``
        (outside the lock: it queries the database) and remembered."""
        with self._lock:
            cached = cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cast(V, cached)
        value = read()
        with self._lock:
            cache[key] = value
        return value
