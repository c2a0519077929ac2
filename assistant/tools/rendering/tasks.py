"""Run a media task on the workers and wait for it, as a pipeline step sees it.

``run_task(svc, job_id, step, spec, progress)`` submits the task, reports its progress,
and returns its result, whatever happens on the way:

- finished already (a resumed step, a restarted app): its stored result, nothing is sent;
- running already on a worker (the app restarted while a worker renders): picked up;
- its worker dies: the attempt's heartbeat stops and the task is sent again (RabbitMQ and
  a prefork pool also redeliver it themselves: acks_late + reject_on_worker_lost);
- the broker restarts and loses the queued message (Redis without persistence): noticed
  (Redis's run id changes) and sent again; an unreachable broker is waited for;
- it fails for good: the step fails with the task's reason, and a resume tries again.

Sending twice is always safe: a task is idempotent by (job, step, input hash), see
:mod:`media.taskdir`. The wait is bounded by ``task_timeout_s``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import StepError
from assistant.infra.slots import waiting_elsewhere
from assistant.infra.task_queue import broker_url, celery_app, ensure_worker, safe
from media.taskdir import TaskDir, is_alive, task_key
from media.worker import queue_for

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

POLL_MIN_S = 0.005
POLL_MAX_S = 0.2
QUEUED_NOTICE_S = 3.0
EPOCH_CHECK_S = 1.0
RESEND_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
RETRY_BACKOFF_S = 1.0  # first retry of a transient task error; doubles each time


@dataclass
class TaskSpec:
    """What to run: a media task, its JSON arguments, the files its result depends on."""

    task: str  # images | tts | asr | render
    args: dict[str, Any]
    inputs: Sequence[str | Path] = field(default_factory=list)
    engine: str | None = None  # picks the queue: GPU engines go to "gpu"


def tasks_root(settings: Settings) -> Path:
    return settings.work_dir / "tasks"


def task_dir(settings: Settings, job_id: str, step: str, spec: TaskSpec) -> TaskDir:
    key = task_key(spec.task, spec.args, spec.inputs)
    return TaskDir.of(tasks_root(settings), job_id, step, spec.task, key)


def run_task(
    settings: Settings, job_id: str, step: str, spec: TaskSpec,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The task's result (file names relative to ``result["dir"]``); StepError if it fails."""
    tdir = task_dir(settings, job_id, step, spec)
    done = tdir.result()
    if done is not None:
        log.info("%s/%s: %s already done (%s)", job_id, step, spec.task, tdir.key)
        return done
    ensure_worker(settings)
    with waiting_elsewhere():  # the job's slot is free for others while a worker works
        return _Wait(settings, step, spec, tdir, progress or (lambda _f, _m: None)).run()


class _Wait:
    def __init__(self, settings: Settings, step: str, spec: TaskSpec, tdir: TaskDir,
                 progress: Progress) -> None:
        self.settings = settings
        self.step = step
        self.spec = spec
        self.tdir = tdir
        self.progress = progress
        self.app = celery_app(settings)
        self.queue = queue_for(spec.task, spec.engine)
        self.envelope = {
            "root": str(tdir.root), "job": tdir.job, "step": tdir.step, "key": tdir.key,
            "args": spec.args, "retries": settings.task_retries, "backoff_s": RETRY_BACKOFF_S,
        }
        self.ours: set[str] = set()  # task ids this wait sent or adopted
        self.reacted: set[str] = set()  # dead attempts already answered with a re-send
        self.sent_at = 0.0
        self.sent_epoch: str | None = None
        self.send_due: float | None = None  # when to try sending (again)
        self.send_failures = 0
        self.notices: set[str] = set()
        self.last_report: tuple[float, str] | None = None
        self.redis = _redis_client(broker_url(settings))

    # --- the loop -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        state = self.tdir.state()
        if is_alive(state) and state:
            self.ours.add(str(state.get("task_id")))
            self._say("adopt", f"picking up the {self.spec.task} task that is already running")
        else:
            if state and state.get("status") in ("running", "retrying"):
                self.reacted.add(_attempt_id(state))  # died before; answered by this send
            self.send_due = time.monotonic()
        deadline = time.monotonic() + self.settings.task_timeout_s
        poll = POLL_MIN_S
        next_epoch_check = 0.0
        while True:
            done = self.tdir.result()
            if done is not None:
                return done
            now = time.monotonic()
            if self.send_due is not None and now >= self.send_due:
                self._send()
            state = self.tdir.state()
            alive = is_alive(state)
            if state and state.get("task_id") in self.ours:
                if state.get("status") == "failed":
                    raise StepError(self.step, f"{state.get('error')}; fix it and resume the job")
                if alive:
                    self._report(state)
            if not alive and self.send_due is None:
                self._check_dead(state)
                if self.send_due is None and self.redis is not None and now >= next_epoch_check:
                    next_epoch_check = now + EPOCH_CHECK_S
                    self._check_broker()
                if (self.send_due is None and time.time() - self.sent_at > QUEUED_NOTICE_S
                        and not _started_since(state, self.sent_at)):
                    self._say("queued", f"waiting for a worker on queue '{self.queue}' "
                              f"(`assistant worker --queues {self.queue}`)")
            if now > deadline:
                raise StepError(
                    self.step,
                    f"the {self.spec.task} task did not finish within "
                    f"{self.settings.task_timeout_s:g} s; is a worker running on queue "
                    f"'{self.queue}'? Start one with `assistant worker --queues {self.queue}` "
                    "and resume the job")
            time.sleep(poll)
            poll = min(POLL_MAX_S, poll * 1.5)

    # --- sending ------------------------------------------------------------------------------
    def _send(self) -> None:
        task_id = f"{self.tdir.job}.{self.tdir.step}.{self.spec.task}.{uuid.uuid4().hex[:12]}"
        epoch = self._epoch()
        try:
            self.app.send_task(
                f"media.{self.spec.task}", args=[self.envelope], task_id=task_id,
                queue=self.queue, retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5,
                              "interval_max": 1.0},
            )
        except Exception as exc:  # the broker is down: try again, with backoff
            self.send_failures += 1
            delay = RESEND_BACKOFF_S[min(self.send_failures, len(RESEND_BACKOFF_S)) - 1]
            self.send_due = time.monotonic() + delay
            log.warning("%s: sending %s failed (%s); again in %.1f s", self.tdir.job,
                        self.spec.task, exc, delay)
            self._say("broker", f"the task broker {safe(broker_url(self.settings) or '')} is "
                      "unreachable; waiting for it")
            return
        self.ours.add(task_id)
        self.sent_at = time.time()
        self.sent_epoch = epoch
        self.send_due = None
        self.send_failures = 0
        self.notices.discard("broker")
        self.notices.discard("queued")
        log.info("%s/%s: sent %s to queue %s as %s", self.tdir.job, self.step, self.spec.task,
                 self.queue, task_id)

    def _check_dead(self, state: dict[str, Any] | None) -> None:
        """An attempt that stopped beating without a result died with its worker: re-send."""
        if not state or state.get("status") not in ("running", "retrying"):
            return
        attempt = _attempt_id(state)
        if attempt in self.reacted:
            return
        self.reacted.add(attempt)
        log.warning("%s/%s: the %s attempt %s stopped (worker lost); sending it again",
                    self.tdir.job, self.step, self.spec.task, attempt)
        self.progress(0.0, f"the worker running {self.spec.task} was lost; sending it again")
        self.send_due = time.monotonic()

    def _check_broker(self) -> None:
        """A restarted Redis has lost what was queued: send again once it is back."""
        epoch = self._epoch()
        if epoch is None:
            self._say("broker", "the task broker is unreachable; waiting for it")
            return
        self.notices.discard("broker")
        if epoch != self.sent_epoch:
            log.warning("%s/%s: the broker restarted since %s was sent; sending it again",
                        self.tdir.job, self.step, self.spec.task)
            self.progress(0.0, f"the task broker restarted; sending {self.spec.task} again")
            self.send_due = time.monotonic()

    def _epoch(self) -> str | None:
        """Redis's run id (it changes on restart); None when unreachable."""
        if self.redis is None:
            return "static"
        try:
            return str(self.redis.info("server")["run_id"])
        except Exception:
            return None

    # --- reporting ----------------------------------------------------------------------------
    def _report(self, state: dict[str, Any]) -> None:
        fraction = float(state.get("fraction") or 0.0)
        message = str(state.get("message") or self.spec.task)
        last = self.last_report
        if last is None or message != last[1] or fraction - last[0] >= 0.01:
            self.last_report = (fraction, message)
            self.progress(fraction, message)

    def _say(self, kind: str, message: str) -> None:
        if kind not in self.notices:
            self.notices.add(kind)
            self.progress(0.0, message)


def _attempt_id(state: dict[str, Any]) -> str:
    return f"{state.get('task_id')}:{state.get('started', state.get('retry_at'))}"


def _started_since(state: dict[str, Any] | None, since: float) -> bool:
    return bool(state) and float((state or {}).get("started") or 0) >= since - 1


def _redis_client(url: str | None) -> Any:
    if not url or not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def progress_span(emit: Callable[..., None], step: str, start: float, end: float) -> Progress:
    """A task's progress (0..1) as the step's percent between ``start`` and ``end``."""

    def report(fraction: float, message: str) -> None:
        emit(step, message, round(start + (end - start) * fraction, 1))

    return report
