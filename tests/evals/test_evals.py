"""The eval metrics on hand-made scripts, and one real case through the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.content import Brief, Finding, Research, Script, Section, Source
from evals.metrics import (
    citation_coverage,
    fact_coverage,
    grounding,
    length_fit,
    source_recall,
)
from evals.run import Case, evaluate_case, load_cases, main
from tests.fakes import FRAMING, scripted

TIDES = Source(id="src-tides", title="How Tides Work", uri="kb://tides")
RESEARCH = Research(query="tides", sources=[TIDES], findings=[
    Finding(text="The Moon's gravity pulls the ocean into two bulges on opposite sides of "
                 "the Earth.", source_id="src-tides"),
    Finding(text="Most coasts see two high tides and two low tides every lunar day.",
            source_id="src-tides"),
])


def script(*texts: str, citations: list[str] | None = None) -> Script:
    return Script(format="blog", title="Tides", hook="Why does the sea move?",
                  sections=[Section(text=t, citations=citations or ["src-tides"]) for t in texts],
                  citations=[TIDES])


def test_grounding_tells_supported_sentences_from_made_up_ones() -> None:
    true = "The Moon's gravity pulls the ocean into two bulges."
    made_up = "Dolphins schedule the tides by singing to underwater volcanoes nightly."
    assert grounding(script(true), RESEARCH) == 1.0
    assert grounding(script(made_up), RESEARCH) == 0.0
    assert grounding(script(f"{true} {made_up}"), RESEARCH) == 0.5


def test_citations_sources_facts_and_length() -> None:
    assert citation_coverage(script("a b c", "d e f", citations=["nope"]), RESEARCH) == 0.0
    assert citation_coverage(script("a b c"), RESEARCH) == 1.0
    assert source_recall(script("x"), ["tides"]) == 1.0
    assert source_recall(script("x"), ["tides", "sky is blue"]) == 0.5
    body = script("The Moon pulls twice a day.")
    assert fact_coverage(body, [["moon"], ["gravity", "gravitational"]]) == 0.5
    assert length_fit(100, 100) == 1.0
    assert length_fit(75, 100) == 0.5
    assert length_fit(50, 100) == 0.0 and length_fit(200, 100) == 0.0
    assert length_fit(150, 100) == 0.5


def test_the_dataset_loads_and_names_every_format() -> None:
    cases = load_cases()
    assert len({c.id for c in cases}) == len(cases)
    assert {c.format for c in cases} == {"blog", "short", "social", "podcast"}
    for case in cases:
        Brief.create(case.topic, case.format, case.style)  # type: ignore[arg-type]


def test_a_case_runs_through_research_and_write_and_is_scored(settings: Settings) -> None:
    case = Case(id="tides", topic="how tides work", expected_sources=["tides"],
                facts=[["moon"], ["gravit"]])
    result = evaluate_case(case, settings.model_copy(update={"seed_sample_kb": True}),
                           chat=scripted(FRAMING))
    assert result.status == "scored", result.error
    assert result.scores is not None
    # the grounded writer composes from source sentences: everything it says is supported
    assert result.scores.grounding >= 0.9
    assert result.scores.citation_coverage == 1.0
    assert result.scores.source_recall == 1.0
    assert result.scores.fact_coverage == 1.0


def test_an_unknown_case_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert main(["--case", "nope", "--out", str(tmp_path / "r.json")]) == 2
    assert "unknown case(s): nope" in capsys.readouterr().out
    assert not (tmp_path / "r.json").exists()
    assert json  # the module writes JSON on success; covered by the run above
