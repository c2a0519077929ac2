"""research: find what the knowledge base knows about the topic, keeping every source."""

from __future__ import annotations

from pydantic import TypeAdapter

from assistant.content import Finding, Research
from assistant.errors import NoSourcesError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.infra.cache import research_cache, research_key

STEP = "research"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief = state["brief"]
    kb = svc.kb()
    emit(STEP, f"searching the knowledge base for {brief.topic!r}", 10)
    findings = _search(svc, brief.topic)
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


_FINDINGS = TypeAdapter(list[Finding])


def _search(svc: Services, query: str) -> list[Finding]:
    """``kb.search``, through the research cache (Redis or in-process; assistant.infra.cache)."""
    kb = svc.kb()
    cache = research_cache(svc.settings)
    embedder = str(getattr(kb.embedder, "name", type(kb.embedder).__name__))
    key = research_key(svc.settings, query, embedder, [s.id for s in kb.sources()])
    cached = cache.get(key)
    if cached is not None:
        try:
            return _FINDINGS.validate_json(cached)
        except ValueError:  # written by another version: search again
            pass
    findings = kb.search(query)
    if findings:
        cache.set(key, _FINDINGS.dump_json(findings).decode())
    return findings
