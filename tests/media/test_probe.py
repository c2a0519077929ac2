"""probe / measure_loudness / faststart / error-line extraction on real files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from media.errors import MediaInputError, ToolMissing
from media.probe import faststart, last_error_line, measure_loudness, probe
from tests.media.conftest_render import tone, write_wav


def _mp4(path: Path, *, fast: bool) -> Path:
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=12:d=1",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
    if fast:
        args += ["-movflags", "+faststart"]
    subprocess.run([*args, str(path)], check=True)
    return path


def test_probe_reads_streams(tmp_path: Path) -> None:
    info = probe(_mp4(tmp_path / "clip.mp4", fast=True))
    assert (info.width, info.height, info.fps) == (96, 64, 12.0)
    assert (info.vcodec, info.acodec, info.pix_fmt) == ("h264", "aac", "yuv420p")
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    wav = probe(write_wav(tmp_path / "a.wav", tone(0.5, 440)))
    assert wav.vcodec is None and wav.acodec == "pcm_s16le" and wav.sample_rate == 22050


def test_faststart_detects_moov_position(tmp_path: Path) -> None:
    assert faststart(_mp4(tmp_path / "fast.mp4", fast=True))
    assert not faststart(_mp4(tmp_path / "slow.mp4", fast=False))


def test_loudness_tracks_level_and_true_peak(tmp_path: Path) -> None:
    loud = measure_loudness(write_wav(tmp_path / "loud.wav", tone(3.0, 1000, level=0.5)))
    quiet = measure_loudness(write_wav(tmp_path / "quiet.wav", tone(3.0, 1000, level=0.25)))
    assert loud.integrated_lufs - quiet.integrated_lufs == pytest.approx(6.0, abs=0.3)
    assert loud.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.5)
    assert loud.lra >= 0


def test_bad_files_are_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(MediaInputError, match="junk.mp4"):
        probe(junk)
    with pytest.raises(MediaInputError, match="missing.wav"):
        measure_loudness(tmp_path / "missing.wav")


def test_missing_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = write_wav(tmp_path / "a.wav", tone(0.5, 440))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing, match="ffprobe"):
        probe(wav)
    with pytest.raises(ToolMissing, match="ffmpeg"):
        measure_loudness(wav)


def test_last_error_line_skips_boilerplate() -> None:
    stderr = (
        "ffmpeg version 5.1.6 Copyright\n  built with gcc 12\n"
        "Input #0, wav, from 'a.wav':\n  Duration: 00:00:01.00\n"
        "[AVFilterGraph @ 0x55d1c] No such filter: 'nope'\n"
        "Error reinitializing filters!\nConversion failed!\n"
    )
    assert last_error_line(stderr) == "No such filter: 'nope'"
    assert last_error_line("") == "no error message"
