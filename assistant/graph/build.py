"""build_graph: the pipeline as a LangGraph StateGraph, routed by format.

    brief -> research -> write -> redact -> review_script -> [media steps] -> qa -> review_final
                           ^                      | revise                     |      -> publish
                           +----------------------+----------------------------+ fixable (bounded)

``redact`` takes personal data out of every draft before a person or a renderer sees it.

Media steps per format live in ``MEDIA_STEPS``; a format with none goes straight
from the approved script to QA. Every node is wrapped by ``tracked`` so the job's
steps, durations and failures land in the database.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph

from assistant.content import Format
from assistant.errors import AssistantError, StepError, StorageFullError
from assistant.graph import progress
from assistant.graph.nodes import (
    assemble,
    brief,
    publish,
    qa,
    redact,
    research,
    review,
    visuals,
    voice,
    write,
)
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.infra.observability import log_context, observe_step
from storage.errors import DiskFullError

log = logging.getLogger(__name__)

NodeFn = Callable[[PipelineState, Services], dict[str, object]]

STEP_DONE = "step_done"  # the custom-stream event a step sends when it has finished

# The steps that make media for a format, in order, between script approval and QA.
MEDIA_STEPS: dict[Format, list[str]] = {
    "short": ["visuals", "voice", "assemble"],
    "video": ["visuals", "voice", "assemble"],
    "podcast": ["voice", "assemble"],
    "blog": [],
    "social": [],
}
MEDIA_NODES: dict[str, NodeFn] = {
    "visuals": visuals.run,
    "voice": voice.run,
    "assemble": assemble.run,
}

CORE_NODES: dict[str, NodeFn] = {
    "brief": brief.run,
    "research": research.run,
    "write": write.run,
    "redact": redact.run,
    "review_script": review.make("review_script"),
    "qa": qa.run,
    "review_final": review.make("review_final"),
    "publish": publish.run,
}


def _observed(name: str, fn: NodeFn, state: PipelineState, svc: Services) -> dict[str, object]:
    """``fn`` with its log lines tagged (job id, step) and its duration in the step metric
    (not when it stops to wait for a person)."""
    started, waiting = time.perf_counter(), False
    try:
        with log_context(job_id=state["job_id"], step=name):
            return fn(state, svc)
    except GraphBubbleUp:
        waiting = True
        raise
    finally:
        if not waiting:
            observe_step(name, time.perf_counter() - started)


def tracked(name: str, fn: NodeFn, svc: Services) -> Callable[[PipelineState], dict[str, object]]:
    """Run ``fn`` as step ``name``: a job_steps row, its duration, and a clear failure."""

    def node(state: PipelineState) -> dict[str, object]:
        job_id = state["job_id"]
        step_id = svc.repo.start_step(job_id, name)
        started = time.perf_counter()
        try:
            update = _observed(name, fn, state, svc)
        except GraphBubbleUp:  # an interrupt: the step waits for a person
            raise
        except AssistantError as exc:
            svc.repo.fail_step(step_id, exc.user_message)
            raise
        except (DiskFullError, OSError) as exc:
            if isinstance(exc, DiskFullError) or getattr(exc, "errno", None) in (
                errno.ENOSPC, errno.EDQUOT):
                message = f"{name}: the disk is full ({exc}); free space and resume the job"
                svc.repo.fail_step(step_id, message)
                raise StorageFullError(message) from exc
            svc.repo.fail_step(step_id, f"{type(exc).__name__}: {exc}")
            raise StepError(name, str(exc)) from exc
        except Exception as exc:
            log.exception("step %s of %s failed", name, job_id)
            svc.repo.fail_step(step_id, f"{type(exc).__name__}: {exc}")
            raise StepError(name, f"{type(exc).__name__}: {exc}") from exc
        seconds = round(time.perf_counter() - started, 3)
        svc.repo.finish_step(step_id, {"seconds": seconds})
        log.info("step %s of %s done in %.3f s", name, job_id, seconds,
                 extra={"job_id": job_id, "step": name, "seconds": seconds})
        progress.emit_event({"type": STEP_DONE, "step": name, "seconds": seconds})
        return update

    node.__name__ = name
    return node


# --- routing -------------------------------------------------------------------------


def _after_approved_script(state: PipelineState) -> str:
    steps = MEDIA_STEPS[state["brief"].format]
    return steps[0] if steps else "qa"


def _last_decision(state: PipelineState, stage: str) -> str:
    for decision in reversed(state.get("decisions", [])):
        if decision.stage == stage:
            return decision.action
    return "approve"


def route_after_write(state: PipelineState) -> str:
    # A rewrite that QA asked for goes straight back to the checks; a first draft or
    # a reviewer's revision goes to a person.
    if state.get("rewrite_reason") == "qa":
        return _after_approved_script(state)
    return "review_script"


def route_after_review(stage: str) -> Callable[[PipelineState], str]:
    def route(state: PipelineState) -> str:
        action = _last_decision(state, stage)
        if action == "reject":
            return END
        if action == "revise":
            return "write"
        return _after_approved_script(state) if stage == "review_script" else "publish"

    return route


def route_after_qa(state: PipelineState) -> str:
    return "write" if state.get("rewrite_reason") == "qa" else "review_final"


def route_after_media(step: str) -> Callable[[PipelineState], str]:
    """The next media step for the job's format, then QA."""

    def route(state: PipelineState) -> str:
        steps = MEDIA_STEPS[state["brief"].format]
        following = steps[steps.index(step) + 1:] if step in steps else []
        return following[0] if following else "qa"

    return route


def build_graph(svc: Services, checkpointer: BaseCheckpointSaver | None = None) -> Any:
    """The compiled pipeline, checkpointed by ``checkpointer``."""
    builder: Any = StateGraph(PipelineState)  # Any: langgraph's overloads defeat mypy here
    for name, fn in {**CORE_NODES, **MEDIA_NODES}.items():
        builder.add_node(name, tracked(name, fn, svc))
    builder.add_edge(START, "brief")
    builder.add_edge("brief", "research")
    builder.add_edge("research", "write")
    builder.add_edge("write", "redact")
    builder.add_conditional_edges("redact", route_after_write)
    builder.add_conditional_edges("review_script", route_after_review("review_script"))
    for step in MEDIA_NODES:
        builder.add_conditional_edges(step, route_after_media(step))
    builder.add_conditional_edges("qa", route_after_qa)
    builder.add_conditional_edges("review_final", route_after_review("review_final"))
    builder.add_edge("publish", END)
    return builder.compile(checkpointer=checkpointer)
