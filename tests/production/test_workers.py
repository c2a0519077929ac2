"""The media task queue, one suite for every implementation, plus `assistant worker` and the job
lease.

The same tests run on the embedded default (memory transport, a worker thread in this
process) and on the real Redis and RabbitMQ servers of this machine (a Celery worker thread
consuming from them): the round trip, idempotency by (job, step, input hash), a media error
failing at once with its reason, transient errors retried with backoff, a task that keeps
failing failing the step. Real renders (ffmpeg) of a real little WAV; nothing is mocked.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from assistant.config import Settings
from assistant.errors import ConfigError, JobStateError, StepError
from assistant.infra.lease import JobLeases, dead_holder
from assistant.infra.task_queue import (
    celery_app,
    measure_round_trip,
    run_worker,
    start_thread_worker,
    stop_thread_worker,
)
from assistant.tools.rendering import tasks
from assistant.tools.rendering.tasks import TaskSpec, run_task, task_dir
from media import worker as media_worker
from media.worker import queue_for
from storage.db import Database
from storage.jobs import JobRepository
from tests.cli.helpers import env_for
from tests.production.worker_helpers import (
    BROKERS,
    REDIS_URL,
    reset_broker,
    settings_for,
    stop_worker,
    tone_wav,
)

JOB = "job-lease"


@pytest.fixture(scope="module", params=list(BROKERS))
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    """One task-queue implementation with a worker consuming it. Module scope: pytest runs
    every test of one broker before the next, so one worker thread runs at a time (kombu's
    event loop is one per process)."""
    name = str(request.param)
    if name == "memory":
        yield name  # the app's own in-process worker
        return
    settings = settings_for(tmp_path_factory.mktemp("broker") / "data", name)
    reset_broker(settings)
    controller = start_thread_worker(celery_app(settings), ["gpu", "cpu"], 1,
                                     hostname=f"suite-{name}@test")
    yield name
    stop_thread_worker(controller)


@pytest.fixture
def queue(broker: str, tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data", broker, task_retries=3)


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "voice.wav")


def render_spec(voiceover: Path) -> TaskSpec:
    return TaskSpec("render", {"preset": "podcast", "voiceover": str(voiceover)},
                    inputs=[voiceover])


def events(settings: Settings, job: str, spec: TaskSpec) -> list[str]:
    return [r["event"] for r in task_dir(settings, job, "assemble", spec).runs()]


# --- the suite: every implementation --------------------------------------------------------


def test_round_trip(queue: Settings) -> None:
    times = sorted(measure_round_trip(queue, 40))
    p95 = times[int(0.95 * len(times)) - 1]
    print(f"\n{queue.broker_url or 'memory'}: p50 {times[len(times) // 2] * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms")
    assert len(times) == 40 and p95 < 0.5


def test_a_render_runs_once_however_often_it_is_sent(queue: Settings, wav: Path) -> None:
    spec = render_spec(wav)
    seen: list[tuple[float, str]] = []
    result = run_task(queue, "job-once", "assemble", spec, lambda f, m: seen.append((f, m)))
    episode = Path(result["dir"]) / result["output"]
    assert episode.name == "episode.mp3" and episode.stat().st_size > 5_000
    assert seen  # progress came through
    # A redelivered message (the same envelope again) finds the output: nothing is redone.
    tdir = task_dir(queue, "job-once", "assemble", spec)
    envelope = {"root": str(tdir.root), "job": tdir.job, "step": tdir.step, "key": tdir.key,
                "args": spec.args}
    again = celery_app(queue).send_task("media.render", args=[envelope], queue="cpu")
    assert again.get(timeout=60, disable_sync_subtasks=False)["dir"] == result["dir"]
    # ... and the step asking again gets the stored result without sending anything.
    assert run_task(queue, "job-once", "assemble", spec) == result
    assert events(queue, "job-once", spec) == ["started", "finished", "cached"]
    assert [p.name for p in tdir.folder.iterdir() if ".tmp-" in p.name] == []


def test_new_input_bytes_are_a_new_task(queue: Settings, wav: Path) -> None:
    first = run_task(queue, "job-bytes", "assemble", render_spec(wav))
    tone_wav(wav, seconds=3.0)  # same path, other bytes (the voice step ran again)
    second = run_task(queue, "job-bytes", "assemble", render_spec(wav))
    assert first["dir"] != second["dir"]


def test_a_media_error_fails_the_step_at_once_with_its_reason(queue: Settings,
                                                              tmp_path: Path) -> None:
    spec = render_spec(tmp_path / "missing.wav")
    with pytest.raises(StepError) as failed:
        run_task(queue, "job-bad", "assemble", spec)
    message = failed.value.user_message
    assert message.startswith("assemble: ") and "missing.wav" in message
    assert message.endswith("resume the job") and "\n" not in message
    assert events(queue, "job-bad", spec) == ["started", "failed"]  # no retry: bad input


def _flaky(monkeypatch: pytest.MonkeyPatch, failures: int | None) -> list[float]:
    """The real render, after ``failures`` I/O errors (None: for ever); when each ran."""
    real = media_worker.BODIES["render"]
    calls: list[float] = []

    def flaky(args: dict[str, Any], out: Path, progress: Any) -> dict[str, Any]:
        calls.append(time.monotonic())
        if failures is None or len(calls) <= failures:
            raise OSError(errno.EIO, "Input/output error on the render disk")
        return real(args, out, progress)

    monkeypatch.setitem(media_worker.BODIES, "render", flaky)
    monkeypatch.setattr(tasks, "RETRY_BACKOFF_S", 0.3)
    return calls


def test_transient_errors_are_retried_with_backoff(
    queue: Settings, wav: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _flaky(monkeypatch, failures=2)
    spec = render_spec(wav)
    result = run_task(queue, "job-flaky", "assemble", spec)
    assert Path(result["dir"], result["output"]).is_file()
    assert events(queue, "job-flaky", spec) == ["started", "retry", "started", "retry",
                                                "started", "finished"]
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[0] >= 0.3 * 0.8 and gaps[1] >= 0.6 * 0.8, gaps  # 0.3 s, then 0.6 s


def test_a_task_that_keeps_failing_fails_its_step_with_the_reason(
    queue: Settings, wav: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _flaky(monkeypatch, failures=None)
    queue.task_retries = 2
    spec = render_spec(wav)
    with pytest.raises(StepError) as failed:
        run_task(queue, "job-broken", "assemble", spec)
    message = failed.value.user_message
    assert message.startswith("assemble: OSError: ") and "Input/output error" in message
    assert "failed 3 times" in message and message.endswith("resume the job")
    assert len(calls) == 3
    assert events(queue, "job-broken", spec)[-1] == "failed"


def test_two_steps_asking_at_once_get_one_render(queue: Settings, wav: Path) -> None:
    spec = render_spec(wav)
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(
        run_task(queue, "job-twice", "assemble", spec))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2 and results[0]["dir"] == results[1]["dir"]
    assert events(queue, "job-twice", spec).count("started") == 1


# --- routing and configuration ------------------------------------------------------------


def test_gpu_engines_go_to_the_gpu_queue() -> None:
    assert queue_for("images", "diffusers") == "gpu"
    assert queue_for("images", "designer") == "cpu"
    assert queue_for("tts", "xtts") == "gpu" and queue_for("tts", "piper") == "cpu"
    assert queue_for("asr", None) == "cpu" and queue_for("asr", "large-v3") == "gpu"
    assert queue_for("render") == "cpu"


def test_worker_without_a_broker_says_what_to_set(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_BROKER_URL"):
        run_worker(settings, ["gpu"], None)


def test_worker_with_an_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path,
                        broker_url="redis://:secret@127.0.0.1:1/0")
    with pytest.raises(ConfigError) as failed:
        run_worker(settings, ["cpu"], None)
    message = failed.value.user_message
    assert message.startswith("cannot reach the task broker at redis://")
    assert "secret" not in message and "\n" not in message


def test_worker_rejects_an_unknown_queue(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, broker_url=REDIS_URL)
    with pytest.raises(ConfigError, match="unknown queue tpu"):
        run_worker(settings, ["tpu"], None)


@pytest.mark.slow
def test_assistant_worker_serves_redis_with_only_environment_variables(tmp_path: Path) -> None:
    """`assistant worker --queues gpu` against this machine's Redis: only ASSISTANT_REDIS_URL
    is set; it answers tasks on its queue and stops cleanly on SIGTERM."""
    data = tmp_path / "data"
    settings = settings_for(data, "memory", redis_url=REDIS_URL)
    reset_broker(settings)
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "worker", "--queues", "gpu"],
            env=env_for(data, ASSISTANT_REDIS_URL=REDIS_URL), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                times = measure_round_trip(settings, 20, queue="gpu", timeout_s=5)
                break
            except ConfigError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
        times.sort()
        print(f"\nassistant worker on Redis: p50 {times[10] * 1000:.1f} ms, "
              f"p95 {times[18] * 1000:.1f} ms")
    finally:
        code = stop_worker(proc)
    assert code == 0, log.read_text()


@pytest.mark.slow
def test_assistant_worker_with_nothing_to_reach_exits_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "worker", "--queues", "cpu"],
        env=env_for(tmp_path, ASSISTANT_BROKER_URL="amqp://guest:guest@127.0.0.1:1//"),
        capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    said = " ".join(result.stderr.split())  # one message (rich wraps it at the width)
    assert said.startswith("error: ") and said.count("error:") == 1, result.stderr
    assert "127.0.0.1:1" in said and ("unreachable" in said or "cannot reach" in said), said
    assert "Traceback" not in result.stderr and "guest:guest" not in said


# --- the job lease: SQLite and PostgreSQL ----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobRepository]:
    """A repository holding job ``JOB`` (a fresh row: the PostgreSQL database is shared)."""
    url = (f"sqlite:///{tmp_path / 'lease.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_database_url"))
    db = Database(url)
    db.migrate()
    repository = JobRepository(db)
    with db.session() as s:
        s.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": JOB})
    repository.create_job(JOB, title="tides", content_type="blog")
    yield repository
    db.dispose()


def test_one_owner_holds_a_lease_until_it_lets_go(repo: JobRepository) -> None:
    assert repo.acquire_lease(JOB, "a", 30)
    assert not repo.acquire_lease(JOB, "b", 30)
    assert repo.acquire_lease(JOB, "a", 30)  # renewal
    assert repo.lease(JOB)[0] == "a"
    repo.release_lease(JOB, "b")  # not b's to release
    assert repo.lease(JOB)[0] == "a"
    repo.release_lease(JOB, "a")
    assert repo.lease(JOB) == (None, None)
    assert repo.acquire_lease(JOB, "b", 30)


def test_an_expired_or_dead_holders_lease_can_be_taken(repo: JobRepository) -> None:
    assert repo.acquire_lease(JOB, "a", 0.2)
    time.sleep(0.3)
    assert repo.acquire_lease(JOB, "b", 30)
    assert not repo.acquire_lease(JOB, "c", 30)
    assert repo.acquire_lease(JOB, "c", 30, replacing="b")


def test_owners_racing_for_a_lease_get_exactly_one(repo: JobRepository) -> None:
    wins: list[str] = []
    barrier = threading.Barrier(6)

    def race(owner: str) -> None:
        barrier.wait()
        if repo.acquire_lease(JOB, owner, 30):
            wins.append(owner)

    threads = [threading.Thread(target=race, args=(f"owner-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(wins) == 1


def test_a_busy_job_is_a_clear_error_and_a_dead_holder_is_replaced(
    repo: JobRepository,
) -> None:
    first, second = JobLeases(repo), JobLeases(repo)
    with first.hold(JOB), pytest.raises(JobStateError, match="job is busy"), second.hold(JOB):
        pass
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = f"{os.uname().nodename}:{gone.pid}:feedbeef"
    assert dead_holder(dead) and not dead_holder(first.owner)
    assert repo.acquire_lease(JOB, dead, 300)
    with second.hold(JOB):  # taken over at once, no waiting for the expiry
        assert repo.lease(JOB)[0] == second.owner

