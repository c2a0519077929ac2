"""review_script / review_final: stop and ask a person.

The node pauses the graph with ``interrupt(payload)``; the payload follows the
LangGraph Agent Inbox shape so any inbox UI can show it. The run resumes with
``Command(resume={"action": "approve"|"revise"|"reject", "notes": str, "by": user})``.
LangGraph re-runs this node from the top on resume, so everything before the
interrupt is idempotent (the approval row is keyed by job, stage and round).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langgraph.types import interrupt
from pydantic import ValidationError

from assistant.content import ReviewDecision
from assistant.errors import InputError
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.publishing.schedule import review_schedule
from assistant.tools.writing.templates import render_markdown

STAGES = {
    "review_script": "Review the script before media is made",
    "review_final": "Final review before publishing",
}


def review_round(state: PipelineState, stage: str) -> int:
    return 1 + sum(1 for d in state.get("decisions", []) if d.stage == stage)


def build_request(state: PipelineState, stage: str) -> dict[str, Any]:
    """The Agent Inbox request for this review."""
    script, brief = state["script"], state["brief"]
    qa = state.get("qa") if stage == "review_final" else None
    preview = {
        "job_id": state["job_id"],
        "stage": stage,
        "round": review_round(state, stage),
        "title": script.title,
        "format": brief.format,
        "words": script.word_count(),
        "version": script.version,
        "markdown": render_markdown(script, brief),
        "writer_notes": script.notes,
        "qa": None if qa is None else {
            "passed": qa.passed,
            "checks": [c.model_dump() for c in qa.checks],
            "redactions": qa.redactions,
        },
    }
    return {
        "action_request": {"action": stage, "args": preview},
        "config": {
            "allow_accept": True,
            "allow_edit": False,
            "allow_respond": True,
            "allow_ignore": True,
        },
        "description": f"{STAGES[stage]}: {script.title}",
    }


def parse_decision(value: Any, stage: str) -> ReviewDecision:
    if isinstance(value, ReviewDecision):
        return value.model_copy(update={"stage": stage})
    try:
        decision = ReviewDecision.model_validate({**dict(value), "stage": stage})
    except (ValidationError, TypeError, ValueError) as exc:
        raise InputError(
            "a review answer is {'action': 'approve'|'revise'|'reject', 'notes': ..., 'by': ...}"
        ) from exc
    if decision.action == "revise" and not decision.notes.strip():
        raise InputError("a revision needs notes that say what to change")
    return decision


def make(stage: str) -> Callable[[PipelineState, Services], dict[str, object]]:
    def run(state: PipelineState, svc: Services) -> dict[str, object]:
        request = build_request(state, stage)
        if stage == "review_final":  # when each platform gets it, approved with the piece
            _add_schedule(request["action_request"]["args"], state, svc)
        round_ = request["action_request"]["args"]["round"]
        svc.repo.request_approval(state["job_id"], stage, round_, request["action_request"])
        decision = parse_decision(interrupt(request), stage)
        svc.repo.decide_approval(state["job_id"], stage, round_, decision.action, decision.by,
                                 decision.notes)
        update: dict[str, object] = {"decisions": [decision]}
        if decision.action == "revise":
            update["revision_notes"] = [decision.notes]
            update["rewrite_reason"] = "human"
            update["qa_rounds"] = 0  # a person asked for changes: QA may loop again
        elif decision.action == "reject":
            update["status"] = "rejected"
        return update

    run.__name__ = stage
    return run


def _add_schedule(args: dict[str, Any], state: PipelineState, svc: Services) -> None:
    args["schedule"], text = review_schedule(svc.settings, svc.repo, svc.db, state["job_id"],
                                             state["brief"], datetime.now(UTC))
    if text:
        args["markdown"] = f"{args['markdown'].rstrip()}\n\n{text}\n"
