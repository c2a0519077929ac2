"""How many jobs one app process drives at once.

A job's steps are Python work under one GIL: a hundred jobs driven at once would make every
chat turn of the process wait seconds for its share of it (measured by
``benchmarks/load.py``). So the conversation service runs a job only while it holds one of
``job_concurrency`` slots; the others wait their turn, first come first served.

A slot bounds work done *here*. While a step waits on another process (a media task on a
worker, a model server answering) it gives its slot up, so a ten-minute GPU render does
not keep a quick job from starting, and takes it back, in turn, when the wait is over.
The slot travels with the job's context (LangGraph copies it into the thread that runs a
step), so the waiting code needs no handle: it calls :func:`waiting_elsewhere`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from assistant.infra.observability import set_queue_depth


@dataclass
class _Held:
    slots: JobSlots
    holding: bool = True


_current: ContextVar[_Held | None] = ContextVar("assistant_job_slot", default=None)


class JobSlots:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"job concurrency must be at least 1, not {size}")
        self.size = size
        # threading.Semaphore wakes its waiters in the order they came
        self._free = threading.Semaphore(size)
        self._lock = threading.Lock()
        self.waiting = 0  # jobs waiting for a slot (the "jobs" queue depth metric)

    def _queued(self, change: int) -> None:
        with self._lock:
            self.waiting += change
            set_queue_depth("jobs", self.waiting)

    @contextmanager
    def hold(self, on_queued: Callable[[], None] | None = None) -> Iterator[None]:
        """Run the block in a slot; ``on_queued`` is called first if none is free now."""
        if not self._free.acquire(blocking=False):
            self._queued(+1)
            try:
                if on_queued is not None:
                    on_queued()
                self._free.acquire()
            finally:
                self._queued(-1)
        held = _Held(self)
        token = _current.set(held)
        try:
            yield
        finally:
            _current.reset(token)
            if held.holding:
                self._free.release()


@contextmanager
def waiting_elsewhere() -> Iterator[None]:
    """Give the current job's slot up for the block (it waits on another process); a no-op
    where no slot is held (the CLI, a worker, a test that runs a node alone)."""
    held = _current.get()
    if held is None or not held.holding:
        yield
        return
    held.holding = False
    held.slots._free.release()
    try:
        yield
    finally:
        held.slots._free.acquire()
        held.holding = True
