"""A media step that cannot run says which step and why, and the job resumes after the fix.

Each case runs a real job (only the chat model is scripted) into a real bad input the way a
user meets it, checks the one-line failure, fixes the input and resumes to publication.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.app.runner import Event, JobRunner, Outcome
from assistant.app.studio import Services
from assistant.content import Brief, ReviewDecision
from media.images import DEFAULT_FONT
from tests.fakes import FRAMING, scripted

pytestmark = pytest.mark.slow

APPROVE = ReviewDecision(action="approve", by="tester")


def _approved_script(runner: JobRunner, fmt: str) -> str:
    brief = Brief.create("how tides work", fmt, seconds=20)  # type: ignore[arg-type]
    job = runner.create(brief)
    assert runner.start(job, brief).status == "review"
    return job


def _artifact(svc: Services, job: str, name: str) -> Path:
    records = [a for a in svc.objects.list(job) if a.name == name]
    assert records, f"no {name} among {[a.name for a in svc.objects.list(job)]}"
    return Path(records[-1].path)


def _after_step(step: str, action: Callable[[], None]) -> Callable[[Event], None]:
    """An event sink that runs ``action`` once ``step`` has finished (before the next step)."""

    def sink(event: Event) -> None:
        if event.kind == "step" and event.step == step:
            action()

    return sink


def _assert_one_line_failure(outcome: Outcome, step: str, *words: str) -> str:
    assert outcome.status == "failed", outcome
    error = outcome.error or ""
    assert error.startswith(f"{step}: "), error
    assert "\n" not in error and "Traceback" not in error, error
    for word in words:
        assert word.lower() in error.lower(), (word, error)
    return error


def _resume_to_publication(runner: JobRunner, job: str, output: str) -> None:
    outcome = runner.resume(job)
    assert outcome.status == "review", outcome
    assert outcome.review and outcome.review["action_request"]["action"] == "review_final"
    outcome = runner.resume(job, APPROVE)
    assert outcome.status == "published", outcome
    assert len([a for a in runner.svc.objects.list(job) if a.name == output]) == 1
    record = runner.svc.repo.get_job(job)
    assert record is not None and record.status == "published"


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


def test_bad_scene_image_fails_assemble_clearly_then_resumes(tides_kb: Services) -> None:
    """A scene picture swapped for something else (an error page saved under its name, a
    half-copied file from a user replacing the designer's card with their own art) stops the
    render before it starts, naming the scene, the file and the problem."""
    tides_kb.set_chat(scripted(FRAMING))
    runner = JobRunner(tides_kb)
    try:
        job = _approved_script(runner, "short")
        kept: dict[str, bytes] = {}

        def replace_with_error_page() -> None:
            scene = _artifact(tides_kb, job, "scene_01.png")
            kept["png"] = scene.read_bytes()
            scene.write_text("<html>502 Bad Gateway</html>")

        outcome = runner.resume(job, APPROVE, _after_step("visuals", replace_with_error_page))
        _assert_one_line_failure(outcome, "assemble", "scene_01.png", "scene 1 image",
                                 "not an image file", "resume")
        scene = _artifact(tides_kb, job, "scene_01.png")
        scene.write_bytes(kept["png"][: len(kept["png"]) // 3])  # a copy that stopped short
        _assert_one_line_failure(runner.resume(job), "assemble", "scene_01.png", "damaged")
        assert not [a for a in tides_kb.objects.list(job) if a.name == "video.mp4"]
        scene.write_bytes(kept["png"])  # the fix
        _resume_to_publication(runner, job, "video.mp4")
    finally:
        runner.close()


def test_zero_length_voiceover_fails_assemble_clearly_then_resumes(tides_kb: Services) -> None:
    """A podcast voiceover truncated to 0 bytes (a recording swapped in that never finished
    copying) fails the episode render by name; putting the recording back resumes it."""
    tides_kb.set_chat(scripted(FRAMING))
    runner = JobRunner(tides_kb)
    try:
        job = _approved_script(runner, "podcast")
        kept: dict[str, bytes] = {}

        def truncate() -> None:
            wav = _artifact(tides_kb, job, "voiceover.wav")
            kept["wav"] = wav.read_bytes()
            wav.write_bytes(b"")

        outcome = runner.resume(job, APPROVE, _after_step("voice", truncate))
        _assert_one_line_failure(outcome, "assemble", "voiceover.wav", "empty file (0 bytes)")
        _artifact(tides_kb, job, "voiceover.wav").write_bytes(kept["wav"])  # the fix
        _resume_to_publication(runner, job, "episode.mp3")
    finally:
        runner.close()


def test_missing_brand_font_fails_visuals_clearly_then_resumes(
    tides_kb: Services, tmp_path: Path,
) -> None:
    """Settings naming a brand font that is not there (a typo, a font not copied to the
    worker) fail the first step that draws text; installing the font resumes the job."""
    font = tmp_path / "fonts" / "Brand-Bold.ttf"
    tides_kb.settings.brand_font = font
    tides_kb.set_chat(scripted(FRAMING))
    runner = JobRunner(tides_kb)
    try:
        job = _approved_script(runner, "short")

        def visuals_must_fail() -> None:
            raise AssertionError("visuals finished although the brand font is missing")

        outcome = runner.resume(job, APPROVE, _after_step("visuals", visuals_must_fail))
        _assert_one_line_failure(outcome, "visuals", str(font), "font file not found")
        font.parent.mkdir()
        shutil.copyfile(DEFAULT_FONT, font)  # the fix: install the font where settings say
        _resume_to_publication(runner, job, "video.mp4")
    finally:
        runner.close()
