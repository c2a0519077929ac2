"""Research planning: sub-queries per depth and facet, from the facets or from a model."""

from __future__ import annotations

import pytest

from assistant.content import DEPTHS as DEPTH_NAMES
from assistant.tools.research.planning import (
    DEPTHS,
    FACET_BY_NAME,
    facet_plan,
    plan_research,
    primary_facet,
    subject_of,
    supports,
)
from tests.fakes import scripted


@pytest.mark.parametrize(("depth", "queries", "hits"), [
    ("shallow", 2, 4), ("deep", 4, 6), ("exhaustive", 6, 8),
])
def test_depth_sets_sub_queries_and_hits(depth: str, queries: int, hits: int) -> None:
    plan = facet_plan("how octopuses change colour", depth)  # type: ignore[arg-type]
    assert len(plan.queries) == queries
    assert plan.hits == hits
    assert len({q.facet for q in plan.queries}) == queries  # one per facet
    assert plan.queries[0].query == "how octopuses change colour"  # the request itself first


def test_every_depth_of_the_content_model_has_a_plan() -> None:
    assert set(DEPTHS) == set(DEPTH_NAMES)
    sizes = [DEPTHS[d] for d in DEPTH_NAMES]
    assert [s.queries for s in sizes] == sorted(s.queries for s in sizes)
    assert [s.findings for s in sizes] == sorted(s.findings for s in sizes)


@pytest.mark.parametrize(("topic", "facet", "subject"), [
    ("how a heat pump works in winter", "mechanism", "heat pump in winter"),
    ("how does a bicycle work", "mechanism", "bicycle"),
    ("why the sky is blue", "mechanism", "sky is blue"),
    ("the history of the shipping container", "history", "shipping container"),
    ("what is a black hole", "overview", "black hole"),
    ("examples of camouflage", "examples", "camouflage"),
    ("how many stars are in the Milky Way", "numbers", "stars are in the Milky Way"),
    ("compound interest for teenagers", "overview", "compound interest for teenagers"),
])
def test_the_request_form_picks_the_first_facet(topic: str, facet: str, subject: str) -> None:
    assert primary_facet(topic) == facet
    assert subject_of(topic) == subject
    plan = facet_plan(topic, "deep")
    assert plan.queries[0].facet == facet
    assert all(subject in q.query for q in plan.queries[1:])


def test_facet_markers() -> None:
    assert supports(FACET_BY_NAME["history"], "Gustave Eiffel's company built it in 1889.")
    assert not supports(FACET_BY_NAME["history"], "The tower is made of wrought iron.")
    assert supports(FACET_BY_NAME["mechanism"], "It moves heat by compressing a refrigerant.")
    assert supports(FACET_BY_NAME["overview"], "Anything about the subject.")


def test_the_embedded_model_is_not_asked() -> None:
    chat = scripted({"queries": [{"facet": "history", "query": "never used"}]})
    plan = plan_research("how tides work", "shallow", provider="embedded", chat=chat)
    assert plan.by == "facets"
    assert chat.model.prompts == []  # type: ignore[attr-defined]


def test_a_capable_model_writes_the_sub_queries() -> None:
    chat = scripted({"queries": [
        {"facet": "mechanism", "query": "how tides work"},
        {"facet": "history", "query": "history of tide prediction machines"},
        {"facet": "numbers", "query": "largest tidal range in the world"},
        {"facet": "examples", "query": "Bay of Fundy tides"},
    ]})
    plan = plan_research("how tides work", "deep", provider="openai", chat=chat)
    assert plan.by == "model"
    assert [q.facet for q in plan.queries] == ["mechanism", "history", "numbers", "examples"]
    assert plan.queries[1].query == "history of tide prediction machines"


def test_a_failing_model_falls_back_to_the_facets() -> None:
    chat = scripted("not json at all", {"queries": [{"facet": "gossip", "query": "x"}]})
    plan = plan_research("how tides work", "shallow", provider="ollama", chat=chat)
    assert plan.by == "facets"
    assert [q.query for q in plan.queries] == ["how tides work", "tides"]
    assert plan.notes and "model failed" in plan.notes[0]
