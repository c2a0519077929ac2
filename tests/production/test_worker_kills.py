"""Kill tests: real Celery workers, a real Redis (ours, restarted at will), real renders.

- a worker SIGKILLed in the middle of a render: the task goes to a new worker, the job
  completes, exactly one video exists;
- the app SIGKILLed while a job waits for approval, then while a worker renders: after a
  restart the approval is still pending, the render's result is picked up, nothing is redone;
- Redis restarted mid-job (a queued message lost, then a render in flight): the job continues
  once it is back, no step is lost;
- two app processes resuming one job at once: exactly one proceeds, the other is told the
  job is busy.

Only the chat model is scripted (tests/fakes.py); the short is kept short (18 s of speech).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app.runner import JobRunner, Outcome
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief, ReviewDecision
from tests.cli.helpers import query, show, wait_for
from tests.conftest import SAMPLE_KB
from tests.fakes import FRAMING, scripted
from tests.production.worker_helpers import (
    PRIVATE_REDIS_PORT,
    env_of,
    finished,
    has_result,
    kill_group,
    private_redis,
    reset_broker,
    settings_for,
    start_worker,
    started,
    stop_worker,
    wait_running,
    wait_worker_ready,
)

pytestmark = pytest.mark.slow

APPROVE = ReviewDecision(action="approve", by="tester")
SECONDS = 18  # the grounded writer's shortest script (~44 words) passes QA at once


def services(settings: Settings) -> Services:
    svc = Services.create(settings)
    svc.set_chat(scripted(FRAMING))
    pages = [SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"]
    assert all(r.status == "added" for r in svc.kb().add(pages))
    return svc


class Background:
    """runner.resume(job, APPROVE) on a thread: the job's media steps, while we break things."""

    def __init__(self, runner: JobRunner, job: str) -> None:
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.outcome = runner.resume(job, APPROVE)
            except BaseException as exc:  # shown by result()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def result(self, timeout: float = 300) -> Outcome:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the job did not finish"
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


def approved_short(runner: JobRunner) -> str:
    brief = Brief.create("how tides work", "short", seconds=SECONDS)
    job = runner.create(brief)
    assert runner.start(job, brief).status == "review"
    return job


def publish(runner: JobRunner, outcome: Outcome) -> None:
    assert outcome.status == "review", outcome
    assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
    assert runner.resume(outcome.job_id, APPROVE).status == "published"


def assert_each_step_once(svc: Services, job: str) -> None:
    steps = svc.repo.list_steps(job)
    names = Counter(s.name for s in steps)
    assert all(n == 1 for n in names.values()), names
    assert all(s.status == "completed" for s in steps), [(s.name, s.status) for s in steps]
    videos = [a for a in svc.objects.list(job) if a.name == "video.mp4"]
    assert len(videos) == 1 and videos[0].size > 10_000


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "workers.log"


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        stop_worker(proc)


# --- a worker dies mid-render ---------------------------------------------------------------


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_a_worker_killed_mid_render_hands_the_task_to_a_new_worker(
    broker: str, tmp_path: Path, worker_log: Path, workers: list[subprocess.Popen[bytes]],
) -> None:
    began = time.monotonic()
    data = tmp_path / "data"
    settings = settings_for(data, broker)
    reset_broker(settings)
    workers.append(start_worker(settings, data, worker_log))
    svc = services(settings)
    runner = JobRunner(svc)
    try:
        wait_worker_ready(settings, workers[0], worker_log)
        job = approved_short(runner)
        media = Background(runner, job)
        wait_running(data, job, "assemble", "render")
        kill_group(workers[0])  # SIGKILL: the worker, its pool and its ffmpeg
        assert not has_result(data, job, "assemble", "render"), "the render was already done"
        workers.append(start_worker(settings, data, worker_log))
        publish(runner, media.result())
        assert_each_step_once(svc, job)
        runs = started(data, job, "assemble", "render")
        done = finished(data, job, "assemble", "render")
        assert len(runs) == 2 and len(done) == 1, runs
        assert runs[0]["worker"] != runs[1]["worker"] == done[0]["worker"]
        how = "redelivered by the broker" if runs[1]["redelivered"] else "sent again"
        print(f"\n{broker}: killed worker's render {how}; job done in "
              f"{time.monotonic() - began:.1f} s")
    finally:
        runner.close()
        svc.close()


# --- the app dies while waiting and while a worker renders -----------------------------------


def app(data: Path, settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.production.scripted_app", *args],
        env=env_of(settings, data), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def test_the_app_killed_while_waiting_and_while_rendering_redoes_nothing(
    tmp_path: Path, worker_log: Path, workers: list[subprocess.Popen[bytes]],
) -> None:
    began = time.monotonic()
    data = tmp_path / "data"
    settings = settings_for(data, "redis")
    reset_broker(settings)
    workers.append(start_worker(settings, data, worker_log))
    wait_worker_ready(settings, workers[0], worker_log)

    first = app(data, settings, "make", "how tides work", "--format", "short", "--seconds",
                str(SECONDS))  # waits for an answer in the terminal
    wait_for(data, "select id from jobs where status='review'", first)
    first.kill()
    first.wait(30)
    job = query(data, "select id from jobs")[0][0]
    assert query(data, "select stage, status from approvals where job_id = ?", job) == [
        ("review_script", "pending")]

    second = app(data, settings, "resume", job, "--approve")
    wait_running(data, job, "assemble", "render", alive=second)
    second.kill()
    second.wait(30)
    assert not has_result(data, job, "assemble", "render"), "the render was already done"

    third = subprocess.run(
        [sys.executable, "-m", "tests.production.scripted_app", "resume", job, "--yes"],
        env=env_of(settings, data), capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stdout + third.stderr
    report = show(data, job)
    assert report["status"] == "published"
    names = Counter(s["name"] for s in report["steps"])
    assert all(n == 1 for n in names.values()), names
    assert [a["name"] for a in report["artifacts"]].count("video.mp4") == 1
    for step, task in (("visuals", "images"), ("voice", "tts"), ("voice", "asr"),
                       ("assemble", "render")):
        assert len(started(data, job, step, task)) == 1, (step, task)  # nothing redone
        assert len(finished(data, job, step, task)) == 1, (step, task)
    print(f"\napp killed twice, job done in {time.monotonic() - began:.1f} s")


# --- Redis restarts mid-job -----------------------------------------------------------------


def test_a_redis_restart_mid_job_loses_no_step(
    tmp_path: Path, worker_log: Path, workers: list[subprocess.Popen[bytes]],
) -> None:
    began = time.monotonic()
    data = tmp_path / "data"
    with private_redis(PRIVATE_REDIS_PORT, tmp_path) as server:
        settings = settings_for(data, "memory", broker_url=server.url, redis_url=server.url)
        svc = services(settings)
        runner = JobRunner(svc)
        try:
            job = approved_short(runner)
            media = Background(runner, job)  # no worker yet: the first task waits in Redis
            deadline = time.monotonic() + 120
            while not server.client().llen("cpu"):
                assert time.monotonic() < deadline, "the images task was never queued"
                time.sleep(0.05)
            server.restart()  # no persistence: the queued task is gone
            assert server.client().llen("cpu") == 0
            workers.append(start_worker(settings, data, worker_log))
            wait_running(data, job, "assemble", "render")
            server.restart()  # and again, with a render in flight
            publish(runner, media.result())
            assert_each_step_once(svc, job)
            assert len(started(data, job, "visuals", "images")) == 1
            assert len(finished(data, job, "assemble", "render")) == 1
        finally:
            runner.close()
            svc.close()
    print(f"\nRedis restarted twice, job done in {time.monotonic() - began:.1f} s")


# --- two apps resume one job -----------------------------------------------------------------


def test_two_apps_resuming_one_job_one_proceeds_the_other_is_told_it_is_busy(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    settings = settings_for(data, "memory")
    svc = services(settings)
    runner = JobRunner(svc)
    try:
        job = approved_short(runner)
    finally:
        runner.close()
        svc.close()
    cmd = [sys.executable, "-m", "tests.production.scripted_app", "resume", job, "--yes"]
    procs = [subprocess.Popen(cmd, env=env_of(settings, data), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results: list[Any] = [(p.wait(600), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(r for r in results if r[0] != 0)
    assert "job is busy" in " ".join(loser[2].split()), loser  # rich wraps long lines
    assert "Traceback" not in loser[2], loser
    report = show(data, job)
    assert report["status"] == "published"
    assert Counter(s["name"] for s in report["steps"]).most_common(1)[0][1] == 1
    assert [a["name"] for a in report["artifacts"]].count("video.mp4") == 1
