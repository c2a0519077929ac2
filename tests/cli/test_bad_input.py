"""Bad input gets one clear line, never a traceback, and the job keeps its state."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.content import Brief, ReviewDecision
from tests.cli.helpers import assistant, query
from tests.fakes import FRAMING, scripted


def one_clear_line(result) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), result.stderr
    return lines[0]


@pytest.mark.parametrize("topic,expected", [
    ("", "topic is empty"),
    ("   ", "topic is empty"),
    ("x" * 20_000, "20,000 characters"),
])
def test_bad_topics(tmp_path: Path, topic: str, expected: str) -> None:
    result = assistant(tmp_path / "data", "make", topic, "--yes")
    assert result.returncode == 2
    assert expected in one_clear_line(result)
    assert query(tmp_path / "data", "select id from jobs") == []


def test_unknown_format(tmp_path: Path) -> None:
    result = assistant(tmp_path / "data", "make", "tides", "--format", "novel", "--yes")
    assert result.returncode == 2
    assert "unknown format 'novel'" in one_clear_line(result)


def test_kb_add_reports_each_bad_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("   \n")
    binary = tmp_path / "broken.pdf"
    binary.write_bytes(b"\x00\x01 not a pdf")
    result = assistant(tmp_path / "data", "kb", "add", str(empty), str(binary),
                       str(tmp_path / "missing.txt"))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("✗") == 3
    assert "empty" in result.stderr


def test_resume_of_unknown_job(tmp_path: Path) -> None:
    result = assistant(tmp_path / "data", "resume", "job-nothere", "--yes")
    assert result.returncode == 1
    assert "no job 'job-nothere'" in one_clear_line(result)


def test_model_output_that_never_validates_fails_the_step_and_keeps_the_job(
    tides_kb: Services,
) -> None:
    tides_kb.settings.writer_mode = "generative"
    tides_kb.set_chat(scripted("I am sorry, I cannot write JSON today."))
    runner = JobRunner(tides_kb)
    try:
        brief = Brief.create("how tides work")
        job = runner.create(brief)
        outcome = runner.start(job, brief)
        assert outcome.status == "failed"
        assert outcome.error and "gave no valid Draft after 3 tries" in outcome.error
        assert tides_kb.repo.get_job(job).status == "failed"
        # Research is kept; a working model finishes the job from write on.
        tides_kb.settings.writer_mode = "grounded"
        tides_kb.set_chat(scripted(FRAMING))
        outcome = runner.resume(job)
        assert outcome.status == "review"
        names = [s.name for s in tides_kb.repo.list_steps(job)]
        assert names.count("research") == 1
    finally:
        runner.close()


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 2 MiB filesystem (tmpfs), for running out of space for real."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_step_clearly_and_resume_finishes(
    tides_kb: Services, small_disk: Path,
) -> None:
    tides_kb.set_chat(scripted(FRAMING))
    tides_kb.objects.root = small_disk  # artifacts go to the small disk
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:  # fill it up completely
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    runner = JobRunner(tides_kb)
    try:
        brief = Brief.create("how tides work")
        job = runner.create(brief)
        outcome = runner.start(job, brief)
        assert outcome.status == "failed"
        assert outcome.error and "disk is full" in outcome.error
        assert [p.name for p in small_disk.rglob("*") if p.is_file()] == ["filler"]
        filler.unlink()  # the user frees space
        outcome = runner.resume(job)
        assert outcome.status == "review"
        outcome = runner.resume(job, ReviewDecision(action="approve", by="t"))
        outcome = runner.resume(job, ReviewDecision(action="approve", by="t"))
        assert outcome.status == "published"
        briefs = [s.status for s in tides_kb.repo.list_steps(job) if s.name == "brief"]
        assert briefs == ["failed", "completed"]  # the failure stays in the history
    finally:
        runner.close()
