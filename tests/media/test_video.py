"""render_video with real ffmpeg on small real inputs (270x480 at 15 fps, 3 s)."""

from __future__ import annotations

import dataclasses
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from media.errors import MediaError, MediaInputError, ToolMissing
from media.presets import Preset
from media.probe import MediaInfo, faststart, measure_loudness, probe
from media.video import Motion, SceneInput, plan_segments, render_video
from tests.media.conftest_render import (
    frame_at,
    small_preset,
    speechlike,
    write_ass,
    write_card,
    write_wav,
)

SIZE = (270, 480)
VOICE_S = 3.0
CAPTION = (0.0, 3.0, "Burned in")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("render")
    colours = [(200, 40, 40), (40, 160, 60), (40, 60, 200)]
    files = {f"card{i}": write_card(d / f"card{i}.png", (64, 64), c) for i, c in enumerate(colours)}
    files["voice"] = write_wav(d / "voice.wav", speechlike(VOICE_S))
    files["music"] = write_wav(d / "music.wav", np.random.default_rng(1).normal(0, 0.2, 44100))
    files["ass"] = write_ass(d / "captions.ass", SIZE, [CAPTION])
    files["dir"] = d
    return files


def _scenes(inputs: dict[str, Path], durations: tuple[float, ...] = (1.0, 1.0, 1.0)) -> list:
    return [SceneInput(inputs[f"card{i % 3}"], d) for i, d in enumerate(durations)]


@pytest.fixture(scope="module")
def preset() -> Preset:
    return small_preset(width=SIZE[0], height=SIZE[1], fps=15)


@pytest.fixture(scope="module")
def rendered(inputs: dict[str, Path], preset: Preset) -> dict[str, object]:
    seen: list[float] = []
    out = render_video(
        _scenes(inputs), inputs["voice"], inputs["dir"] / "with.mp4", preset=preset,
        captions_ass=inputs["ass"], music=inputs["music"], crossfade_s=0.3,
        progress=seen.append,
    )
    plain = render_video(
        _scenes(inputs), inputs["voice"], inputs["dir"] / "plain.mp4", preset=preset,
        music=inputs["music"], crossfade_s=0.3,
    )
    return {"out": out, "plain": plain, "progress": seen}


def test_output_matches_the_preset(rendered: dict, preset: Preset) -> None:
    info: MediaInfo = probe(rendered["out"])
    assert info.duration_s == pytest.approx(VOICE_S, abs=0.1)
    assert (info.width, info.height) == SIZE
    assert info.fps == pytest.approx(preset.fps)
    assert (info.vcodec, info.acodec, info.pix_fmt) == ("h264", "aac", "yuv420p")
    assert info.sample_rate == 44100 and info.channels == 2
    assert faststart(rendered["out"]), "moov must come before mdat (+faststart)"


def test_loudness_is_normalised_to_the_target(rendered: dict, preset: Preset) -> None:
    loud = measure_loudness(rendered["out"])
    assert loud.integrated_lufs == pytest.approx(preset.loudness.integrated_lufs, abs=1.0)
    assert loud.true_peak_dbtp <= preset.loudness.true_peak_dbtp


def test_captions_are_burned_in(rendered: dict) -> None:
    with_caps = frame_at(rendered["out"], 1.5, SIZE)
    without = frame_at(rendered["plain"], 1.5, SIZE)
    # the caption sits above the bottom 25% margin; the top of the frame is untouched
    band = slice(int(SIZE[1] * 0.60), int(SIZE[1] * 0.76))
    caption_diff = np.abs(with_caps[band] - without[band]).mean()
    top_diff = np.abs(with_caps[: SIZE[1] // 4] - without[: SIZE[1] // 4]).mean()
    assert caption_diff > 8 * max(top_diff, 0.5)
    assert (with_caps[band] > 235).all(axis=2).sum() > 200  # white glyph pixels


def test_progress_reported_from_ffmpeg(rendered: dict) -> None:
    seen: list[float] = rendered["progress"]
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)
    assert len(seen) >= 3 and seen == sorted(seen)


def test_kenburns_moves_and_none_holds_still(inputs: dict, preset: Preset) -> None:
    moving = frame_at(Path(inputs["dir"] / "with.mp4"), 0.1, SIZE)
    later = frame_at(Path(inputs["dir"] / "with.mp4"), 0.6, SIZE)
    assert np.abs(moving - later).mean() > 1.0
    still = render_video(
        _scenes(inputs, (1.5, 1.5)), inputs["voice"], inputs["dir"] / "still.mp4",
        preset=preset, motion="none", crossfade_s=0.2,
    )
    assert np.abs(frame_at(still, 0.1, SIZE) - frame_at(still, 0.9, SIZE)).mean() < 1.0


def _patch_area(frame: np.ndarray, colour: tuple[int, int, int]) -> int:
    """Pixels of ``frame`` within 40 of ``colour`` on every channel."""
    return int((np.abs(frame - np.array(colour)) < 40).all(axis=2).sum())


@pytest.mark.parametrize("motion,grows", [("kenburns", True), ("pan", False)])
def test_kenburns_zooms_in_while_pan_only_moves(inputs: dict, preset: Preset, motion: Motion,
                                                grows: bool) -> None:
    """Scene 1 zooms in under kenburns: its inverted patch covers ~9 % more pixels at the end
    (4.5 % each way); a pan moves it without changing its size."""
    out = render_video([SceneInput(inputs["card0"], VOICE_S)], inputs["voice"],
                       inputs["dir"] / f"{motion}.mp4", preset=preset, motion=motion)
    patch = (55, 215, 215)  # write_card's inverse of (200, 40, 40)
    first = frame_at(out, 0.05, SIZE)
    last = frame_at(out, VOICE_S - 0.1, SIZE)
    ratio = _patch_area(last, patch) / _patch_area(first, patch)
    assert np.abs(first - last).mean() > 1.0, "the still must move"
    if grows:
        assert 1.05 < ratio < 1.14, ratio
    else:
        assert ratio == pytest.approx(1.0, abs=0.03)


def test_unknown_motion_is_refused(inputs: dict, preset: Preset, tmp_path: Path) -> None:
    _expect_input_error(
        lambda: render_video(_scenes(inputs), inputs["voice"], tmp_path / "x.mp4",
                             preset=preset, motion="spin"),  # type: ignore[arg-type]
        "unknown motion 'spin'",
    )


def test_segments_follow_the_voiceover_timeline() -> None:
    parts, total = plan_segments([5.0, 5.0, 5.0], 0.4, 30)
    assert total == 450
    frames = sum(p[0].frames if isinstance(p, tuple) else p.frames for p in parts)
    assert frames == total
    # the first crossfade starts exactly where scene 2 starts (frame 150)
    assert isinstance(parts[1], tuple) and parts[0].frames == 150  # type: ignore[union-attr]
    single, n = plan_segments([2.0], 0.4, 15)
    assert n == 30 and len(single) == 1


def test_scene_durations_are_scaled_to_the_voiceover(inputs: dict, preset: Preset) -> None:
    out = render_video(
        _scenes(inputs, (2.0, 2.0)), inputs["voice"], inputs["dir"] / "scaled.mp4",
        preset=dataclasses.replace(preset, fps=10), crossfade_s=0.0, motion="none",
    )
    assert probe(out).duration_s == pytest.approx(VOICE_S, abs=0.1)


# ---------------------------------------------------------------- bad input, failures


def _expect_input_error(call: Callable[[], object], name: str) -> None:
    with pytest.raises(MediaInputError) as err:
        call()
    assert name in err.value.user_message


def test_corrupt_image_is_named_before_rendering(inputs: dict, preset: Preset,
                                                 tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8)
    scenes = [*_scenes(inputs, (1.0,)), SceneInput(bad, 2.0)]
    _expect_input_error(
        lambda: render_video(scenes, inputs["voice"], tmp_path / "x.mp4", preset=preset),
        "broken.png",
    )
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("damage,problem", [
    (lambda png: png[: len(png) // 2], "scene 2 image is damaged"),
    (lambda png: b"<html>502 Bad Gateway</html>", "scene 2 image is not an image file"),
    (lambda png: b"", "scene 2 image is an empty file (0 bytes)"),
])
def test_bad_scene_image_says_which_scene_and_what(
    inputs: dict, preset: Preset, tmp_path: Path, damage: Callable[[bytes], bytes],
    problem: str,
) -> None:
    bad = tmp_path / "scene_02.png"
    bad.write_bytes(damage(inputs["card1"].read_bytes()))
    scenes = [SceneInput(inputs["card0"], 1.5), SceneInput(bad, 1.5)]
    with pytest.raises(MediaInputError) as err:
        render_video(scenes, inputs["voice"], tmp_path / "x.mp4", preset=preset)
    message = err.value.user_message
    assert problem in message and str(bad) in message, message
    assert message.count(str(bad)) == 1 and "\n" not in message, message


@pytest.mark.parametrize("kind", ["zero_frames", "zero_bytes"])
def test_empty_voiceover_is_named(inputs: dict, preset: Preset, tmp_path: Path,
                                  kind: str) -> None:
    empty = tmp_path / "silence.wav"
    if kind == "zero_bytes":
        empty.write_bytes(b"")
    else:
        with wave.open(str(empty), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
    _expect_input_error(
        lambda: render_video(_scenes(inputs), empty, tmp_path / "x.mp4", preset=preset),
        "silence.wav",
    )


def test_missing_captions_and_too_long_voiceover(inputs: dict, preset: Preset,
                                                 tmp_path: Path) -> None:
    _expect_input_error(
        lambda: render_video(_scenes(inputs), inputs["voice"], tmp_path / "x.mp4",
                             preset=preset, captions_ass=tmp_path / "nope.ass"),
        "nope.ass",
    )
    short = dataclasses.replace(preset, max_duration_s=2.0)
    _expect_input_error(
        lambda: render_video(_scenes(inputs), inputs["voice"], tmp_path / "x.mp4", preset=short),
        "at most 2",
    )


def test_ffmpeg_missing_is_tool_missing(inputs: dict, preset: Preset, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as err:
        render_video(_scenes(inputs), inputs["voice"], tmp_path / "x.mp4", preset=preset)
    assert "ffprobe" in err.value.user_message or "ffmpeg" in err.value.user_message


def test_ffmpeg_failure_gives_its_last_meaningful_line(inputs: dict, preset: Preset,
                                                       tmp_path: Path) -> None:
    assert preset.video is not None
    broken = dataclasses.replace(preset, video=dataclasses.replace(preset.video, codec="libnope"))
    with pytest.raises(MediaError) as err:
        render_video(_scenes(inputs), inputs["voice"], tmp_path / "x.mp4", preset=broken)
    assert "libnope" in err.value.user_message
    assert "\n" not in err.value.user_message
