"""Redis: progress pub/sub between processes, per-user rate limits, the research cache.

Everything runs against the real Redis on 127.0.0.1:6379 (database 13, flushed around each
test); the in-process equivalents (no Redis) pass the same rate-limit tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import TypeAdapter

from assistant.app.bus import LocalBus, RedisBus, decode, encode, make_bus
from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent, approval_request
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.infra.cache import MemoryCache, research_cache
from assistant.infra.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    make_rate_limiter,
)
from assistant.infra.redis_client import forget, redis_for
from assistant.tools.research import gather
from assistant.tools.research.base import Hit
from assistant.tools.research.kb import KnowledgeBaseRetriever
from tests.app.inbox import Inbox
from tests.conftest import SAMPLE_KB
from tests.fakes import FRAMING, scripted

REDIS_URL = "redis://127.0.0.1:6379/13"
TG = ChannelUser("telegram", "42", "Ada")
BLOG = "write a blog post about how tides work"
WAIT_S = 120


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.ConnectionError as err:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {err} (CI starts it)",
                    pytrace=False)
    yield REDIS_URL
    forget(REDIS_URL)
    client.flushdb()
    client.close()


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    **extra)


# --- rate limits: one suite, both implementations ---------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def limiter_factory(request: pytest.FixtureRequest) -> Callable[[int, int], RateLimiter]:
    if request.param == "memory":
        return lambda burst, per_minute: MemoryRateLimiter(burst, per_minute)
    url = request.getfixturevalue("redis_url")
    return lambda burst, per_minute: RedisRateLimiter(redis_for(url), burst, per_minute)


def test_a_burst_passes_then_the_next_message_waits(
    limiter_factory: Callable[[int, int], RateLimiter],
) -> None:
    limiter = limiter_factory(3, 60)  # one token a second
    assert [limiter.acquire("ada") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("ada")
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("bob") == 0.0  # buckets are per user


def test_the_bucket_refills_at_the_sustained_rate(
    limiter_factory: Callable[[int, int], RateLimiter],
) -> None:
    limiter = limiter_factory(1, 1200)  # 20 tokens a second
    assert limiter.acquire("ada") == 0.0
    assert limiter.acquire("ada") > 0.0
    time.sleep(0.12)  # > one token's worth (0.05 s), waiting costs no token
    assert limiter.acquire("ada") == 0.0


def test_the_memory_bucket_holds_no_more_than_the_burst() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(2, 60, clock=clock)
    clock.now += 3600  # an hour idle refills to the burst, not beyond
    assert [limiter.acquire("ada") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.acquire("ada") > 0
    clock.now += 1.0
    assert limiter.acquire("ada") == 0.0


def test_processes_share_one_redis_bucket(redis_url: str) -> None:
    first = RedisRateLimiter(redis.Redis.from_url(redis_url), 2, 60)
    second = RedisRateLimiter(redis.Redis.from_url(redis_url), 2, 60)
    assert first.acquire("ada") == 0.0
    assert second.acquire("ada") == 0.0
    assert first.acquire("ada") > 0 and second.acquire("ada") > 0
    assert 0 < redis.Redis.from_url(redis_url).ttl("assistant:ratelimit:ada") <= 3


def test_settings_choose_the_limiter(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(make_rate_limiter(_settings(tmp_path)), MemoryRateLimiter)
    chosen = make_rate_limiter(_settings(tmp_path, redis_url=redis_url, rate_limit_burst=7))
    assert isinstance(chosen, RedisRateLimiter) and chosen.burst == 7


def test_an_unreachable_redis_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_rate_limiter(_settings(tmp_path, redis_url="redis://:hunter2@127.0.0.1:1/0"))
    message = caught.value.user_message
    assert "ASSISTANT_REDIS_URL" in message and "127.0.0.1:1" in message
    assert "hunter2" not in message and "\n" not in message


def test_a_redis_that_stops_answering_lets_messages_through() -> None:
    gone = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    assert RedisRateLimiter(gone, 1, 60).acquire("ada") == 0.0  # fail open, logged


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_user_over_the_limit_gets_one_friendly_error(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest,
) -> None:
    extra: dict[str, Any] = {"rate_limit_burst": 2, "rate_limit_per_minute": 1}
    if backend == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_url")
    svc = Services.create(_settings(tmp_path, **extra))
    runner = JobRunner(svc)
    conv = Conversation(svc, runner)
    try:
        assert conv.handle(TG, "/help")[0].kind == "text"
        assert conv.handle(TG, "/jobs")[0].kind == "text"
        [refused] = conv.handle(TG, "/help")
        assert refused.kind == "error"
        assert refused.text.startswith("slow down: try again in ")
        assert 55 <= int(refused.text.split()[-2]) <= 60  # one token a minute
        [other] = conv.handle(ChannelUser("telegram", "7"), "/help")  # another user
        assert other.kind == "text"
        assert conv.decide(TG, "job-00000000", "approve")[0].text.startswith("slow down")
    finally:
        conv.close()
        runner.close()
        svc.close()


# --- the progress bus ----------------------------------------------------------------------------


def test_events_survive_the_wire() -> None:
    event = approval_request("job-1", {
        "action_request": {"action": "review_script", "args": {"markdown": "# Tides"}},
        "config": {"allow_accept": True}, "description": "Review the script"})
    origin, back = decode(encode(event, "abc"))
    assert origin == "abc" and back == event


def test_a_listener_gets_what_others_publish(redis_url: str) -> None:
    bus = RedisBus(redis_for(redis_url))
    got: list[tuple[str, OutEvent]] = []
    done = threading.Event()

    def on_event(origin: str, event: OutEvent) -> None:
        got.append((origin, event))
        if len(got) == 2:
            done.set()

    stop = bus.listen(on_event)
    try:
        redis_for(redis_url).publish("assistant:events", "not json")  # ignored
        bus.publish(OutEvent("progress", "job-1", "writing", step="write", percent=50), "p1")
        bus.publish(OutEvent("text", "job-1", "done"), "p2")
        assert done.wait(10)
    finally:
        stop()
    assert [(o, e.kind, e.percent) for o, e in got] == [("p1", "progress", 50), ("p2", "text",
                                                                                   None)]


def test_without_redis_the_bus_is_local(tmp_path: Path) -> None:
    assert isinstance(make_bus(_settings(tmp_path)), LocalBus)


@pytest.mark.slow
def test_a_job_run_in_one_process_reaches_the_others_once(
    tmp_path: Path, redis_url: str,
) -> None:
    """Two conversations on the same database (two app processes): the one that runs the
    job delivers each event once; the other gets every one of them through Redis."""
    settings = _settings(tmp_path, redis_url=redis_url)
    svc = Services.create(settings)
    assert all(r.status == "added" for r in svc.kb().add(
        [SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"]))
    svc.set_chat(scripted(FRAMING))
    other_svc = Services(settings, svc.db, svc.repo, svc.objects)
    runner, other_runner = JobRunner(svc), JobRunner(other_svc)
    web, bot = Conversation(svc, runner), Conversation(other_svc, other_runner)
    here, there = Inbox(), Inbox()
    web.subscribe("telegram", here)
    bot.subscribe("telegram", there)
    try:
        [started] = web.handle(TG, BLOG)
        job_id = started.job_id
        assert job_id and web.wait(job_id, WAIT_S)
        deadline = time.monotonic() + 10
        while len(there.of(job_id)) < len(here.of(job_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert here.of(job_id) == web.history(job_id)
        assert [e.kind for e in here.of(job_id)].count("approval_request") == 1  # once, here
        assert there.of(job_id) == here.of(job_id)  # and all of them, there
        assert there.of(job_id)[-1].kind == "approval_request"
        assert bot.history(job_id) == web.history(job_id)
    finally:
        web.close()
        bot.close()
        runner.close()
        other_runner.close()
        svc.close()


# --- the research cache ------------------------------------------------------------------------


def test_research_results_are_cached_in_redis_and_follow_the_sources(
    tides_kb: Services, redis_url: str,
) -> None:
    svc = tides_kb
    svc.settings.redis_url = redis_url
    client = redis_for(redis_url)
    cache = research_cache(svc.settings)
    retriever = KnowledgeBaseRetriever(svc.kb())

    def search() -> list[Hit]:
        return gather.search(retriever, "how tides work", 4, "en", cache,
                             gather.fingerprint(retriever, "en"))

    first = search()
    assert first
    [key] = client.keys("assistant:research:*")
    assert 0 < client.ttl(key) <= svc.settings.research_cache_ttl_s
    # What is cached is what is served: change the entry and search again.
    changed = [first[0].model_copy(update={"title": "from the cache"}), *first[1:]]
    client.set(key, TypeAdapter(list[Hit]).dump_json(changed), keepttl=True)
    assert search()[0].title == "from the cache"
    # A new source changes the key: a fresh search, not the stale entry.
    extra = svc.settings.resolved_data_dir / "moon.md"
    extra.write_text("# The Moon\n\nThe Moon raises tides in the oceans of the Earth.\n")
    assert svc.kb().add([extra])[0].status == "added"
    assert search()[0].title != "from the cache"
    assert len(client.keys("assistant:research:*")) == 2


def test_without_redis_the_cache_is_in_memory_and_expires(tmp_path: Path) -> None:
    assert isinstance(research_cache(_settings(tmp_path)), MemoryCache)
    cache = MemoryCache(ttl_s=0.05, max_entries=2)
    cache.set("a", "1")
    cache.set("b", "2")
    cache.set("c", "3")  # over the bound: the least recently used goes
    assert (cache.get("a"), cache.get("c")) == (None, "3")
    time.sleep(0.08)
    assert cache.get("c") is None
    assert research_cache(_settings(tmp_path, research_cache_ttl_s=0)).get("x") is None
