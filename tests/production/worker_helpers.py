"""Helpers for the worker tests: brokers, worker processes, a private Redis, task files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

from assistant.config import Settings
from tests.cli.helpers import env_for

# The tests' own Redis database on the shared server (never the app's db 0), flushed by them.
TEST_REDIS_DB = 9
REDIS_URL = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
PRIVATE_REDIS_PORT = 6391

# broker name -> Settings fields (RabbitMQ keeps its results in Redis, as in production)
BROKERS: dict[str, dict[str, Any]] = {
    "memory": {},
    "redis": {"broker_url": REDIS_URL},
    "amqp": {"broker_url": AMQP_URL, "redis_url": REDIS_URL},
}


def settings_for(data: Path, broker: str, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data, seed_sample_kb=False,
                    **BROKERS[broker], **values)


def env_of(settings: Settings, data: Path) -> dict[str, str]:
    extra = {"ASSISTANT_LOG_LEVEL": "INFO"}
    if settings.broker_url:
        extra["ASSISTANT_BROKER_URL"] = settings.broker_url
    if settings.redis_url:
        extra["ASSISTANT_REDIS_URL"] = settings.redis_url
    return env_for(data, **extra)


def reset_broker(settings: Settings) -> None:
    """Drop what earlier test runs left queued on the tests' broker."""
    if settings.redis_url or (settings.broker_url or "").startswith("redis"):
        url = settings.redis_url or settings.broker_url or ""
        redis.Redis.from_url(url).flushdb()
    if (settings.broker_url or "").startswith("amqp"):
        from assistant.infra.task_queue import celery_app

        celery_app(settings).control.purge()


def tone_wav(path: Path, seconds: float = 2.0, rate: int = 22050) -> Path:
    """A real little WAV: a 220 Hz tone."""
    import math

    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * 220 * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


# --- worker processes ----------------------------------------------------------------------


def start_worker(settings: Settings, data: Path, log: Path, queues: str = "gpu,cpu"
                 ) -> subprocess.Popen[bytes]:
    """`assistant worker` in its own process group (so a kill takes its pool and ffmpeg)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant", "worker", "--queues", queues,
             "--concurrency", "1"],
            env=env_of(settings, data), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_worker_ready(settings: Settings, proc: subprocess.Popen[bytes], log: Path,
                      queue: str = "cpu", timeout: float = 90) -> None:
    from assistant.errors import ConfigError
    from assistant.infra.task_queue import measure_round_trip

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited:\n{log.read_text()[-3000:]}")
        try:
            measure_round_trip(settings, 1, queue=queue, timeout_s=5)
            return
        except ConfigError:
            continue
    raise AssertionError(f"the worker never answered:\n{log.read_text()[-3000:]}")


def kill_group(proc: subprocess.Popen[Any]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def stop_worker(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(proc)
    return proc.returncode


# --- task files ------------------------------------------------------------------------------


def task_files(data: Path, job: str, step: str, task: str, suffix: str) -> list[Path]:
    folder = data / "work" / "tasks" / job / step
    return sorted(folder.glob(f"{task}-*{suffix}")) if folder.is_dir() else []


def task_runs(data: Path, job: str, step: str, task: str) -> list[dict[str, Any]]:
    import json

    runs = []
    for path in task_files(data, job, step, task, ".runs"):
        runs += [json.loads(line) for line in path.read_text().splitlines() if line]
    return sorted(runs, key=lambda r: r["at"])


def started(data: Path, job: str, step: str, task: str) -> list[dict[str, Any]]:
    return [r for r in task_runs(data, job, step, task) if r["event"] == "started"]


def finished(data: Path, job: str, step: str, task: str) -> list[dict[str, Any]]:
    return [r for r in task_runs(data, job, step, task) if r["event"] == "finished"]


def wait_running(data: Path, job: str, step: str, task: str, timeout: float = 300,
                 alive: subprocess.Popen[Any] | None = None) -> None:
    """Until an attempt of the task is running (and not finished), and has written its
    "started" line: an attempt's state says "running" (its first heartbeat) a moment before
    it logs that line, and a kill in between would leave no trace of the attempt to count."""
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in task_files(data, job, step, task, ".state.json"):
            try:
                state = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if state.get("status") == "running" and any(
                    (r.get("task_id"), r.get("worker")) == (state.get("task_id"),
                                                            state.get("worker"))
                    for r in started(data, job, step, task)):
                return
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"the process ended before {task} ran")
        time.sleep(0.02)
    raise AssertionError(f"{task} of {step} never started")


def has_result(data: Path, job: str, step: str, task: str) -> bool:
    return any((p / "result.json").is_file()
               for p in task_files(data, job, step, task, "") if p.is_dir())


# --- a private Redis -------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of our own (no persistence), to restart at will."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@contextmanager
def private_redis(port: int, workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(port, workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
