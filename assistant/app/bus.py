"""The progress bus: every process's job events reach every channel process.

A :class:`~assistant.app.conversation.Conversation` delivers the events of the jobs it runs to its
own subscribers, and publishes them on the bus under its ``origin`` (a random id per
publisher). Every Conversation listens to the bus and delivers the events that came from
another origin to its subscribers: a job started from the web app shows its progress in the
Telegram bot's process, and a worker's events (see :func:`runner_sink`) reach both. The
process that ran a job never gets its own events twice.

With ``ASSISTANT_REDIS_URL`` the bus is Redis pub/sub on the channel ``assistant:events``;
without, :class:`LocalBus` carries nothing between processes (a single process needs no bus).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from assistant.app.events import OutEvent, from_runner
from assistant.config import Settings

if TYPE_CHECKING:
    import redis

    from assistant.app.runner import Event

log = logging.getLogger(__name__)

CHANNEL = "assistant:events"
Handler = Callable[[str, OutEvent], None]  # (origin, event)
RECONNECT_MAX_S = 5.0


def new_origin() -> str:
    return secrets.token_hex(8)


def encode(event: OutEvent, origin: str) -> str:
    return json.dumps({"origin": origin, "event": dataclasses.asdict(event)}, default=str,
                      ensure_ascii=False)


def decode(message: str | bytes) -> tuple[str, OutEvent]:
    body = json.loads(message)
    fields = dict(body["event"])
    fields["actions"] = tuple(fields.get("actions", ()))
    return str(body["origin"]), OutEvent(**fields)


class EventBus(Protocol):
    def publish(self, event: OutEvent, origin: str) -> None: ...

    def listen(self, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` with every event published from now on (from any process),
        on a background thread; returns a function that stops listening."""
        ...


class LocalBus:
    """No server: nothing crosses processes (and this process delivers its own events)."""

    def publish(self, event: OutEvent, origin: str) -> None:
        return None

    def listen(self, handler: Handler) -> Callable[[], None]:
        return lambda: None


class RedisBus:
    """Redis pub/sub. Publishing is one ``PUBLISH``; each listener holds one connection
    and a daemon thread, re-subscribing after a lost connection."""

    def __init__(self, client: redis.Redis, channel: str = CHANNEL) -> None:
        self.client, self.channel = client, channel

    def publish(self, event: OutEvent, origin: str) -> None:
        import redis as redis_lib

        try:
            self.client.publish(self.channel, encode(event, origin))
        except redis_lib.RedisError:  # progress is best-effort: the job goes on
            log.warning("could not publish a %s event of %s to Redis", event.kind,
                        event.job_id, exc_info=True)

    def listen(self, handler: Handler) -> Callable[[], None]:
        stop = threading.Event()
        pubsub = self._subscribe()
        thread = threading.Thread(target=self._loop, args=(pubsub, handler, stop), daemon=True,
                                  name=f"bus-{self.channel}")
        thread.start()

        def unlisten() -> None:
            stop.set()
            thread.join(5.0)

        return unlisten

    def _subscribe(self) -> Any:
        """A pubsub connection whose subscription the server has confirmed, so nothing
        published after ``listen`` returns is missed."""
        pubsub = self.client.pubsub()
        pubsub.subscribe(self.channel)
        for _ in range(50):
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "subscribe":
                return pubsub
        pubsub.close()
        raise TimeoutError(f"Redis did not confirm the subscription to {self.channel}")

    def _loop(self, pubsub: Any, handler: Handler, stop: threading.Event) -> None:
        import redis as redis_lib

        backoff = 0.1
        try:
            while not stop.is_set():
                try:
                    if pubsub is None:
                        pubsub = self._subscribe()
                        backoff = 0.1
                    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                except (redis_lib.RedisError, OSError, TimeoutError):
                    log.warning("lost the Redis event bus; reconnecting", exc_info=True)
                    if pubsub is not None:
                        pubsub.close()
                    pubsub = None
                    stop.wait(backoff)
                    backoff = min(RECONNECT_MAX_S, backoff * 2)
                    continue
                if not message or message.get("type") != "message":
                    continue
                try:
                    origin, event = decode(message["data"])
                except (ValueError, KeyError, TypeError):
                    log.warning("ignored a malformed event on %s", self.channel)
                    continue
                try:
                    handler(origin, event)
                except Exception:
                    log.exception("an event bus handler failed on %s", event.job_id)
        finally:
            if pubsub is not None:
                pubsub.close()


def make_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when ``redis_url`` is set, else the in-process no-op bus."""
    if settings.redis_url:
        from assistant.infra.redis_client import redis_for

        return RedisBus(redis_for(settings.redis_url))
    return LocalBus()


def runner_sink(bus: EventBus, origin: str | None = None) -> Callable[[Event], None]:
    """A :class:`~assistant.app.runner.Event` sink that publishes what channels show for each
    event: for a process without a Conversation (a worker, the CLI) whose progress the
    channel processes should see."""
    sender = origin or new_origin()

    def sink(event: Event) -> None:
        for out in from_runner(event):
            bus.publish(out, sender)

    return sink
