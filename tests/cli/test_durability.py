"""A job killed with SIGKILL at the worst moments resumes with nothing redone or duplicated."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.helpers import assistant, query, show, spawn, wait_for

pytestmark = pytest.mark.slow


def assert_clean_finish(data: Path, job_id: str) -> dict:  # type: ignore[type-arg]
    result = assistant(data, "resume", job_id, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    report = show(data, job_id)
    assert report["status"] == "published"
    names = Counter(s["name"] for s in report["steps"])
    # Each step ran to completion exactly once (a killed step's row is reused, not added).
    assert all(n == 1 for n in names.values()), names
    assert all(s["status"] == "completed" for s in report["steps"])
    versions = Counter((a["name"], a["version"]) for a in report["artifacts"])
    assert all(n == 1 for n in versions.values()), versions
    assert len(report["publications"]) == 1
    assert len(query(data, "select id from approvals where job_id = ?", job_id)) == 2
    again = assistant(data, "resume", job_id, "--yes")
    assert again.returncode != 0 and "already published" in again.stderr
    return report


def test_killed_during_write_resumes_without_redoing_research(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = spawn(data, "make", "how tides work", "--format", "blog", "--yes")
    try:
        wait_for(data, "select id from job_steps where name='write' and status='processing'",
                 proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    job_id = query(data, "select id from jobs")[0][0]
    research_before = query(data, "select id, completed_at from job_steps where name='research'")
    report = assert_clean_finish(data, job_id)
    research_after = query(data, "select id, completed_at from job_steps where name='research'")
    assert research_before == research_after  # finished before the kill: not redone
    write = next(s for s in report["steps"] if s["name"] == "write")
    assert write["retries"] == 1  # the killed attempt, then the one that finished


def test_killed_while_waiting_for_approval_keeps_the_review(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = spawn(data, "make", "how tides work", "--format", "blog")  # asks in the terminal
    try:
        wait_for(data, "select id from jobs where status='review'", proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    job_id = query(data, "select id from jobs")[0][0]
    pending = query(data, "select stage, status from approvals where job_id = ?", job_id)
    assert pending == [("review_script", "pending")]
    writes_before = query(data, "select count(*) from job_steps where name='write'")
    assert_clean_finish(data, job_id)
    assert query(data, "select count(*) from job_steps where name='write'") == writes_before
