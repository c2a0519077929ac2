"""Job slots: bounded jobs per process, first come first served, given up while a job waits
on another process (a worker, a model server)."""

from __future__ import annotations

import threading
import time
from contextvars import copy_context
from typing import Any

import pytest
from pydantic import BaseModel

from assistant.infra.slots import JobSlots, waiting_elsewhere
from assistant.llm import ChatModel, structured
from tests.fakes import ScriptedChat

WAIT_S = 10.0


def in_thread(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_jobs_beyond_the_size_wait_in_the_order_they_came() -> None:
    slots = JobSlots(1)
    order: list[str] = []
    queued: list[str] = []
    release = threading.Event()

    def job(name: str) -> None:
        with slots.hold(lambda: queued.append(name)):
            order.append(name)
            if name == "first":
                release.wait(WAIT_S)

    first = in_thread(job, "first")
    while not order:
        time.sleep(0.01)
    others = []
    for name in ("second", "third", "fourth"):
        others.append(in_thread(job, name))
        while name not in queued:  # it has asked for a slot before the next one comes
            time.sleep(0.01)
    assert order == ["first"]  # the others wait while the only slot is held
    release.set()
    for thread in (first, *others):
        thread.join(WAIT_S)
    assert order == ["first", "second", "third", "fourth"]
    assert queued == ["second", "third", "fourth"]


def test_a_job_waiting_elsewhere_lets_another_run_then_takes_its_slot_back() -> None:
    slots = JobSlots(1)
    log: list[str] = []
    worker_done = threading.Event()
    other_started = threading.Event()

    def waiting_job() -> None:
        with slots.hold():
            log.append("a: working")
            # what a step does: LangGraph runs it in another thread with the job's context
            ctx = copy_context()
            step = threading.Thread(target=ctx.run, args=(remote_wait,))
            step.start()
            step.join(WAIT_S)
            log.append("a: working again")

    def remote_wait() -> None:
        with waiting_elsewhere():
            log.append("a: waiting on a worker")
            assert other_started.wait(WAIT_S)
            worker_done.wait(WAIT_S)
        log.append("a: has its slot back")

    def other_job() -> None:
        with slots.hold():
            other_started.set()
            log.append("b: working")
            time.sleep(0.2)
            worker_done.set()  # a's worker finishes while b still holds the slot
            time.sleep(0.2)
            log.append("b: done")

    a = in_thread(waiting_job)
    while "a: waiting on a worker" not in log:
        time.sleep(0.01)
    b = in_thread(other_job)
    a.join(WAIT_S)
    b.join(WAIT_S)
    assert log == ["a: working", "a: waiting on a worker", "b: working", "b: done",
                   "a: has its slot back", "a: working again"]


def test_waiting_elsewhere_without_a_slot_does_nothing() -> None:
    slots = JobSlots(1)
    # the CLI or a worker holds no slot; nested waits give a held one up once
    with waiting_elsewhere(), slots.hold(), waiting_elsewhere(), waiting_elsewhere():
        pass
    # the slot is free again exactly once: one holder gets it without waiting
    got = []
    with slots.hold(lambda: got.append("queued")):
        got.append("ran")
    assert got == ["ran"]


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        JobSlots(0)


class Answer(BaseModel):
    text: str


class SlotProbe(ScriptedChat):
    """Answers, noting whether another job could take the only slot meanwhile."""

    slots: Any = None
    free_meanwhile: list[bool] = []

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                  **kw: Any) -> Any:
        got: list[bool] = []

        def other() -> None:
            acquired = self.slots._free.acquire(timeout=1.0)
            got.append(acquired)
            if acquired:
                self.slots._free.release()

        probe = threading.Thread(target=other)
        probe.start()
        probe.join(WAIT_S)
        self.free_meanwhile.append(got == [True])
        return super()._generate(messages, stop, run_manager, **kw)


@pytest.mark.parametrize(("provider", "frees_slot"), [("ollama", True), ("embedded", False)])
def test_a_model_server_call_frees_the_slot_an_in_process_model_does_not(
        provider: str, frees_slot: bool) -> None:
    slots = JobSlots(1)
    probe = SlotProbe(replies=['{"text": "hello"}'], prompts=[], slots=slots,
                      free_meanwhile=[])
    chat = ChatModel(probe, provider, "probe", "prompt")
    with slots.hold():
        assert structured(chat, Answer, []).text == "hello"
    assert probe.free_meanwhile == [frees_slot]
