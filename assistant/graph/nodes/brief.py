"""brief: record what was asked, so the job is self-describing from its first step."""

from __future__ import annotations

from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState

STEP = "brief"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief = state["brief"]
    svc.objects.put(state["job_id"], "brief.json", brief.model_dump_json(indent=2), step=STEP,
                    type="brief", mime="application/json", version=1)
    length = f"{brief.target_seconds} s" if brief.spoken else f"{brief.target_words} words"
    emit(STEP, f"{brief.format}, {brief.style}, {length}: {brief.topic}", 100)
    return {"status": "running", "qa_rounds": 0}
