"""research: find passages about the request, and only those, with their sources.

plan (sub-queries per depth) -> every provider in priority order searches every sub-query
(through the research cache) -> fetch -> near-duplicates dropped -> passages (sentences
that address a model dropped) -> relevance gate -> findings bounded per depth, spread over
the facets, each with its source's URL, provider and license -> coverage per facet.

Every document read is kept as an artifact (``research/NN-slug.txt``), and research.json
holds the findings, sources, coverage and notes. When nothing relevant is found the step
stops with NoSourcesError; the job keeps its state, and ``assistant resume JOB`` after
``assistant kb add`` searches again (the knowledge base's fingerprint is in the cache key).
"""

from __future__ import annotations

import logging
import re

from assistant.content import Brief, Research
from assistant.errors import ConfigError, NoSourcesError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.infra.cache import research_cache
from assistant.tools.knowledge.scopes import job_scopes
from assistant.tools.research import ONLINE_EXAMPLE, close_all, get_retrievers, provider_names
from assistant.tools.research.encyclopedia import Encyclopedia, term_stats
from assistant.tools.research.gather import Fetched, gather
from assistant.tools.research.planning import Plan, plan_research
from assistant.tools.research.relevance import Gate, Passage, split_passages
from assistant.tools.research.select import select
from assistant.tools.research.terms import TermStats

log = logging.getLogger(__name__)

STEP = "research"


def nothing_relevant(topic: str, job_id: str) -> str:
    return (
        f"nothing in your sources or the encyclopedia is about '{topic}': add sources with "
        f"`assistant kb add PATH` and run `assistant resume {job_id}`, or enable web research "
        f"with ASSISTANT_RESEARCH_PROVIDERS={ONLINE_EXAMPLE}"
    )


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, job_id = state["brief"], state["job_id"]
    settings = svc.settings
    names = provider_names(settings)
    chat = svc.chat() if settings.llm_provider != "embedded" else None
    plan = plan_research(brief.topic, brief.depth, provider=settings.llm_provider, chat=chat)
    emit(STEP, f"{brief.depth} research: {len(plan.queries)} searches in "
         f"{', '.join(names)}", 2, queries=[q.query for q in plan.queries])  # fmt: skip
    retrievers = get_retrievers(settings, kb=svc.kb() if "kb" in names else None,
                                embedder=svc.embedder(),
                                kb_scopes=job_scopes(svc.db, job_id))  # fmt: skip
    for retriever in retrievers:
        if isinstance(retriever, Encyclopedia):  # its index is built on first use: minutes
            retriever.progress = _indexing
    try:
        gathered = gather(retrievers, plan, brief.language, research_cache(settings),
                          lambda message, done: emit(STEP, message, 5 + 70 * done))
    finally:
        close_all(retrievers)
    notes = [*plan.notes, *gathered.notes]
    _store_documents(svc, job_id, gathered.fetched)

    emit(STEP, f"judging {len(gathered.fetched)} documents against '{brief.topic}'", 80)
    passages, dropped = _passages(gathered.fetched)
    if dropped:
        notes.append(f"{dropped} sentence{'s' if dropped != 1 else ''} that addressed a language "
                     "model (e.g. 'ignore previous instructions') dropped: retrieved text is "
                     "data, never instructions")  # fmt: skip
    gate = Gate(brief.topic, svc.embedder(), _term_stats(svc, brief, notes), brief.language)
    kept = gate.keep(passages)
    findings, sources, coverage = select(gate, plan, kept, gathered.fetched)
    for source in sources:  # a knowledge-base document is read again from our stored copy
        if source.provider == "kb" and (held := svc.kb().source(source.id)) is not None:
            source.uri = held.uri
    notes.append(f"{len(kept)} of {len(passages)} passages are about the request "
                 f"(key terms: {gate.describe() or 'none'})")  # fmt: skip
    missing = [c.facet for c in coverage if not c.covered]
    if findings and missing:
        notes.append(f"not covered: {', '.join(missing)}")
    research = Research(query=brief.topic, findings=findings, sources=sources,
                        coverage=coverage, notes=notes)  # fmt: skip
    svc.objects.put(job_id, "research.json", research.model_dump_json(indent=2), step=STEP,
                    type="research", mime="application/json")  # fmt: skip
    if not findings:
        raise NoSourcesError(nothing_relevant(brief.topic, job_id),
                             detail=f"research for {brief.topic!r}: " + "; ".join(notes))
    covered = [c.facet for c in coverage if c.covered]
    emit(STEP, f"{len(findings)} passages from {len(sources)} sources; covered: "
         f"{', '.join(covered) or 'none'}" + (f"; not covered: {', '.join(missing)}" if missing
                                              else ""), 100,
         sources=[s.title for s in sources])  # fmt: skip
    return {"research": research}


def _indexing(done: int, total: int) -> None:
    emit(STEP, f"indexing the offline encyclopedia, once: {done:,} of {total:,} entries",
         5 * done / max(total, 1))


def _passages(fetched: list[Fetched]) -> tuple[list[Passage], int]:
    out: list[Passage] = []
    dropped = 0
    for index, item in enumerate(fetched):
        passages, n = split_passages(item.document.text, index, item.document.title)
        out += passages
        dropped += n
    return out, dropped


def _term_stats(svc: Services, brief: Brief, notes: list[str]) -> TermStats | None:
    """Term rarity from the encyclopedia of the brief's language (its data, not its index)."""
    try:
        return term_stats(brief.language)
    except ConfigError as exc:
        notes.append(f"key terms weighted equally ({exc.user_message})")
        return None


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "document"


def _store_documents(svc: Services, job_id: str, fetched: list[Fetched]) -> None:
    """Every document research read, as the job's research/NN-slug.txt: what the sources
    said when the job read them, to show and re-check."""
    for number, item in enumerate(fetched, 1):
        doc = item.document
        header = (f"title: {doc.title}\nurl: {doc.url}\nprovider: {doc.provider}\n"
                  f"license: {doc.license or '-'}\nlanguage: {doc.language}\n"
                  f"retrieved_at: {doc.retrieved_at.isoformat()}\nfound by: {item.query}\n\n")
        svc.objects.put(job_id, f"research/{number:02d}-{_slug(doc.title)}.txt",
                        header + doc.text, step=STEP, type="research_document",
                        mime="text/plain",
                        meta={"url": doc.url, "provider": doc.provider})  # fmt: skip


__all__ = ["Plan", "run"]
