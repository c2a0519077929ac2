"""Research's per-document cap shares the findings' room between documents; it does not
waste it. A person's one page about the request reached the writer as 4 of its 8 passages
at shallow depth with nothing else retrieved; now every passage the gate keeps does, and
with other documents competing the cap still holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app.studio import Services
from assistant.content import Brief, Research
from assistant.graph.nodes import research
from assistant.tools.knowledge.embeddings import get_embedder
from assistant.tools.research.base import Document
from assistant.tools.research.gather import Fetched
from assistant.tools.research.planning import DEPTHS, facet_plan
from assistant.tools.research.relevance import Gate, Passage
from assistant.tools.research.select import select, source_id

NOTICE = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "kb" / \
    "harrowgate-lane-water-main.md"


def researched(svc: Services, topic: str, job_id: str) -> Research:
    brief = Brief.create(topic, "short")  # shallow: 12 findings, 4 per document while shared
    svc.repo.create_job(job_id, title=topic, content_type="short", input_data=brief.model_dump())
    found = research.run({"job_id": job_id, "brief": brief}, svc)["research"]
    assert isinstance(found, Research)
    return found


def test_one_page_about_the_request_reaches_the_writer_whole(svc: Services) -> None:
    svc.settings.research_providers = "kb"
    assert svc.kb().add([NOTICE])[0].status == "added"
    found = researched(svc, "the Harrowgate Lane water main replacement", "job-room-1")
    cap = max(2, DEPTHS["shallow"].findings // 3)
    assert len({f.source_id for f in found.findings}) == 1
    assert len(found.findings) > cap
    text = " ".join(f.text for f in found.findings)
    for fact in ("214 households", "9:00 and 15:00", "St Aidan's Church Hall", "SVW-4471"):
        assert fact in text


def _kept(doc: int, count: int) -> list[Passage]:
    return [Passage(text=f"Tides rise and fall, passage {n} of document {doc}.", doc=doc,
                    position=n, similarity=0.9 - n / 100, coverage=1.0, required_ok=True)
            for n in range(count)]


def _fetched(doc: int) -> Fetched:
    return Fetched(Document(url=f"kb://doc-{doc}", title=f"Tides {doc}", text="",
                            provider="kb"), facet="mechanism", query="how tides work")


@pytest.mark.parametrize(("counts", "chosen"), [
    ((10,), (10,)),  # alone: every passage, up to the depth's room (12)
    ((10, 3), (9, 3)),  # the short document's room left over goes to the long one
    ((10, 10, 10), (4, 4, 4)),  # all competing: a third each, the cap holds
])
def test_the_cap_shares_the_room_and_wastes_none(counts: tuple[int, ...],
                                                 chosen: tuple[int, ...]) -> None:
    embedder = get_embedder()
    gate = Gate("how tides work", embedder, None)
    plan = facet_plan("how tides work", "shallow")
    kept = [p for doc, n in enumerate(counts) for p in _kept(doc, n)]
    fetched = [_fetched(doc) for doc in range(len(counts))]
    findings, _, _ = select(gate, plan, kept, fetched)
    per_doc = [sum(f.source_id == source_id(fetched[d]) for f in findings)
               for d in range(len(counts))]
    assert tuple(per_doc) == chosen
