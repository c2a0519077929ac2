"""A conversation's background work: one thread per running job, behind the process's slots.

:class:`JobThreads` runs a job's steps (a start or a resume) on its own thread, holds one of
the process's job slots while it does, turns the runner's events into channel events and
stops a cancelled job between steps.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from assistant.app.events import MEDIA_KINDS, OutEvent, artifact, from_runner, refuse, say
from assistant.app.runner import Event, Outcome, observed_status
from assistant.errors import AssistantError, JobStateError
from assistant.graph.services import Services
from assistant.infra.slots import JobSlots

log = logging.getLogger(__name__)

Work = Callable[[Callable[[Event], None]], Outcome]


class _Cancelled(Exception):
    """Raised in a job's event sink to stop a cancelled job between steps."""


class JobThreads:
    def __init__(self, svc: Services, publish: Callable[[OutEvent], None],
                 lock: threading.RLock) -> None:
        self.svc, self._publish, self._lock = svc, publish, lock
        self._threads: dict[str, threading.Thread] = {}
        self._slots = JobSlots(svc.settings.job_concurrency)
        self._cancelled: set[str] = set()

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until the job's background work stops; False if ``timeout`` ran out first."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def join_all(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def cancel(self, job_id: str) -> bool:
        """Mark the job cancelled; True when its thread is running (it stops after the step
        it is on)."""
        with self._lock:
            self._cancelled.add(job_id)
            thread = self._threads.get(job_id)
            return bool(thread and thread.is_alive())

    def _running(self, job_id: str) -> bool:
        thread = self._threads.get(job_id)
        return bool(thread and thread.is_alive() and thread is not threading.current_thread())

    def launch(self, job_id: str, work: Work) -> None:
        with self._lock:
            if self._running(job_id):
                raise JobStateError(f"{job_id} is busy: wait for its next message")
            thread = threading.Thread(target=self._work, args=(job_id, work), daemon=True,
                                      name=f"conversation-{job_id}")
            self._threads[job_id] = thread
            thread.start()

    def _work(self, job_id: str, work: Work) -> None:
        try:
            with self._slot(job_id):
                self.svc.chat()
                self.svc.kb()
                work(lambda event: self._on_event(job_id, event))
        except _Cancelled:
            self.svc.repo.set_status(job_id, "cancelled")
            self._publish(say(job_id, f"{job_id} cancelled."))
        except AssistantError as exc:
            self.svc.repo.set_status(job_id, "failed", error=exc.user_message)
            observed_status(job_id, "failed", exc.user_message)
            self._publish(refuse(job_id, f"{job_id} stopped: {exc.user_message}"))
        except Exception as exc:
            log.exception("job %s failed in its conversation worker", job_id)
            self.svc.repo.set_status(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
            observed_status(job_id, "failed", type(exc).__name__)
            self._publish(refuse(job_id, f"{job_id} stopped on an internal error "
                                         f"({type(exc).__name__}): /status {job_id}"))

    @contextlib.contextmanager
    def _slot(self, job_id: str) -> Iterator[None]:
        """One of the process's job slots (see :mod:`assistant.infra.slots`); the owner is told
        when the job has to wait for one."""
        def queued() -> None:
            self._publish(say(job_id, f"{job_id} is queued: {self._slots.size} jobs are "
                                      "running here; it starts as soon as one stops."))

        with self._slots.hold(queued):
            with self._lock:
                if job_id in self._cancelled:  # cancelled while it waited
                    raise _Cancelled(job_id)
            yield

    def _on_event(self, job_id: str, event: Event) -> None:
        with self._lock:
            if job_id in self._cancelled:
                raise _Cancelled(job_id)
        media = []
        if event.kind == "review" and event.step == "review_final":
            media = [artifact(job_id, a.path, a.mime)
                     for a in self.svc.objects.list(job_id, latest_only=True)
                     if a.mime.split("/", 1)[0] in MEDIA_KINDS]
        for out in from_runner(event, media):
            self._publish(out)
