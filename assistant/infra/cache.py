"""Research results, cached for ``research_cache_ttl_s`` seconds.

The key is a hash of everything the answer depends on: the query, the search settings, the
embedder, the collection and the ids of the sources the knowledge base holds (content
hashes), so adding or removing a source misses the cache instead of serving stale results.
With ``ASSISTANT_REDIS_URL`` the cache is shared by every process (``SET ... EX``); without,
it is a bounded in-process cache. ``research_cache_ttl_s = 0`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Protocol

from cachetools import TTLCache

from assistant.config import Settings

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "assistant:research:"
MAX_LOCAL_ENTRIES = 512


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class NoCache:
    def get(self, key: str) -> str | None:
        return None

    def set(self, key: str, value: str) -> None:
        return None


class MemoryCache:
    """Least recently used entries, each kept ``ttl_s`` seconds (a cachetools TTLCache);
    thread-safe."""

    def __init__(self, ttl_s: float, max_entries: int = MAX_LOCAL_ENTRIES) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: TTLCache[str, str] = TTLCache(maxsize=max_entries, ttl=ttl_s)
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = value


class RedisCache:
    """Shared by every process; a Redis error is a cache miss, never a failed step."""

    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client, self.ttl_s = client, ttl_s

    def get(self, key: str) -> str | None:
        import redis as redis_lib

        try:
            value = self.client.get(KEY_PREFIX + key)
        except redis_lib.RedisError:
            log.warning("research cache (Redis) unavailable: searching", exc_info=True)
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def set(self, key: str, value: str) -> None:
        import redis as redis_lib

        try:
            self.client.set(KEY_PREFIX + key, value, ex=self.ttl_s)
        except redis_lib.RedisError:
            log.warning("research cache (Redis) unavailable: not cached", exc_info=True)


_LOCAL: dict[str, MemoryCache] = {}
_LOCAL_LOCK = threading.Lock()


def research_cache(settings: Settings) -> Cache:
    """This process's research cache for ``settings`` (Redis, in-memory, or none)."""
    ttl = settings.research_cache_ttl_s
    if ttl <= 0:
        return NoCache()
    if settings.redis_url:
        from assistant.infra.redis_client import redis_for

        return RedisCache(redis_for(settings.redis_url), ttl)
    with _LOCAL_LOCK:
        cache = _LOCAL.get(str(ttl))
        if cache is None:
            cache = _LOCAL[str(ttl)] = MemoryCache(ttl)
        return cache


def research_key(settings: Settings, query: str, embedder: str, source_ids: list[str]) -> str:
    """The cache key of a knowledge-base search; any input that changes the answer is in it."""
    where = settings.qdrant_url or str(settings.resolved_data_dir / "qdrant")
    body = json.dumps({
        "query": query.strip(), "k": settings.research_top_k,
        "min_score": settings.research_min_score, "collection": settings.qdrant_collection,
        "store": where, "embedder": embedder, "sources": sorted(source_ids),
    }, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
