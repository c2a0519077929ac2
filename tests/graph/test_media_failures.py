"""A media step that cannot run says which step and why, and the job resumes after the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.graph.state import Brief, ReviewDecision
from assistant.runner import JobRunner
from assistant.services import Services
from tests.fakes import FRAMING, scripted

pytestmark = pytest.mark.slow

APPROVE = ReviewDecision(action="approve", by="tester")


def test_missing_ffmpeg_fails_assemble_clearly_then_resumes(
    tides_kb: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    tides_kb.set_chat(scripted(FRAMING))
    tides_kb.settings.short_preset = "youtube_shorts"
    runner = JobRunner(tides_kb)
    try:
        brief = Brief.create("how tides work", "short", seconds=20)
        job = runner.create(brief)
        assert runner.start(job, brief).status == "review"
        empty = tmp_path / "no-tools"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))  # ffmpeg and ffprobe are gone
        outcome = runner.resume(job, APPROVE)
        assert outcome.status == "failed"
        assert outcome.error and outcome.error.startswith(("voice:", "assemble:", "visuals:"))
        assert "ffmpeg" in outcome.error.lower() or "ffprobe" in outcome.error.lower()
        monkeypatch.undo()  # the user installs ffmpeg
        outcome = runner.resume(job)
        assert outcome.status == "review", outcome
        assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
        outcome = runner.resume(job, APPROVE)
        assert outcome.status == "published"
        assert len([a for a in tides_kb.objects.list(job) if a.name == "video.mp4"]) == 1
    finally:
        runner.close()
