"""The main job as a user runs it: a finished short and a podcast, offline, real everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from media.probe import faststart, measure_loudness, probe
from tests.cli.helpers import artifact_files, assistant, query, show

pytestmark = pytest.mark.slow


def artifacts(data: Path, job_id: str) -> dict[str, Path]:
    return artifact_files(data, job_id)


def test_short_is_published_as_a_checked_vertical_video(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = assistant(data, "make", "why the sky is blue", "--format", "short", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    job_id = query(data, "select id from jobs")[0][0]
    report = show(data, job_id)
    assert report["status"] == "published"
    assert [s["name"] for s in report["steps"]] == [
        "brief", "research", "write", "redact", "review_script", "visuals", "voice", "assemble",
        "qa", "review_final", "publish"]
    files = artifacts(data, job_id)
    assert {"script.md", "script.json", "voiceover.wav", "captions.srt", "captions.ass",
            "thumbnail.png", "video.mp4", "qa.json", "scene_01.png"} <= set(files)

    video = data / report["publications"][0]["location"]  # relative to the data dir
    assert video.name == "video.mp4"
    for beside in ("thumbnail.png", "short.md", "qa.json", "captions.srt"):
        assert (video.parent / beside).is_file(), beside
    info = probe(video)
    assert (info.width, info.height, round(info.fps or 0)) == (1080, 1920, 30)
    assert (info.vcodec, info.acodec, info.pix_fmt) == ("h264", "aac", "yuv420p")
    assert 15 <= info.duration_s <= 60
    assert faststart(video)
    loudness = measure_loudness(video)
    assert abs(loudness.integrated_lufs + 14) <= 1, loudness
    assert loudness.true_peak_dbtp <= -0.95, loudness

    qa = json.loads(files["qa.json"].read_text())
    checks = {c["name"]: c for c in qa["checks"]}
    for name in ("duration", "frame", "codecs", "loudness", "true_peak",
                 "captions_safe_zone", "voiceover_wer"):
        assert checks[name]["passed"], checks[name]
    # The captions follow the real voiceover: their last cue ends near the audio's end.
    srt = files["captions.srt"].read_text()
    last_end = srt.strip().split("\n\n")[-1].splitlines()[1].split(" --> ")[1]
    h, m, s = last_end.replace(",", ".").split(":")
    assert abs(int(h) * 3600 + int(m) * 60 + float(s) - info.duration_s) < 3


def test_podcast_is_an_mp3_at_podcast_loudness_with_show_notes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = assistant(data, "make", "how photosynthesis works", "--format", "podcast",
                       "--seconds", "60", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    job_id = query(data, "select id from jobs")[0][0]
    report = show(data, job_id)
    assert report["status"] == "published"
    episode = data / report["publications"][0]["location"]
    assert episode.suffix == ".mp3"
    info = probe(episode)
    assert info.acodec == "mp3" and info.duration_s > 20
    loudness = measure_loudness(episode)
    assert abs(loudness.integrated_lufs + 16) <= 1, loudness
    notes = (episode.parent / "episode.md").read_text()
    assert "## Show notes" in notes and "## Sources" in notes
