"""research: find what the knowledge base knows about the topic, keeping every source."""

from __future__ import annotations

from assistant.errors import NoSourcesError
from assistant.graph.progress import emit
from assistant.graph.state import PipelineState, Research
from assistant.services import Services

STEP = "research"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief = state["brief"]
    kb = svc.kb()
    emit(STEP, f"searching the knowledge base for {brief.topic!r}", 10)
    findings = kb.search(brief.topic)
    if not findings:
        raise NoSourcesError(
            f"the knowledge base has nothing on {brief.topic!r}: add sources with "
            f"`assistant kb add PATH...` and run `assistant resume {state['job_id']}`"
        )
    sources = []
    for source_id in dict.fromkeys(f.source_id for f in findings):
        source = kb.source(source_id)
        if source is not None:
            sources.append(source)
    research = Research(query=brief.topic, findings=findings, sources=sources)
    svc.objects.put(state["job_id"], "research.json", research.model_dump_json(indent=2),
                    step=STEP, type="research", mime="application/json")
    emit(STEP, f"{len(findings)} passages from {len(sources)} sources", 100,
         sources=[s.title for s in sources])
    return {"research": research}
