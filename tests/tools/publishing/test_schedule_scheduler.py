"""A cascade scheduled in the test clock publishes each platform at its time, once: with two
schedulers racing every round, and with a scheduler killed (SIGKILL) and restarted between
two due times; on SQLite and on the real PostgreSQL (tests/storage/conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from schedule_helpers import (
    FileClock,
    make_job,
    publishes,
    recording_due_publish,
    schedule_rows,
)

from assistant.app.events import OutEvent
from assistant.app.scheduler import Scheduler
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.tools.publishing.schedule import planned_times, propose
from storage.records import PublicationRecord
from storage.schedule import ScheduleRepository
from tests.storage.conftest import backend, database_url, postgres_database_url  # noqa: F401

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 13:00 in Paris
PLATFORMS = ["wordpress", "telegram", "youtube", "tiktok"]  # the order a person lists them
# TikTok's next peak in Paris is 19:00 (18:00 UTC); the others follow the PRD's cascade
EXPECTED = {
    "tiktok": datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
    "youtube": datetime(2026, 12, 1, 18, 30, tzinfo=UTC),
    "telegram": datetime(2026, 12, 1, 19, 0, tzinfo=UTC),
    "wordpress": datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
}


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:  # noqa: F811
    settings = Settings(_env_file=None, database_url=database_url,
                        data_dir=tmp_path / "data", timezone="Europe/Paris",
                        publish_schedule="cascade", weekly_report_at="")
    services = Services.create(settings)
    yield services
    services.close()


def _cascade(svc: Services, log: Path) -> str:
    job_id = make_job(svc.repo)
    slots = propose(svc.settings, svc.repo, job_id, PLATFORMS, NOW)
    assert {s.platform: s.publish_at for s in slots} == EXPECTED
    schedule_rows(svc.repo, job_id, planned_times(svc.repo, job_id), log)
    return job_id


def test_two_racing_schedulers_publish_each_platform_at_its_time_once(
        svc: Services, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    job_id = _cascade(svc, log)
    clock = {"now": NOW}

    def now() -> datetime:
        return clock["now"]

    said: list[OutEvent] = []
    schedulers = [Scheduler(svc, recording_due_publish(svc.repo, log, now), clock=now,
                            deliver=said.append, read_metrics=lambda row: None)
                  for _ in range(2)]
    timeline = sorted({*EXPECTED.values(), *(t - timedelta(minutes=1) for t in EXPECTED.values()),
                       NOW, NOW + timedelta(hours=12)})
    for at in timeline:
        clock["now"] = at
        barrier = threading.Barrier(len(schedulers))
        threads = [threading.Thread(target=_round, args=(s, barrier)) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        went = {p["platform"] for p in publishes(log)}
        assert went == {p for p, due in EXPECTED.items() if due <= at}, at

    done = publishes(log)
    assert sorted(p["platform"] for p in done) == sorted(EXPECTED)  # each once
    for p in done:
        assert datetime.fromisoformat(p["at"]) == EXPECTED[p["platform"]]  # at its time
    rows = {r.platform: r for r in svc.repo.publications(job_id)}
    assert {r.status for r in rows.values()} == {"published"}
    assert rows["tiktok"].location == f"http://127.0.0.1/tiktok-{job_id}"
    told = [e.text for e in said if "is published on" in e.text]
    assert len(told) == 4 and any("TikTok" in t for t in told)


def _round(scheduler: Scheduler, barrier: threading.Barrier) -> None:
    barrier.wait()  # both schedulers claim at the same moment
    scheduler.run_once()


def _child(database_url: str, data_dir: Path, clock: Path,  # noqa: F811
           log: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(HERE / "scheduler_child.py"), database_url, str(data_dir),
         str(clock), str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "ready", child.stderr.read() if child.stderr else line
    return child


def _wait_for(log: Path, platforms: set[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {p["platform"] for p in publishes(log)} >= platforms:
            return
        time.sleep(0.05)
    raise AssertionError(f"not published within {timeout} s: {platforms}; log: {publishes(log)}")


@pytest.mark.slow
def test_a_scheduler_killed_between_two_due_times_publishes_nothing_twice(
        svc: Services, database_url: str, tmp_path: Path) -> None:  # noqa: F811
    log = tmp_path / "published.jsonl"
    job_id = _cascade(svc, log)
    clock = FileClock(tmp_path / "clock.txt")
    clock.set(NOW)
    data_dir = svc.settings.resolved_data_dir
    first = _child(database_url, data_dir, clock.path, log)
    try:
        clock.set(EXPECTED["tiktok"])
        _wait_for(log, {"tiktok"})
        clock.set(EXPECTED["youtube"] + timedelta(minutes=5))
        _wait_for(log, {"tiktok", "youtube"})
        time.sleep(0.3)  # a few more rounds on the same time: nothing more goes out
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    # restarted, and a second scheduler beside it: the rest still goes out once each
    clock.set(EXPECTED["telegram"])
    restarted = [_child(database_url, data_dir, clock.path, log) for _ in range(2)]
    try:
        _wait_for(log, {"tiktok", "youtube", "telegram"})
        clock.set(EXPECTED["wordpress"] + timedelta(hours=1))
        _wait_for(log, set(EXPECTED))
        time.sleep(0.5)
    finally:
        for child in restarted:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    done = publishes(log)
    assert sorted(p["platform"] for p in done) == sorted(EXPECTED), done
    published_by = {p["platform"]: p["pid"] for p in done}
    assert published_by["tiktok"] == published_by["youtube"] == first.pid
    assert {published_by["telegram"], published_by["wordpress"]} <= {c.pid for c in restarted}
    assert datetime.fromisoformat(done[0]["at"]) == EXPECTED["tiktok"]
    assert {r.status for r in svc.repo.publications(job_id)} == {"published"}
    for row in svc.repo.publications(job_id):  # every lease given back after its attempt
        lease = ScheduleRepository(svc.db).lease_of(row.id)
        assert lease is not None and lease["owner"] is None and lease["attempts"] == 1


def test_a_failed_publication_is_tried_again_later_then_the_person_is_told(
        svc: Services, tmp_path: Path) -> None:
    from assistant.content import Publication
    from assistant.tools.publishing.base import PublishError

    log = tmp_path / "published.jsonl"
    job_id = make_job(svc.repo)
    due = EXPECTED["tiktok"]
    schedule_rows(svc.repo, job_id, {"tiktok": due, "youtube": due}, log)
    clock = {"now": due}
    publish = recording_due_publish(svc.repo, log, lambda: clock["now"])
    tries: dict[str, int] = {}

    def flaky(row: PublicationRecord) -> Publication:
        tries[row.platform] = tries.get(row.platform, 0) + 1
        if row.platform == "youtube" or tries[row.platform] <= 2:  # YouTube never recovers
            raise PublishError(row.platform, "the platform is down (HTTP 503)")
        return publish(row)

    said: list[OutEvent] = []
    scheduler = Scheduler(svc, flaky, clock=lambda: clock["now"], deliver=said.append,
                          read_metrics=lambda row: None)
    seen = []
    for minutes in (0, 1, 5, 6, 20, 21, 22, 66, 67, 68, 200):
        clock["now"] = due + timedelta(minutes=minutes)
        scheduler.run_once()
        seen.append(dict(tries))
    # each try 5, 15 then 45 minutes after the one before (once that time has passed)
    assert [s.get("tiktok", 0) for s in seen] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]
    assert [s.get("youtube", 0) for s in seen] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
    assert [p["platform"] for p in publishes(log)] == ["tiktok"]  # on its third try
    assert datetime.fromisoformat(publishes(log)[0]["at"]) == due + timedelta(minutes=22)
    rows = {r.platform: r for r in svc.repo.publications(job_id)}
    assert rows["tiktok"].status == "published"
    assert (rows["youtube"].status, rows["youtube"].error) == (
        "failed", "youtube: the platform is down (HTTP 503)")
    told = [e.text for e in said if "not published" in e.text]
    assert told == [f"{job_id} was not published on YouTube: youtube: the platform is down "
                    f"(HTTP 503). Try again with /schedule {job_id} youtube TIME."]
    # the person moves it: it goes out at the new time
    repo = ScheduleRepository(svc.db)
    repo.move(job_id, "youtube", clock["now"] + timedelta(hours=1), clock["now"])
    clock["now"] += timedelta(hours=1)
    Scheduler(svc, publish, clock=lambda: clock["now"], read_metrics=lambda r: None).run_once()
    assert [p["platform"] for p in publishes(log)] == ["tiktok", "youtube"]
