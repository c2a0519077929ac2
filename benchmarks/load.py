"""Load: N concurrent conversations through the conversation service (not a test).

    python benchmarks/load.py --conversations 50
    python benchmarks/load.py --conversations 200 --pool-size 10 --max-overflow 20

Each conversation is one user (a Telegram identity) asking for a blog post about tides,
approving the script, approving the final piece, and waiting for publication: three chat
turns and one job through the real pipeline (brief, research, write, review_script, qa,
review_final, publish) on PostgreSQL (a scratch database, dropped at the end: storage and the
LangGraph checkpointer) and Redis (a separate database number, flushed at the end: progress
pub/sub, rate limits, research cache). Only the chat model is fake (tests/fakes.py,
scripted framing: answers at once). The blog format is text only: its route has no media
steps (visuals, voice, assemble), so there is no media to stub.

Figures printed:
- per chat turn: wall time of ``Conversation.handle`` / ``decide`` (what a channel waits
  for before it can answer the user); target < 50 ms p95 at 200 conversations;
- per graph step: the runner's wall time per run (``JobRunner.start`` / ``resume``) minus the
  time spent inside the step functions (as the steps record it), per step run: LangGraph,
  checkpoints, job-step rows, events, pub/sub; target < 5 ms; measured with one conversation
  alone and under load;
- Celery round trip (``assistant.infra.task_queue.measure_round_trip``) when it exists;
  target < 15 ms;
- throughput (jobs and turns per second) and peak memory (max RSS) of this process;
- the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
import redis  # noqa: E402
from psycopg import sql  # noqa: E402

from assistant.app.conversation import Conversation  # noqa: E402
from assistant.app.events import ChannelUser, OutEvent  # noqa: E402
from assistant.app.runner import JobRunner  # noqa: E402
from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.infra.observability import configure_logging  # noqa: E402
from tests.fakes import FRAMING, draft, scripted  # noqa: E402

SAMPLE_KB = REPO / "assistant" / "data" / "sample_kb"
REQUEST = "write a blog post about how tides work"


# --- figures -------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def line(label: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    if not values:
        return f"{label:<34} no samples"
    scaled = [v * scale for v in values]
    return (f"{label:<34} p50 {pct(scaled, 50):8.2f} {unit}   p95 {pct(scaled, 95):8.2f} {unit}"
            f"   max {max(scaled):8.2f} {unit}   n={len(scaled)}")


@dataclass
class Run:
    """One ``JobRunner.start`` / ``resume`` call: its wall time."""

    job_id: str
    seconds: float
    cpu: float  # CPU time of the calling thread (the graph loop; steps run on other threads)


@dataclass
class Recorder:
    turns: list[float] = field(default_factory=list)
    turn_cpu: list[float] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turn(self, seconds: float, cpu: float) -> None:
        with self.lock:
            self.turns.append(seconds)
            self.turn_cpu.append(cpu)


def time_runs(runner: JobRunner, current: dict[str, Recorder]) -> None:
    """Record the wall time of every run of the runner in ``current["runs"]`` (the
    benchmark's own wrapper around the runner's two entry points)."""
    for name in ("start", "resume"):
        original: Callable[..., Any] = getattr(runner, name)

        def timed(job_id: str, *args: Any, _original: Callable[..., Any] = original,
                  **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return _original(job_id, *args, **kwargs)
            finally:
                recorder = current["runs"]
                with recorder.lock:
                    recorder.runs.append(Run(job_id, time.perf_counter() - started,
                                             time.thread_time() - cpu))

        setattr(runner, name, timed)


def loop_cpu(svc: Services, recorder: Recorder, job_ids: list[str]) -> list[float]:
    """Per job: CPU time of the graph loop's thread / step runs (steps run elsewhere)."""
    by_job: dict[str, float] = {}
    for run in recorder.runs:
        by_job[run.job_id] = by_job.get(run.job_id, 0.0) + run.cpu
    return [by_job[j] / len(steps) for j in job_ids
            if j in by_job and (steps := svc.repo.list_steps(j))]


def step_overheads(svc: Services, recorder: Recorder, job_ids: list[str]) -> list[float]:
    """Per job: (runner wall time - time inside the steps) / step runs."""
    by_job: dict[str, float] = {}
    for run in recorder.runs:
        by_job[run.job_id] = by_job.get(run.job_id, 0.0) + run.seconds
    overheads = []
    for job_id in job_ids:
        steps = svc.repo.list_steps(job_id)
        inside = sum((s.duration_ms or 0) / 1000 for s in steps)
        if steps and job_id in by_job:
            overheads.append(max(0.0, by_job[job_id] - inside) / len(steps))
    return overheads


# --- one conversation ----------------------------------------------------------------------------


class Waiter:
    """The channel: collects events per job, wakes the driver that waits for one."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: dict[str, list[OutEvent]] = {}

    def __call__(self, user: ChannelUser, event: OutEvent) -> None:
        with self.cond:
            self.events.setdefault(event.job_id or "", []).append(event)
            self.cond.notify_all()

    def wait_for(self, job_id: str, test: Callable[[OutEvent], bool], deadline: float) -> bool:
        with self.cond:
            while True:
                if any(test(e) for e in self.events.get(job_id, [])):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 1.0))


def is_review(stage: str) -> Callable[[OutEvent], bool]:
    return lambda e: e.kind == "approval_request" and e.stage == stage


def review_or_end(review: Callable[[OutEvent], bool], event: OutEvent) -> bool:
    return review(event) or is_end(event)


def is_end(event: OutEvent) -> bool:
    return event.kind == "error" or (event.kind == "text" and (
        event.text.endswith("is published.") or " ended: " in event.text))


@dataclass
class Pace:
    """How people arrive and answer: ``ramp_s`` spreads the first messages evenly over that
    many seconds (0: every conversation sends its request at the same instant, a thundering
    herd); ``think_s`` is a person's mean pause before pressing a review button
    (exponentially distributed; 0: at once)."""

    ramp_s: float = 0.0
    think_s: float = 0.0

    def arrival(self, index: int, count: int) -> float:
        return self.ramp_s * index / max(1, count)

    def think(self, rng: random.Random) -> float:
        return rng.expovariate(1 / self.think_s) if self.think_s > 0 else 0.0


def converse(conv: Conversation, waiter: Waiter, recorder: Recorder, index: int,
             deadline: float, results: dict[int, str],
             jobs: dict[int, tuple[ChannelUser, str]], pace: Pace = Pace(),
             delay_s: float = 0.0) -> None:
    user = ChannelUser("telegram", f"load{index}")
    rng = random.Random(index)
    time.sleep(delay_s)

    def turn(act: Callable[[], list[OutEvent]]) -> list[OutEvent]:
        started, cpu = time.perf_counter(), time.thread_time()
        replies = act()
        recorder.turn(time.perf_counter() - started, time.thread_time() - cpu)
        return replies

    replies = turn(lambda: conv.handle(user, REQUEST))
    job_id = replies[0].job_id if replies else None
    if not job_id or replies[0].kind == "error":
        results[index] = f"refused: {replies[0].text if replies else 'no reply'}"
        return
    results[index] = f"{job_id}: running"
    jobs[index] = (user, job_id)
    for stage in ("review_script", "review_final"):
        review = is_review(stage)
        if not waiter.wait_for(job_id, partial(review_or_end, review), deadline):
            results[index] = f"{job_id}: timed out before {stage}"
            return
        if not any(review(e) for e in waiter.events[job_id]):
            results[index] = f"{job_id}: ended before {stage}"
            return
        time.sleep(pace.think(rng))
        answer = turn(partial(conv.decide, user, job_id, "approve", stage=stage))
        if answer[0].kind == "error":
            results[index] = f"{job_id}: {answer[0].text}"
            return
    if not waiter.wait_for(job_id, is_end, deadline):
        results[index] = f"{job_id}: timed out before publication"
        return
    ended = next(e for e in waiter.events[job_id] if is_end(e))
    results[index] = "published" if ended.text.endswith("is published.") else ended.text


def run_conversations(conv: Conversation, waiter: Waiter, recorder: Recorder, count: int,
                      timeout_s: float, offset: int = 0,
                      pace: Pace = Pace()) -> tuple[dict[int, str], float]:
    """``count`` conversations at once; those not published within ``timeout_s`` have
    their jobs cancelled (they stop after the step they are on)."""
    results: dict[int, str] = {}
    jobs: dict[int, tuple[ChannelUser, str]] = {}
    deadline = time.monotonic() + timeout_s
    threads = [threading.Thread(target=converse, daemon=True, args=(
        conv, waiter, recorder, offset + i, deadline, results, jobs, pace,
        pace.arrival(i, count))) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 5)
    wall = time.perf_counter() - started
    for index, (user, job_id) in list(jobs.items()):
        if results.get(index) != "published":
            conv.cancel(user, job_id)
    return results, wall


# --- set-up --------------------------------------------------------------------------------------


def scratch_database(server: str) -> tuple[str, Callable[[], None]]:
    name = f"load_{uuid.uuid4().hex[:10]}"
    admin = f"postgresql://{server}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    return f"postgresql+psycopg://{server}/{name}", drop


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """`assistant worker --queues cpu` on the benchmark's Redis (ended by :func:`stop`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_REDIS_URL=str(settings.redis_url),
               ASSISTANT_DATABASE_URL=str(settings.database_url),
               ASSISTANT_DATA_DIR=str(settings.data_dir))
    return subprocess.Popen([sys.executable, "-m", "assistant", "worker", "--queues", "cpu",
                             "--concurrency", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is not None and worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def worker_ready(settings: Settings, worker_up_s: float = 90.0) -> str:
    """Wait until the worker answers (its start-up takes seconds of CPU)."""
    from assistant.infra.task_queue import measure_round_trip

    started = time.monotonic()
    while True:
        try:
            measure_round_trip(settings, 1)
            return f"worker ready after {time.monotonic() - started:.1f} s"
        except Exception as exc:
            if time.monotonic() - started > worker_up_s:
                return f"worker not ready ({type(exc).__name__}: {exc})"


def celery_round_trip(settings: Settings, samples: int) -> str:
    from assistant.infra.task_queue import measure_round_trip

    try:
        times = list(measure_round_trip(settings, samples))
    except Exception as exc:  # report, do not hide: the figure is missing, and why
        return f"celery round-trip: not measured ({type(exc).__name__}: {exc})"
    finally:
        gc.collect()  # finish Celery's pending results before the interpreter exits
    return line("celery round-trip (1 worker)", times)


def main() -> None:
    parser = argparse.ArgumentParser(description="N concurrent conversations (not a test).")
    parser.add_argument("--conversations", "-n", type=int, default=50)
    parser.add_argument("--postgres", default="postgres@127.0.0.1:5432",
                        help="user@host:port of a PostgreSQL server (trust auth)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--pool-size", type=int, default=None, help="default: settings (5)")
    parser.add_argument("--max-overflow", type=int, default=None, help="default: settings (10)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for the load")
    parser.add_argument("--celery-samples", type=int, default=200)
    parser.add_argument("--writer", choices=["generative", "grounded"], default="generative",
                        help="writer mode (grounded composes from sentences: CPU-heavy)")
    parser.add_argument("--no-celery", action="store_true", help="skip the Celery round trip")
    parser.add_argument("--ramp", type=float, default=10.0,
                        help="seconds over which the conversations' first messages arrive "
                             "(0: all at the same instant)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="a person's mean pause (s) before pressing a review button")
    parser.add_argument("--job-concurrency", type=int, default=None,
                        help="jobs driven at once (default: settings, 8)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="GIL switch interval in seconds (default: Python's, 0.005)")
    args = parser.parse_args()
    configure_logging(json=False, level="ERROR")  # the figures, not the cancelled jobs' noise

    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    database_url, drop_database = scratch_database(args.postgres)
    bus = redis.Redis.from_url(args.redis_url)
    bus.flushdb()
    data_dir = Path(tempfile.mkdtemp(prefix="assistant-load-"))
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    pools = {k: v for k, v in (("db_pool_size", args.pool_size),
                               ("db_max_overflow", args.max_overflow),
                               ("job_concurrency", args.job_concurrency)) if v is not None}
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=database_url,
                        redis_url=args.redis_url, seed_sample_kb=False,
                        rate_limit_burst=20, rate_limit_per_minute=60,
                        writer_mode=args.writer, **pools)
    print(f"PostgreSQL {database_url}, Redis {args.redis_url}, pools "
          f"{settings.db_pool_size}+{settings.db_max_overflow}, format blog (no media steps), "
          f"writer {args.writer}, jobs at once {settings.job_concurrency}, GIL switch "
          f"interval {sys.getswitchinterval() * 1000:g} ms, arrivals over {args.ramp:g} s, "
          f"mean think time {args.think:g} s")
    svc = Services.create(settings)
    runner: JobRunner | None = None
    conv: Conversation | None = None
    worker = None if args.no_celery else start_worker(settings)
    try:
        svc.kb().add([SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"])
        if args.writer == "generative":  # what a server model (Ollama) does: one draft call
            body = draft()
            sid = svc.kb().sources()[0].id
            for section in body["sections"]:
                section["citations"] = [sid]
            svc.set_chat(scripted(body))
        else:  # the embedded model's mode: composed from source sentences (CPU-heavy)
            svc.set_chat(scripted(FRAMING))
        if worker is not None:  # started, so its start-up is not in the figures below
            print(worker_ready(settings))
        runner = JobRunner(svc)
        conv = Conversation(svc, runner)
        waiter = Waiter()
        conv.subscribe("telegram", waiter)

        # Warm-up and the idle figures: conversations one at a time.
        alone, loaded = Recorder(), Recorder()
        current = {"runs": Recorder()}
        time_runs(runner, current)
        warm, _ = run_conversations(conv, waiter, Recorder(), 1, 60, offset=1_000_000)
        current["runs"] = alone
        sequential = {}
        for i in range(5):
            done, _ = run_conversations(conv, waiter, alone, 1, 60, offset=2_000_000 + i)
            sequential.update(done)
        alone_jobs = list({r.job_id for r in alone.runs})

        # The load.
        current["runs"] = loaded
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        pace = Pace(args.ramp, args.think)
        results, wall = run_conversations(conv, waiter, loaded, args.conversations,
                                          args.timeout, pace=pace)
        load_jobs = list({r.job_id for r in loaded.runs})
        published = sum(1 for r in results.values() if r == "published")
        problems = sorted({r for r in results.values() if r != "published"})

        print()
        print(f"conversations: {args.conversations}  published: {published}  "
              f"wall: {wall:.1f} s  (warm-up {list(warm.values())}, "
              f"alone {sum(r == 'published' for r in sequential.values())}/5 published)")
        for problem in problems[:5]:
            print(f"  not published: {problem}")
        print(line("chat turn, alone", alone.turns))
        print(line(f"chat turn, {args.conversations} conversations", loaded.turns))
        print(line("chat turn CPU, alone", alone.turn_cpu))
        print(line(f"chat turn CPU, {args.conversations} conv.", loaded.turn_cpu))
        print(line("graph step overhead, alone", step_overheads(svc, alone, alone_jobs)))
        print(line(f"graph step overhead, {args.conversations} conv.",
                   step_overheads(svc, loaded, load_jobs)))
        print(line("graph loop CPU/step, alone", loop_cpu(svc, alone, alone_jobs)))
        print(line(f"graph loop CPU/step, {args.conversations} c.",
                   loop_cpu(svc, loaded, load_jobs)))
        print(f"{'throughput':<34} {published / wall:8.2f} jobs/s   "
              f"{len(loaded.turns) / wall:8.2f} turns/s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"{'peak memory (max RSS)':<34} {peak / 1024:8.1f} MiB   "
              f"(before the load: {rss_before / 1024:.1f} MiB)")
        if worker is not None:
            print(celery_round_trip(settings, args.celery_samples))
        print(f"load average after: {os.getloadavg()}")
    finally:
        stop(worker)
        if conv is not None:
            conv.close(timeout=2)
        if runner is not None:
            runner.close()
        svc.close()
        bus.flushdb()
        bus.close()
        drop_database()


if __name__ == "__main__":
    main()
