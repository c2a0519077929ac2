"""`--yes` never publishes over a QA error; `--force` does, and says so. Through the real CLI.

The failing script is made in-process (the scripted model writes, then a known defect is
planted in the script while it waits for its first review), so the gate is tested whatever
the writer of the day would have written. The CLI processes are the real `assistant`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.content import Brief, ReviewDecision
from tests.cli.helpers import TIMEOUT, assistant, env_for, query, show
from tests.fakes import FRAMING, scripted

INVENTED = "The Bay of Fundy tides reach 99 metres, says the Fundy Tidal Institute."


def job_failing_qa(svc: Services) -> str:
    """A job waiting at review_final whose QA found an invented number and name."""
    svc.set_chat(scripted(FRAMING))
    svc.settings.research_providers = "kb"  # the gate is under test, not the encyclopedia
    svc.settings.max_qa_rounds = 0  # straight to the person: no rewrite may hide the defect
    runner = JobRunner(svc)
    try:
        brief = Brief.create("how tides work", "blog", words=300)
        job = runner.create(brief)
        assert runner.start(job, brief).status == "review"
        config = {"configurable": {"thread_id": job}}
        script = runner.state(job)["script"]
        first = script.sections[0]
        planted = script.model_copy(update={"sections": [
            first.model_copy(update={"text": f"{first.text} {INVENTED}"}),
            *script.sections[1:]]})
        runner.graph.update_state(config, {"script": planted}, as_node="write")
        outcome = runner.resume(job)  # review_script again, for the planted script
        assert outcome.status == "review"
        outcome = runner.resume(job, ReviewDecision(action="approve", by="tester"))
        assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
        assert not runner.state(job)["qa"].passed
        return job
    finally:
        runner.close()


def test_yes_stops_at_the_final_review_and_force_publishes(tides_kb: Services) -> None:
    data = tides_kb.settings.resolved_data_dir
    job = job_failing_qa(tides_kb)
    tides_kb.close()

    blocked = assistant(data, "resume", job, "--yes")
    assert blocked.returncode == 3, blocked.stdout + blocked.stderr
    line = next(x for x in blocked.stderr.splitlines() if "not published" in x)
    assert f"{job} not published: QA failed (" in line
    assert "invented_facts" in line and "support" in line
    assert "99" in blocked.stdout  # the report shows what failed, and where
    assert "Published" not in blocked.stdout
    report = show(data, job)
    assert report["status"] == "review" and report["publications"] == []
    assert not (data / "outbox").exists() or not any((data / "outbox").rglob("*.md"))

    forced = assistant(data, "resume", job, "--yes", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "approved over failed QA checks (" in forced.stderr
    assert "because of --force" in forced.stderr
    assert "Published" in forced.stdout
    assert show(data, job)["status"] == "published"
    by = query(data, "select decided_by from approvals where stage = 'review_final'")
    assert by and "--force" in str(by[0][0])


def test_force_needs_yes(tmp_path: Path) -> None:
    result = assistant(tmp_path / "data", "resume", "job-x", "--force")
    assert result.returncode == 2
    assert "--force only changes what --yes approves" in result.stderr


def test_make_yes_exits_non_zero_and_publishes_nothing(tmp_path: Path) -> None:
    """`assistant make --yes` (the scripted model the only fake) on a piece that cannot pass:
    the brand rules ban the word the topic needs."""
    data = tmp_path / "data"
    rules = tmp_path / "rules.yaml"
    rules.write_text("banned_phrases: [tide]\nmax_hashtags: 6\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tests.production.scripted_app", "make", "how tides work",
         "--format", "blog", "--words", "300", "--yes"],
        env=env_for(data, ASSISTANT_BRAND_RULES_PATH=str(rules), ASSISTANT_MAX_QA_ROUNDS="0",
                    ASSISTANT_RESEARCH_PROVIDERS="kb"),
        capture_output=True, text=True, timeout=TIMEOUT, cwd=Path(__file__).parents[2])
    assert result.returncode == 3, result.stdout + result.stderr
    line = next(x for x in result.stderr.splitlines() if "not published" in x)
    assert "QA failed (" in line and "brand" in line
    assert "review_script: approved automatically (--yes)" in result.stdout
    assert "Published" not in result.stdout
    assert query(data, "select status from jobs") == [("review",)]
    assert query(data, "select count(*) from publications") in ([(0,)], [])
