"""One Redis client per URL per process, shared by the progress bus, rate limits and caches.

``redis_for(url)`` connects on first use and checks the server answers (``PING``); a server
that is configured but unreachable raises :class:`~assistant.errors.ConfigError` naming
``ASSISTANT_REDIS_URL`` and the URL (its password masked), not a driver traceback.
A ``redis.Redis`` client is thread-safe (it keeps a connection pool), so one is enough.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from assistant.errors import ConfigError

if TYPE_CHECKING:
    import redis

CONNECT_TIMEOUT_S = 3.0
SOCKET_TIMEOUT_S = 10.0
SETTING = "ASSISTANT_REDIS_URL"

_CLIENTS: dict[str, redis.Redis] = {}
_LOCK = threading.Lock()
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.I)


def safe_redis_url(url: str) -> str:
    """``url`` with its password masked, fit for messages and logs."""
    return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", url)


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def unreachable(url: str, err: BaseException, setting: str = SETTING) -> ConfigError:
    return ConfigError(
        f"{setting}: the Redis server at {safe_redis_url(url)} is unreachable "
        f"({_first_line(err)}); start it, or unset {setting} to run without Redis",
        detail=f"{safe_redis_url(url)}: {err!r}",
    )


def connect(url: str, setting: str = SETTING) -> redis.Redis:
    """A new client for ``url``, checked with ``PING``; ConfigError when unusable."""
    try:
        import redis as redis_lib
    except ImportError as err:  # pragma: no cover - a core dependency
        raise ConfigError(f"{setting} is set but the `redis` package is missing") from err
    try:
        client = redis_lib.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S,
            health_check_interval=30)
    except ValueError as err:
        raise ConfigError(f"{setting} is not a Redis URL (expected redis://host:6379/0): "
                          f"{safe_redis_url(url)}") from err
    try:
        client.ping()
    except (redis_lib.RedisError, OSError) as err:
        client.close()
        raise unreachable(url, err, setting) from err
    return client


def redis_for(url: str) -> redis.Redis:
    """The process's shared client for ``url`` (connected and checked on first use)."""
    with _LOCK:
        client = _CLIENTS.get(url)
        if client is None:
            client = _CLIENTS[url] = connect(url)
        return client


def forget(url: str) -> None:
    """Close and drop the shared client for ``url`` (tests; a process shutting down)."""
    with _LOCK:
        client = _CLIENTS.pop(url, None)
    if client is not None:
        client.close()
