"""From passages the gate kept to what the writer gets: findings, sources and coverage.

Findings are bounded per depth and spread over the facets (round robin, best first within
each), with at most a third of them from one document while other documents' passages
wait, so one long page cannot crowd out the rest (room left over goes to it after all).
Coverage says, per planned facet, whether any kept passage supports it. The request's own
facet needs more than a passage *about* the subject: one sentence of it must
mention (nearly) all the request's key terms and the facet's marker ("how octopuses change
colour" is not covered by a sentence about octopus anatomy, only by one about octopuses
changing colour *by* some means).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from assistant.content import Coverage, Finding, Source
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.research.gather import Fetched
from assistant.tools.research.planning import FACET_BY_NAME, Facet, Plan, supports
from assistant.tools.research.relevance import Gate, Passage
from assistant.tools.research.terms import coverage, stem_line

# Share of the request's key-term weight one sentence needs to answer the request itself.
ANSWER_MIN = 0.85


def source_id(fetched: Fetched) -> str:
    """The knowledge base's own id for its documents, else one from provider and URL."""
    if fetched.source_id:
        return fetched.source_id
    doc = fetched.document
    digest = hashlib.sha1(f"{doc.provider}|{doc.url}".encode()).hexdigest()[:10]
    return f"{doc.provider}-{digest}"


def answers(gate: Gate, facet: Facet, passage: Passage) -> bool:
    """Whether a sentence of ``passage`` answers the request itself (its primary facet)."""
    for sentence in split_sentences(passage.text):
        line = stem_line(f"{passage.title}: {sentence}", gate.language)
        if coverage(gate.terms, line) >= ANSWER_MIN and supports(facet, sentence):
            return True
    return False


def facets_of(gate: Gate, plan: Plan, passage: Passage) -> list[str]:
    """The planned facets a kept passage supports, in plan order."""
    primary = plan.queries[0].facet
    out = []
    for facet in plan.facets():
        if facet.name == primary:
            if answers(gate, facet, passage):
                out.append(facet.name)
        elif supports(facet, passage.text):
            out.append(facet.name)
    return list(dict.fromkeys(out))


def select(
    gate: Gate, plan: Plan, kept: list[Passage], fetched: list[Fetched]
) -> tuple[list[Finding], list[Source], list[Coverage]]:
    """Findings (best first), the sources they cite, and coverage per planned facet."""
    support: dict[int, list[str]] = {id(p): facets_of(gate, plan, p) for p in kept}
    by_facet: dict[str, list[Passage]] = defaultdict(list)
    for passage in kept:  # kept is best first
        found_by = fetched[passage.doc].facet
        supported = support[id(passage)]
        if found_by in supported:
            facet = found_by
        elif supported:
            facet = supported[0]
        else:  # about the subject, no particular facet: background for "what it is"
            facet = "overview"
        by_facet[facet].append(passage)
    per_doc_cap = max(2, plan.findings // 3)
    chosen: list[tuple[Passage, str]] = []
    per_doc: dict[int, int] = defaultdict(int)
    order = list(dict.fromkeys([q.facet for q in plan.queries] + list(by_facet)))
    queues = {facet: list(by_facet.get(facet, [])) for facet in order}
    while len(chosen) < plan.findings and any(queues.values()):
        for facet in order:
            queue = queues[facet]
            while queue and per_doc[queue[0].doc] >= per_doc_cap:
                queue.pop(0)
            if queue and len(chosen) < plan.findings:
                passage = queue.pop(0)
                per_doc[passage.doc] += 1
                chosen.append((passage, facet))
    # The cap shares the room between documents; it does not waste it. Room no other
    # document fills goes to the capped ones, best first: a person's one page about the
    # request ("Harrowgate Lane ... Notice to Residents", 8 passages) reached the writer as
    # 4 passages at shallow depth with nothing else retrieved.
    taken = {id(p) for p, _ in chosen}
    spare = [(p, facet) for facet in order for p in by_facet.get(facet, []) if id(p) not in taken]
    spare.sort(key=lambda pair: -pair[0].relevance)
    chosen += spare[:max(0, plan.findings - len(chosen))]
    chosen.sort(key=lambda pair: -pair[0].relevance)
    findings = [
        Finding(text=p.text, source_id=source_id(fetched[p.doc]), heading=p.heading,
                score=p.similarity, chunk_index=p.position, facet=facet, relevance=p.relevance)
        for p, facet in chosen
    ]  # fmt: skip
    sources = _sources(fetched, [p.doc for p, _ in chosen])
    cover = [
        Coverage(facet=q.facet, query=q.query,
                 passages=sum(1 for p in kept if q.facet in support[id(p)]),
                 covered=any(q.facet in support[id(p)] for p in kept))
        for q in plan.queries if q.facet in FACET_BY_NAME
    ]  # fmt: skip
    return findings, sources, cover


def _sources(fetched: list[Fetched], docs: list[int]) -> list[Source]:
    out: dict[str, Source] = {}
    for index in docs:
        item = fetched[index]
        sid = source_id(item)
        if sid in out:
            continue
        doc = item.document
        public = doc.url if doc.url.startswith(("http://", "https://")) else ""
        out[sid] = Source(
            id=sid, title=doc.title, uri=public or doc.url, url=public, provider=doc.provider,
            license=doc.license, language=doc.language, retrieved_at=doc.retrieved_at,
        )  # fmt: skip
    return list(out.values())
