"""The live event stream over the real conversation's delivery, with a runner that plays a
job's events without the pipeline (the pipeline's own events are tests/api/test_flow.py):
progress, finished steps and a failure reach the owner's stream with their §6.2 names,
whether the job was started through the API or in a chat; nobody else's stream gets them;
a closed stream unsubscribes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from assistant.api import create_api
from assistant.api.keys import ApiKeys
from assistant.app.events import ChannelUser
from assistant.app.runner import Event, EventSink, JobRunner, Outcome
from assistant.app.studio import Services
from assistant.content import Brief
from assistant.errors import StepError
from tests.api.conftest import HEARTBEAT_S, LiveServer, close, conversation
from tests.api.sse import SseReader


class PlayedRunner(JobRunner):
    """Plays the events a job's first steps send, then fails at research."""

    def start(self, job_id: str, brief: Brief, on_event: EventSink | None = None) -> Outcome:
        assert on_event is not None
        self.svc.repo.set_status(job_id, "processing")
        on_event(Event("progress", job_id, "brief", "reading the request", 50.0))
        on_event(Event("step", job_id, "brief", "done", data={"seconds": 0.1}))
        on_event(Event("progress", job_id, "research", "searching", None))
        raise StepError("research", "no sources about that topic")


@pytest.fixture
def served(svc: Services) -> Iterator[tuple[str, dict[str, str], dict[str, str], object]]:
    conv = conversation(svc, PlayedRunner)
    app = create_api(conv, heartbeat_s=HEARTBEAT_S)
    keys = ApiKeys(svc.db)
    alice = {"Authorization": f"Bearer {keys.create('alice')[1]}"}
    bob = {"Authorization": f"Bearer {keys.create('bob')[1]}"}
    with LiveServer(app) as server:
        yield server.url, alice, bob, app
    close(conv, app)


def test_a_failing_job_is_told_step_by_step(
        served: tuple[str, dict[str, str], dict[str, str], object]) -> None:
    url, alice, bob, _ = served
    with SseReader(url + "/api/v1/events", alice) as mine, \
            SseReader(url + "/api/v1/events", bob) as theirs:
        made = httpx.post(url + "/api/v1/jobs", headers=alice, json={"topic": "zorvath"})
        assert made.status_code == 201, made.text
        job_id = made.json()["id"]
        failed = mine.wait_for("job:failed", job__id=job_id)
        assert failed.data["error"] == "research: no sources about that topic"
        assert failed.data["job"]["status"] == "failed"
        names = [f.event for f in mine.got()]
        assert names == ["job:created", "job:updated", "job:step_completed", "job:updated",
                         "job:failed"], names
        updated = mine.got()[1].data
        assert (updated["step"], updated["percent"], updated["message"]) == (
            "brief", 50.0, "reading the request")
        assert mine.got()[2].data == {"job_id": job_id,
                                      "step": {"name": "brief", "status": "completed"}}
        time.sleep(2 * HEARTBEAT_S)
        assert theirs.got() == [] and "heartbeat" in theirs.comments
        assert mine.content_type.startswith("text/event-stream")


def test_a_job_started_in_chat_reaches_the_stream(
        served: tuple[str, dict[str, str], dict[str, str], object]) -> None:
    url, alice, _, app = served
    conv = app.state.api.conv  # type: ignore[attr-defined]
    conv.identities.store.link("telegram", "42", "alice")  # alice on Telegram too
    with SseReader(url + "/api/v1/events", alice) as mine:
        started = conv.handle(ChannelUser("telegram", "42"), "/new how tides work")
        job_id = started[0].job_id
        assert job_id, started
        mine.wait_for("job:failed", job__id=job_id)
        # made in chat: announced with its first event all the same; and each event once,
        # though it reaches both of alice's identities
        assert [f.event for f in mine.got()] == ["job:created", "job:updated",
                                                 "job:step_completed", "job:updated",
                                                 "job:failed"]
    hub = app.state.api.hub  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while hub._streams and time.monotonic() < deadline:  # the server sees the disconnect
        time.sleep(0.1)
    assert hub._streams == {} and hub._unsubscribe == {}


def test_a_job_run_by_another_process_reaches_the_stream_over_redis(svc: Services) -> None:
    """The bus the chat channels share: a job that a bot's process runs (its own
    Conversation) reaches the API process's stream through Redis pub/sub."""
    import redis

    from assistant.app.bus import RedisBus
    from assistant.app.conversation import Conversation

    client = redis.Redis.from_url("redis://127.0.0.1:6379/13", socket_connect_timeout=3)
    channel = f"test-api-events-{time.monotonic_ns()}"  # no other test's events
    bot = Conversation(svc, PlayedRunner(svc), bus=RedisBus(client, channel))
    api_conv = Conversation(svc, JobRunner(svc), bus=RedisBus(client, channel))
    app = create_api(api_conv, heartbeat_s=HEARTBEAT_S)
    alice = {"Authorization": f"Bearer {ApiKeys(svc.db).create('alice')[1]}"}
    svc.repo.ensure_user("alice")
    api_conv.identities.store.link("telegram", "42", "alice")
    try:
        with LiveServer(app) as server, \
                SseReader(server.url + "/api/v1/events", alice) as mine:
            started = bot.handle(ChannelUser("telegram", "42"), "/new how tides work")
            job_id = started[0].job_id
            assert job_id, started
            failed = mine.wait_for("job:failed", job__id=job_id)
            assert failed.data["error"] == "research: no sources about that topic"
            assert [f.event for f in mine.got()] == [
                "job:created", "job:updated", "job:step_completed", "job:updated",
                "job:failed"]
    finally:
        close(bot, app)
        api_conv.close()
        api_conv.runner.close()
