"""Research end to end through the real `assistant` command, offline, on a fresh data dir:
the offline encyclopedia answers what the sample pages do not, and a request nothing
covers stops with one line and resumes after `assistant kb add`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import artifact_files, assistant, query, show

pytestmark = pytest.mark.slow

ZORVATH = "the Zorvath Institute's 2027 budget"
FAST_MODEL = {"ASSISTANT_LLM_MODEL": "smollm2-135m"}  # these tests judge research, not prose


def research_of(data: Path, job_id: str) -> dict[str, Any]:
    paths = artifact_files(data, job_id)
    research: dict[str, Any] = json.loads(paths["research.json"].read_text(encoding="utf-8"))
    return research


def test_octopus_short_cites_the_encyclopedia_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = assistant(data, "make", "how octopuses change colour", "-f", "short", "--yes",
                       **FAST_MODEL)
    # 0: published; 3: QA stopped --yes at the final review (the writer's business).
    assert result.returncode in (0, 3), result.stdout + result.stderr
    job_id = query(data, "select id from jobs")[0][0]
    report = show(data, job_id)
    research = research_of(data, job_id)
    urls = {s["url"] for s in research["sources"]}
    assert "https://en.wikipedia.org/wiki/Octopus" in urls
    assert {s["provider"] for s in research["sources"]} == {"encyclopedia"}
    text = " ".join(f["text"].lower() for f in research["findings"])
    assert not any(w in text for w in ("chlorophyll", "photosynthesis", "sky", "tide"))
    coverage = {c["facet"]: c["covered"] for c in research["coverage"]}
    assert coverage == {"mechanism": False, "overview": True}  # colour change itself: not found
    names = [a["name"] for a in report["artifacts"]]
    assert any(n.startswith("research/") and n.endswith("-octopus.txt") for n in names)
    script = artifact_files(data, job_id)["script.json"]
    cited = {c["url"] for c in json.loads(script.read_text())["citations"]}
    assert cited <= urls and "https://en.wikipedia.org/wiki/Octopus" in cited


def test_a_request_nothing_covers_stops_and_resumes_after_kb_add(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = assistant(data, "make", ZORVATH, "-f", "short", "--yes", **FAST_MODEL)
    assert result.returncode != 0
    job = query(data, "select id from jobs")[0][0]
    message = (
        f"nothing in your sources or the encyclopedia is about '{ZORVATH}': add sources with "
        f"`assistant kb add PATH` and run `assistant resume {job}`, or enable web research "
        "with ASSISTANT_RESEARCH_PROVIDERS=kb,encyclopedia,wikipedia,searxng")
    report = show(data, job)
    assert report["status"] == "failed" and report["error"] == message
    assert [(s["name"], s["status"]) for s in report["steps"]] == [
        ("brief", "completed"), ("research", "failed")]
    printed = " ".join((result.stdout + result.stderr).split())
    assert message in printed

    page = tmp_path / "zorvath-budget.md"
    page.write_text("# Zorvath Institute budget 2027\n\nThe Zorvath Institute's board approved "
                    "a 2027 budget of 4.2 million euros, most of it for its two research "
                    "stations. The Zorvath Institute will spend 1.1 million euros of the 2027 "
                    "budget on a new research vessel. Staff costs in the Zorvath Institute's "
                    "2027 budget rise by 6 percent, to 1.9 million euros.\n", encoding="utf-8")
    added = assistant(data, "kb", "add", str(page))
    assert added.returncode == 0, added.stdout + added.stderr
    resumed = assistant(data, "resume", job, **FAST_MODEL)  # no --yes: stops at the review
    report = show(data, job)
    # Research now finds the page; how far writing gets from it is the writer's business.
    research_steps = [s["status"] for s in report["steps"] if s["name"] == "research"]
    assert research_steps[-1] == "completed", resumed.stdout + resumed.stderr
    assert "nothing in your sources" not in resumed.stdout + resumed.stderr
    research = research_of(data, job)
    sources = research["sources"]
    assert [(s["provider"], s["title"]) for s in sources] == [
        ("kb", "Zorvath Institute budget 2027")]
    assert sources[0]["url"] == ""  # a local file: no public URL
    assert "4.2 million euros" in research["findings"][0]["text"]
