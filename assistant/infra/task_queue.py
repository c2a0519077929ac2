"""Media workers: the Celery app from Settings, `assistant worker`, the in-process worker.

- ``ASSISTANT_BROKER_URL`` (or ``ASSISTANT_REDIS_URL``) set: media tasks go through that
  broker (Redis, or RabbitMQ ``amqp://``) to workers started with ``assistant worker``.
- Neither set (the embedded default): the same tasks go through Celery's in-memory
  transport to a worker thread inside the app process; no server, same code path.

Result backend: Redis when a Redis URL is configured (``redis_url``, else a Redis broker);
``rpc://`` with a RabbitMQ broker and no Redis; in-process, Celery's memory cache. The
backend only carries results back quickly (``measure_round_trip``): the durable record of a
media task is its output folder (:mod:`media.taskdir`), which the dispatcher reads, so no
extra database tables are needed and a Redis restart loses nothing that matters.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.utils.url import maybe_sanitize_url

from assistant.config import Settings
from assistant.errors import ConfigError
from media.worker import QUEUES, AppThreadPool, create_app

log = logging.getLogger(__name__)

_apps: dict[tuple[str | None, str | None], Celery] = {}
_threads: dict[tuple[str | None, str | None], Any] = {}
_depth_watchers: dict[str, threading.Thread] = {}  # broker URL -> its queue-depth poller
_lock = threading.Lock()


def broker_url(settings: Settings) -> str | None:
    """The configured broker; None means the in-process default."""
    return settings.broker_url or settings.redis_url or None


def backend_url(settings: Settings) -> str | None:
    broker = broker_url(settings)
    if broker is None:
        return None  # memory cache, in-process
    if settings.redis_url:
        return settings.redis_url
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return "rpc://"


def safe(url: str) -> str:
    return str(maybe_sanitize_url(url))


def celery_app(settings: Settings) -> Celery:
    """One Celery app per (broker, backend) in this process."""
    key = (broker_url(settings), backend_url(settings))
    with _lock:
        app = _apps.get(key)
        if app is None:
            app = _apps[key] = create_app(*key)
        return app


# --- workers -------------------------------------------------------------------------------


def start_thread_worker(
    app: Celery, queues: tuple[str, ...] | list[str] = QUEUES, concurrency: int = 1,
    *, hostname: str | None = None,
) -> Any:
    """A Celery worker on a thread of this process (a thread pool, no signal handlers);
    returns the WorkController once it consumes; :func:`stop_thread_worker` ends it."""
    from celery.worker import WorkController

    ready = threading.Event()
    controller = WorkController(
        app=app,
        hostname=hostname or f"inprocess-{os.getpid()}@{socket.gethostname()}",
        pool_cls=AppThreadPool,
        concurrency=max(1, concurrency),
        queues=list(queues),
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        optimization="fair",
        ready_callback=lambda _consumer: ready.set(),
        loglevel=logging.WARNING,
    )
    thread = threading.Thread(target=controller.start, daemon=True, name="media-worker")
    thread.start()
    if not ready.wait(30):
        raise ConfigError("the in-process media worker did not start within 30 s")
    controller.thread = thread
    return controller


def stop_thread_worker(controller: Any, timeout_s: float = 15.0) -> None:
    """End a worker started by :func:`start_thread_worker`.

    On a network broker the stop must happen on the worker's own thread: an AMQP connection
    belongs to the thread that drains it, and cancelling its consumer from another thread
    blocks until the broker times the connection out (minutes). So ask the worker to shut
    down through the broker's control channel, and stop it directly only if that fails.
    """
    app, thread = controller.app, controller.thread
    if not str(app.conf.broker_url).startswith("memory://"):
        with contextlib.suppress(Exception):
            app.control.shutdown(destination=[controller.hostname])
        thread.join(timeout_s)
    if thread.is_alive():
        controller.stop()
        thread.join(timeout_s)


def ensure_worker(settings: Settings) -> None:
    """With no broker configured, start this process's media worker thread (once)."""
    if broker_url(settings) is not None:
        return  # `assistant worker` processes serve the broker's queues
    key = (None, None)
    app = celery_app(settings)
    with _lock:
        running = _threads.get(key)
        if running is not None and running.thread.is_alive():
            return
        _threads[key] = start_thread_worker(app, QUEUES, settings.worker_concurrency)


def check_broker(settings: Settings, timeout_s: float = 5.0) -> None:
    """Raise ConfigError (one line) unless the configured broker answers."""
    url = broker_url(settings)
    if url is None:
        return
    app = celery_app(settings)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0.2, interval_step=0.5,
                                   timeout=timeout_s)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(f"cannot reach the task broker at {safe(url)}: {reason}; is the "
                          "server running? (ASSISTANT_BROKER_URL / ASSISTANT_REDIS_URL)") from None


def run_worker(settings: Settings, queues: list[str], concurrency: int | None) -> int:
    """`assistant worker`: a Celery worker (prefork pool) on ``queues``; its exit code."""
    url = broker_url(settings)
    if url is None:
        raise ConfigError("no task broker configured: set ASSISTANT_BROKER_URL or "
                          "ASSISTANT_REDIS_URL (e.g. redis://127.0.0.1:6379/0); without one, "
                          "media tasks run inside the app and need no worker")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown or not queues:
        raise ConfigError(f"unknown queue {', '.join(unknown) or '(none)'}: choose from "
                          f"{', '.join(QUEUES)}, e.g. --queues gpu,cpu")
    check_broker(settings)
    app = celery_app(settings)
    worker = app.Worker(
        hostname=f"{'+'.join(queues)}-{os.getpid()}@{socket.gethostname()}",
        queues=queues,
        concurrency=concurrency or settings.worker_concurrency,
        pool_cls="prefork",
        loglevel=settings.log_level.upper(),
        without_mingle=True,
        without_gossip=True,
        optimization="fair",
    )
    log.info("media worker on %s, broker %s", ",".join(queues), safe(url))
    worker.start()
    return int(getattr(worker, "exitcode", 0) or 0)


# --- measuring -----------------------------------------------------------------------------


def measure_round_trip(
    settings: Settings, n: int, *, queue: str = "cpu", timeout_s: float = 10.0,
) -> list[float]:
    """Seconds per Celery round trip (send ``media.ping``, get its result), ``n`` times,
    after one warm-up round. With a broker, a worker must be consuming ``queue``."""
    ensure_worker(settings)
    app = celery_app(settings)
    times: list[float] = []
    for i in range(n + 1):
        started = time.perf_counter()
        result = app.send_task("media.ping", args=[time.time()], queue=queue)
        try:
            result.get(timeout=timeout_s, interval=0.0005, disable_sync_subtasks=False)
        except CeleryTimeout:
            raise ConfigError(f"no media worker answered on queue {queue!r} within "
                              f"{timeout_s:g} s: start one with `assistant worker --queues "
                              f"{queue}`") from None
        if i:
            times.append(time.perf_counter() - started)
    return times


def queue_depths(settings: Settings, timeout_s: float = 2.0) -> dict[str, int]:
    """Messages waiting in each media queue of the configured broker (Redis or RabbitMQ:
    a passive queue declaration counts them without changing anything). Empty when no
    broker is configured (in-process, nothing queues) or the broker cannot be reached."""
    if broker_url(settings) is None:
        return {}
    depths: dict[str, int] = {}
    try:
        with celery_app(settings).connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
            channel = conn.default_channel
            for queue in QUEUES:
                try:
                    depths[queue] = int(channel.queue_declare(
                        queue=queue, passive=True).message_count)
                except Exception:  # not declared yet (Redis: empty), so nothing waits
                    depths[queue] = 0
                    channel = conn.channel()  # RabbitMQ closed the one that failed
    except Exception as exc:  # a scrape must not fail because the broker is down
        log.warning("could not read the queue depths from %s: %s",
                    safe(broker_url(settings) or ""), exc)
        return {}
    return depths


def watch_queue_depths(settings: Settings, every_s: float = 15.0) -> threading.Thread | None:
    """Keep the ``assistant_queue_depth`` gauge up to date from the broker (a daemon
    thread, once per process); None when no broker is configured."""
    from assistant.infra.observability import set_queue_depth

    url = broker_url(settings)
    if url is None:
        return None
    with _lock:
        if url in _depth_watchers:
            return _depth_watchers[url]

        def watch() -> None:
            while True:
                for queue, depth in queue_depths(settings).items():
                    set_queue_depth(queue, depth)
                time.sleep(every_s)

        thread = threading.Thread(target=watch, daemon=True, name="queue-depths")
        _depth_watchers[url] = thread
        thread.start()
    return thread
