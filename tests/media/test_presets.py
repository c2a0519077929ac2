"""Output presets are data; the loader validates them and names what exists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from media.errors import MediaInputError
from media.presets import load_preset, load_preset_file, preset_names


def test_bundled_presets() -> None:
    assert preset_names() == ["podcast", "tiktok", "youtube", "youtube_shorts"]
    shorts = load_preset("youtube_shorts")
    assert (shorts.width, shorts.height, shorts.fps, shorts.max_duration_s) == (1080, 1920, 30, 60)
    assert shorts.video is not None and shorts.video.bitrate_kbps == 8000
    assert (shorts.audio.codec, shorts.audio.bitrate_kbps) == ("aac", 256)
    assert shorts.loudness.integrated_lufs == -14.0 and shorts.is_vertical
    tiktok = load_preset("tiktok")
    assert tiktok.video is not None and tiktok.video.bitrate_kbps == 6000
    assert (tiktok.size, tiktok.fps, tiktok.max_duration_s) == ((1080, 1920), 30, 180)
    youtube = load_preset("youtube")
    assert youtube.size == (1920, 1080) and youtube.video is not None
    assert (youtube.video.bitrate_kbps, youtube.audio.bitrate_kbps) == (12000, 256)
    podcast = load_preset("podcast")
    assert podcast.kind == "audio" and podcast.video is None
    assert (podcast.audio.codec, podcast.audio.bitrate_kbps) == ("libmp3lame", 320)
    assert (podcast.audio.sample_rate, podcast.loudness.integrated_lufs) == (44100, -16.0)


@pytest.mark.parametrize("name", ["youtube_shorts", "tiktok", "youtube", "podcast"])
def test_every_preset_limits_true_peak(name: str) -> None:
    preset = load_preset(name)
    assert preset.loudness.true_peak_dbtp == -1.0
    if preset.kind == "video":
        assert preset.video is not None and preset.video.pix_fmt == "yuv420p"
        assert preset.faststart
        left, top, right, bottom = preset.safe_zone.box(*preset.size)
        assert 0 < left < right < preset.size[0] and 0 < top < bottom < preset.size[1]


def test_vertical_presets_keep_the_platform_ui_clear() -> None:
    for name in ("youtube_shorts", "tiktok"):
        zone = load_preset(name).safe_zone
        assert zone.bottom >= 0.2 and zone.right > zone.left


def test_unknown_preset_lists_the_names() -> None:
    with pytest.raises(MediaInputError) as err:
        load_preset("instagram")
    assert "instagram" in err.value.user_message
    for name in preset_names():
        assert name in err.value.user_message


def test_presets_are_frozen() -> None:
    preset = load_preset("youtube")
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.fps = 60  # type: ignore[misc]


def test_malformed_file_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: video\ncontainer: mp4\nwidth: 10\n")
    with pytest.raises(MediaInputError, match="bad.yaml"):
        load_preset_file(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(MediaInputError, match="mapping"):
        load_preset_file(bad)
