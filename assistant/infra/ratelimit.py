"""Per-user rate limits: a token bucket allowing a burst, refilled at a sustained rate.

Each user has a bucket of ``rate_limit_burst`` tokens, refilled at ``rate_limit_per_minute``
tokens a minute; a message takes one token. ``acquire(key)`` answers 0.0 when the message
may go ahead, or how many seconds until it may. With ``ASSISTANT_REDIS_URL`` the buckets live
in Redis (one atomic script, Redis's own clock), so every process of the deployment shares
them; without, they live in this process (:class:`MemoryRateLimiter`). A Redis error while
checking lets the message through (fail open) with a warning in the log.

Hand-written on purpose, not the ``limits`` library: ``limits`` has fixed-window,
moving-window and sliding-window-counter strategies but no token bucket, and none of them
gives these semantics. Measured with ``limits`` 5.8 for a burst of 3 at 60 a minute
("3 per 3 seconds"): after the burst, the moving and fixed windows make the next message wait
3.0 s (a token bucket: 1.0 s) and still refuse it 1.05 s later; the sliding-window counter
depends on where the window boundaries fall. The bucket here is the behaviour the tests and
users rely on, in memory and as one atomic Redis script.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from assistant.config import Settings
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "assistant:ratelimit:"
MAX_LOCAL_BUCKETS = 100_000


class RateLimited(AssistantError):
    """A user sent more than the limits allow; the message says when to try again."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        super().__init__(f"slow down: try again in {max(1, math.ceil(wait_s))} s")


class RateLimiter(Protocol):
    burst: int
    per_minute: int

    def acquire(self, key: str) -> float:
        """Take one token from ``key``'s bucket: 0.0 if granted, else seconds to wait."""
        ...


def _check(burst: int, per_minute: int) -> None:
    if burst < 1 or per_minute < 1:
        from assistant.errors import ConfigError

        raise ConfigError("ASSISTANT_RATE_LIMIT_BURST and ASSISTANT_RATE_LIMIT_PER_MINUTE "
                          "must be at least 1")


class MemoryRateLimiter:
    """Token buckets in this process (the embedded default); thread-safe, bounded in size."""

    def __init__(self, burst: int, per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        _check(burst, per_minute)
        self.burst, self.per_minute = burst, per_minute
        self._rate = per_minute / 60.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._now = clock

    def acquire(self, key: str) -> float:
        with self._lock:
            now = self._now()
            tokens, stamp = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - stamp) * self._rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self._rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > MAX_LOCAL_BUCKETS:  # forget the longest idle
                self._buckets.popitem(last=False)
            return wait


# KEYS[1] bucket; ARGV: burst, tokens per second. Returns the wait in seconds, as text
# (a Lua number returned to Redis becomes an integer).
_TOKEN_BUCKET = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process; one round trip per message."""

    def __init__(self, client: redis.Redis, burst: int, per_minute: int) -> None:
        _check(burst, per_minute)
        self.client, self.burst, self.per_minute = client, burst, per_minute
        self._script = client.register_script(_TOKEN_BUCKET)

    def acquire(self, key: str) -> float:
        import redis as redis_lib

        try:
            answer = self._script(keys=[KEY_PREFIX + key],
                                  args=[self.burst, self.per_minute / 60.0])
        except redis_lib.RedisError:
            # Fail open: a slow or restarting Redis must not turn every message away (the
            # start-up check already refused a Redis that is not there at all).
            log.warning("rate limit for %s not checked: Redis did not answer", key,
                        exc_info=True)
            return 0.0
        return float(answer.decode() if isinstance(answer, bytes) else answer)


def make_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis buckets when ``redis_url`` is set, else in-process ones."""
    if settings.redis_url:
        from assistant.infra.redis_client import redis_for

        return RedisRateLimiter(redis_for(settings.redis_url), settings.rate_limit_burst,
                                settings.rate_limit_per_minute)
    return MemoryRateLimiter(settings.rate_limit_burst, settings.rate_limit_per_minute)
