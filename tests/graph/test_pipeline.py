"""The whole text pipeline with a scripted chat model: routing, reviews, QA loop, publishing.

Storage, knowledge base, embeddings, templates and QA are real; only the model's
replies are scripted, so each route is exercised on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from assistant.app.runner import Event, JobRunner
from assistant.app.studio import Services
from assistant.content import Brief, ReviewDecision
from tests.fakes import FRAMING, draft, scripted


@pytest.fixture
def runner(tides_kb: Services) -> Iterator[JobRunner]:
    tides_kb.set_chat(scripted(FRAMING))
    job_runner = JobRunner(tides_kb)
    yield job_runner
    job_runner.close()


APPROVE = ReviewDecision(action="approve", by="tester")


def start(runner: JobRunner, topic: str = "how tides work", fmt: str = "blog",
          events: list[Event] | None = None):  # type: ignore[no-untyped-def]
    brief = Brief.create(topic, fmt)  # type: ignore[arg-type]
    job = runner.create(brief)
    sink = events.append if events is not None else None
    return job, runner.start(job, brief, sink)


def test_blog_runs_to_publication_with_two_approvals(runner: JobRunner) -> None:
    events: list[Event] = []
    job, outcome = start(runner, events=events)
    assert outcome.status == "review"
    assert outcome.review and outcome.review["action_request"]["action"] == "review_script"
    assert outcome.review["config"]["allow_accept"] is True
    assert runner.svc.repo.get_job(job).status == "review"

    outcome = runner.resume(job, APPROVE, events.append)
    assert outcome.status == "review"
    assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
    qa = outcome.review["action_request"]["args"]["qa"]
    assert {c["name"] for c in qa["checks"]} >= {"length", "hook", "brand", "citations", "pii"}

    outcome = runner.resume(job, APPROVE, events.append)
    assert outcome.status == "published"
    assert outcome.publication and outcome.publication.endswith("post.md")

    published = Path(outcome.publication).read_text(encoding="utf-8")
    assert published.startswith("# How Tides Work")
    assert "## Sources" in published and "How Tides Work" in published
    assert "Made with AI assistance" in published
    # Every step left a row with a duration; progress was streamed.
    steps = runner.svc.repo.list_steps(job)
    assert [s.name for s in steps] == [
        "brief", "research", "write", "redact", "review_script", "qa", "review_final",
        "publish"]
    assert all(s.status == "completed" and s.duration_ms is not None for s in steps)
    assert any(e.kind == "progress" and e.step == "research" for e in events)
    # One publication, one feed entry.
    assert len(runner.svc.repo.publications(job)) == 1
    feed = ET.parse(runner.svc.settings.outbox_dir / "feed.xml").getroot()
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 1
    names = {a.name for a in runner.svc.objects.list(job)}
    assert {"brief.json", "research.json", "script.json", "script.md", "qa.json",
            "final.md"} <= names


def test_grounded_body_quotes_sources_and_cites_them(runner: JobRunner) -> None:
    job, _ = start(runner)
    script = runner.state(job)["script"]
    research = runner.state(job)["research"]
    source_text = " ".join(f.text for f in research.findings)
    for section in script.sections:
        assert section.citations, section
        for sentence in section.text.split(". "):
            assert sentence.rstrip(".") in source_text
    # The target length, or an honest stop that says why (never padding).
    assert 680 <= script.word_count() <= 920 or (
        script.notes and script.notes[0].startswith(
            f"sources too thin: {script.word_count()} of 800 words"))
    assert script.word_count() <= 920


def test_revise_loops_back_to_write_with_the_notes(runner: JobRunner) -> None:
    job, _ = start(runner)
    chat = runner.svc.chat().model
    outcome = runner.resume(job, ReviewDecision(action="revise", notes="make the hook punchier",
                                                by="tester"))
    assert outcome.status == "review"
    args = outcome.review["action_request"]["args"]  # type: ignore[index]
    assert args["stage"] == "review_script" and args["round"] == 2 and args["version"] == 2
    assert "make the hook punchier" in chat.prompts[-1]  # type: ignore[attr-defined]
    versions = sorted(a.version for a in runner.svc.objects.list(job) if a.name == "script.md")
    assert versions == [1, 2]


def test_reject_ends_the_job_without_publishing(runner: JobRunner) -> None:
    job, _ = start(runner)
    outcome = runner.resume(job, ReviewDecision(action="reject", by="tester"))
    assert outcome.status == "rejected"
    assert runner.svc.repo.get_job(job).status == "rejected"
    assert runner.svc.repo.publications(job) == []


def test_qa_failures_loop_back_a_bounded_number_of_times(tides_kb: Services) -> None:
    tides_kb.settings.writer_mode = "generative"
    tides_kb.settings.max_qa_rounds = 2
    sid = tides_kb.kb().sources()[0].id
    bad = draft(call_to_action="Click here for guaranteed results.")
    for s in bad["sections"]:
        s["citations"] = [sid]
    tides_kb.set_chat(scripted(bad))
    runner = JobRunner(tides_kb)
    try:
        job, outcome = start(runner)
        # The writer refuses the banned call to action itself (its checks are QA's).
        script = runner.state(job)["script"]
        assert "guaranteed results" not in script.call_to_action.lower()
        # A failure no rewrite can fix: a cited source's file disappears before QA.
        cited = {s.id for s in script.citations}
        for source in runner.state(job)["research"].sources:
            if source.id in cited and source.uri.startswith("file://"):
                Path(source.uri.removeprefix("file://")).unlink()
        outcome = runner.resume(job, APPROVE)
        assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
        state = runner.state(job)
        assert state["qa_rounds"] == 3  # first check + two bounded rewrites
        assert not state["qa"].passed
        citations = next(c for c in state["qa"].checks if c.name == "citations")
        assert "missing file" in citations.message
        assert [s.name for s in runner.svc.repo.list_steps(job)].count("write") == 3
    finally:
        runner.close()


OFFICE = """# The Harbour Tide Office

The harbour tide office publishes tide tables that show when the tide will be high or low at
the port. Tide tables list the expected times and heights of high and low water for the
harbour, a year ahead. Sailors and fishers read the harbour tide tables before they leave the
port. Questions about the harbour tide tables go to jane.doe@example.com or +1 415-555-0132.
"""


def test_personal_data_is_taken_out_before_the_reviewer_sees_the_script(
        svc: Services, tmp_path: Path) -> None:
    """A model writes a source's contact line and an invented number: the writer keeps
    the source's sentence out of its pool (brand rules treat personal data like a banned
    phrase), its verifier removes the model's sentences, and ``redact`` cleans what is left
    (the verifier's note quoting them) before the script review: the reviewer, every stored
    script and QA's report see placeholders only (tests/graph/test_redact_node.py has redact
    taking a model's values out of the piece itself)."""
    page = tmp_path / "tide-office.md"
    page.write_text(OFFICE, encoding="utf-8")
    svc.kb().add([page])
    svc.settings.writer_mode = "generative"
    sid = svc.kb().sources()[0].id
    leaky = draft()
    leaky["sections"] = [
        {"heading": "Tide tables", "citations": [sid], "text": (
            "Tide tables list the expected times and heights of high and low water for the "
            "harbour, a year ahead. Call Bob on +44 20 7946 0018 for a guaranteed tide.")},
        {"heading": "Questions", "citations": [sid], "text": (
            "Questions about the harbour tide tables go to jane.doe@example.com or "
            "+1 415-555-0132.")},
    ]
    svc.set_chat(scripted(leaky))
    runner = JobRunner(svc)
    values = ("jane.doe@example.com", "555-0132")
    try:
        brief = Brief.create("the harbour tide tables", "blog")
        job = runner.create(brief)
        outcome = runner.start(job, brief)
        assert outcome.review and outcome.review["action_request"]["action"] == "review_script"
        shown = json.dumps(outcome.review)
        assert not any(v in shown for v in values), shown
        # The writer kept the source's contact sentence out (brand rules); its verifier's
        # note quoting the model's sentence was cleaned.
        assert "[email]" in shown
        script = runner.state(job)["script"]
        assert not any(v in script.model_dump_json() for v in values)
        assert "7946" not in script.body_text()  # invented: the verifier removed it
        # write's own copies of the draft were replaced in place, under the same version
        for name in ("script.json", "script.md"):
            stored = runner.svc.objects.read(job, name).decode()
            assert not any(v in stored for v in values), name
        outcome = runner.resume(job, APPROVE)
        qa = runner.state(job)["qa"]
        pii = next(c for c in qa.checks if c.name == "pii")
        assert pii.passed, pii
        outcome = runner.resume(job, APPROVE)
        text = Path(outcome.publication).read_text(encoding="utf-8")  # type: ignore[arg-type]
        assert not any(v in text for v in values)
        for record in runner.svc.objects.list(job):
            if record.name.startswith(("script", "qa", "final")):
                data = Path(record.path).read_bytes().decode()
                assert not any(v in data for v in values), record.name
    finally:
        runner.close()


@pytest.mark.parametrize("fmt", ["short", "video", "podcast", "social"])
def test_every_format_writes_a_script_of_its_length(runner: JobRunner, fmt: str) -> None:
    job, outcome = start(runner, fmt=fmt)
    assert outcome.status == "review"
    script = runner.state(job)["script"]
    brief = runner.state(job)["brief"]
    assert script.format == fmt
    assert script.word_count() <= brief.target_words * 1.3
    if fmt == "short":
        assert 3 <= len(script.sections) <= 4
        assert all(s.visual_prompt and s.target_seconds > 0 for s in script.sections)


@pytest.mark.parametrize("note,factor", [
    ("make it shorter", 0.75), ("QA: length: 900 words (target 800): too long", 0.75),
    ("it is too short, expand the middle", 1.25), ("make the hook punchier", 1.0),
])
def test_length_notes_scale_the_target(note: str, factor: float) -> None:
    from assistant.graph.nodes.write import adjusted_target

    brief = Brief.create("how tides work", "short")
    sized = adjusted_target(brief, [note])
    assert sized.target_words == int(brief.target_words * factor)
