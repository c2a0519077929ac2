"""Video assembly: stills + voiceover (+ captions, music) -> one MP4, in ONE ffmpeg pass.

Per scene the still is decoded, scaled (lanczos) to the frame size plus a pan margin and
converted to yuv420p ONCE; every per-frame step after that works in the encoder's format.
Motion (``motion=``): ``kenburns`` (default) is a gentle pan + zoom made by ``zoompan`` at
output size from that pre-scaled canvas (one bicubic resample per frame, never above the
canvas's own scale); ``pan`` repeats the still in memory (``loop``) and moves a per-frame
``crop`` (``exact=1``: 1-pixel luma steps) along eased time expressions, no resampling;
``none`` holds the still. The timeline is cut into whole-frame segments joined by ``concat``;
``xfade`` only blends the short crossfade pairs. Captions are burned in with libass (fonts
from ``media/fonts``); the audio gets the loudness plan of :mod:`media.audio` (two quick
``ebur128`` passes, then a plain gain in the render).

Where the CPU goes (2 shared cores, 30 s of 1080x1920 at 30 fps, 6 scenes + captions,
measured with ``-benchmark`` on the compiled command): x264 at superfast ~75 % of it; the
filter graph ~5 s with kenburns (zoompan ~3.5 s of that), ~3.4 s for pan or none (PNG decode
+ lanczos pre-scale ~1.5 s, libass ~1.4 s); audio ~1 s. Moving frames cost x264 far more than
still ones: at 8 Mb/s a pan or zoom fills the bitrate (~30 MB for 30 s) where still frames
take ~11 MB, and its CPU time grows with it. Chaining ``xfade`` over whole clips cost ~8 s
more CPU than the segment cut used here.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ffmpeg

from media.audio import mix_graph, plan_loudness, validate_audio
from media.errors import MediaInputError
from media.images.base import FONTS_DIR, validate_image
from media.presets import Preset
from media.probe import ffmpeg_bin, run_with_progress

log = logging.getLogger(__name__)

Stream = Any
Motion = Literal["kenburns", "pan", "none"]
MOTIONS: tuple[Motion, ...] = ("kenburns", "pan", "none")
# The still is scaled this much larger than the frame and the pan travels at most that far,
# so at most ~5.7% of the still's width/height leaves the frame on any side: less than the
# presets' safe-zone margins (>= 6%), so text placed inside them is never cut.
PAN_MARGIN = 0.06
# kenburns shows 1/z of the canvas, z between 1 + PAN_MARGIN - ZOOM and 1 + PAN_MARGIN (in on
# even scenes, out on odd ones): a gentle 4.5 % zoom that at its closest is the canvas 1:1, so
# no frame is upscaled beyond the still's lanczos pre-scale.
ZOOM = 0.045
# (dx, dy) direction of travel per scene, cycled: gentle, varied, never the same twice in a row
_PANS = ((1, 0.5), (-1, -0.5), (0.5, 1), (-0.5, -1), (1, -1), (-1, 1))


@dataclass(frozen=True)
class SceneInput:
    image: Path
    duration_s: float


@dataclass(frozen=True)
class Segment:
    """A run of output frames: one scene's still from local frame ``start`` for ``frames``."""

    scene: int
    start: int
    frames: int


def plan_segments(
    durations: Sequence[float], crossfade_s: float, fps: int
) -> tuple[list[Segment | tuple[Segment, Segment]], int]:
    """The output timeline in whole frames: bodies and (tail, head) crossfade pairs.

    Each transition starts where its scene starts (the outgoing still is held ``crossfade``
    longer), so the total is the sum of ``durations`` and scene timing follows the voiceover.
    Returns (parts in order, total frames).
    """
    n = len(durations)
    bounds = [round(sum(durations[:k]) * fps) for k in range(n + 1)]
    fade = round(crossfade_s * fps) if n > 1 else 0
    fade = max(0, min([fade] + [bounds[k + 1] - bounds[k] - 1 for k in range(n)]))
    parts: list[Segment | tuple[Segment, Segment]] = []
    for k in range(n):
        head = fade if k > 0 else 0
        length = bounds[k + 1] - bounds[k]
        body = length - head
        if body > 0:
            parts.append(Segment(k, head, body))
        if k < n - 1 and fade > 0:
            parts.append((Segment(k, length, fade), Segment(k + 1, 0, fade)))
    return parts, bounds[-1]


def _ease(expr_t: str, length: float) -> str:
    p = f"min(max({expr_t}/{length:.4f},0),1)"
    return f"({p}*{p}*(3-2*{p}))"  # smoothstep: starts and ends gently


def _stills(
    images: Sequence[Path], uses: Sequence[int], *, width: int, height: int, motion: Motion
) -> list[list[Stream]]:
    """``uses[i]`` handles on scene i's still: decoded, scaled (lanczos) to the pan canvas and
    converted to yuv420p ONCE per file (a file shared by scenes is split, not decoded twice).
    Every per-frame step after this (crop, zoom, blend) works in the encoder's format."""
    margin = PAN_MARGIN if motion != "none" else 0.0
    big_w = int(round(width * (1 + margin) / 2) * 2)
    big_h = int(round(height * (1 + margin) / 2) * 2)
    by_file: dict[Path, list[int]] = {}
    for i, image in enumerate(images):
        by_file.setdefault(image, []).append(i)
    out: list[list[Stream]] = [[] for _ in images]
    for image, scenes in by_file.items():
        still = (
            ffmpeg.input(str(image)).video
            .filter("scale", big_w, big_h, force_original_aspect_ratio="increase",
                    flags="lanczos")
            .filter("crop", big_w, big_h)
            .filter("setsar", 1)
            .filter("format", "yuv420p")
        )
        total = sum(uses[i] for i in scenes)
        handles = [still] if total == 1 else list(
            still.filter_multi_output("split", total)[k] for k in range(total)
        )
        for i in scenes:
            out[i], handles = handles[: uses[i]], handles[uses[i]:]
    return out


def _segment_stream(
    still: Stream, seg: Segment, clip_frames: int, *, width: int, height: int, fps: int,
    motion: Motion,
) -> Stream:
    """``seg.frames`` frames of the still; pan and zoom follow the scene's own clock.

    ``pan``: the still is repeated in memory (``loop``) and cut by a ``crop`` whose x/y are
    eased time expressions, with ``exact=1`` so the luma moves in 1-pixel steps (a yuv420p
    crop otherwise snaps to 2-pixel steps, which judders). ``kenburns``: ``zoompan`` makes
    every frame from the pre-scaled canvas at output size (one bicubic resample per frame,
    no scale above the canvas), zooming gently while it pans.
    """
    start_s = seg.start / fps
    if motion == "kenburns":
        dx, dy = _PANS[seg.scene % len(_PANS)]
        e = _ease(f"(time+{start_s:.4f})", clip_frames / fps)
        low, high = 1 + PAN_MARGIN - ZOOM, 1 + PAN_MARGIN
        z0, z1 = (low, high) if seg.scene % 2 == 0 else (high, low)
        return still.filter(
            "zoompan", z=f"{z0:.4f}+{z1 - z0:.4f}*{e}",
            x=f"(iw-iw/zoom)*({0.5 - dx / 2:.2f}+{dx:.2f}*{e})",
            y=f"(ih-ih/zoom)*({0.5 - dy / 2:.2f}+{dy:.2f}*{e})",
            d=seg.frames, s=f"{width}x{height}", fps=fps,
        ).filter("setsar", 1)
    clip = (
        still.filter("loop", loop=seg.frames - 1, size=1, start=0)
        .filter("settb", f"1/{fps}")
        .filter("setpts", "N")
        .filter("fps", fps)  # pts are already 1/fps apart; this sets the link's frame rate
    )
    if motion == "pan":
        dx, dy = _PANS[seg.scene % len(_PANS)]
        e = _ease(f"(t+{start_s:.4f})", clip_frames / fps)
        # start at one side of the margin and travel towards the other
        x = f"(in_w-out_w)*({0.5 - dx / 2:.2f}+{dx:.2f}*{e})"
        y = f"(in_h-out_h)*({0.5 - dy / 2:.2f}+{dy:.2f}*{e})"
        clip = clip.filter("crop", width, height, x=x, y=y, exact=1)
    return clip


def _video_graph(
    scenes: Sequence[SceneInput],
    durations: Sequence[float],
    *,
    preset: Preset,
    crossfade_s: float,
    motion: Motion,
    captions: str | None,
    fonts_dir: str | None,
) -> Stream:
    """Segments joined with ``concat``; ``xfade`` only ever sees the short crossfade pairs
    (a chained xfade makes every frame of the film pass through every later xfade)."""
    width, height = preset.size
    fps = int(preset.fps or 30)
    parts, _ = plan_segments(durations, crossfade_s, fps)
    flat = [seg for part in parts for seg in (part if isinstance(part, tuple) else (part,))]
    uses = [sum(1 for seg in flat if seg.scene == i) for i in range(len(scenes))]
    clip_frames = [max(seg.start + seg.frames for seg in flat if seg.scene == i)
                   for i in range(len(scenes))]
    stills = _stills([s.image for s in scenes], uses, width=width, height=height, motion=motion)

    def stream(seg: Segment) -> Stream:
        return _segment_stream(stills[seg.scene].pop(0), seg, clip_frames[seg.scene],
                               width=width, height=height, fps=fps, motion=motion)

    pieces: list[Stream] = []
    for part in parts:
        if isinstance(part, tuple):
            tail, head = part
            pieces.append(ffmpeg.filter(
                [stream(tail), stream(head)], "xfade", transition="fade",
                duration=f"{tail.frames / fps:.4f}", offset=0,
            ))
        else:
            pieces.append(stream(part))
    video = pieces[0] if len(pieces) == 1 else ffmpeg.concat(*pieces, v=1, a=0)
    if captions is not None:
        video = video.filter("subtitles", captions, fontsdir=fonts_dir)
    pix_fmt = preset.video.pix_fmt if preset.video else "yuv420p"
    return video.filter("format", pix_fmt)


def render_video(
    scenes: Sequence[SceneInput],
    voiceover: str | Path,
    out_path: str | Path,
    *,
    preset: Preset,
    captions_ass: str | Path | None = None,
    music: str | Path | None = None,
    crossfade_s: float = 0.4,
    motion: Motion = "kenburns",
    progress: Callable[[float], None] | None = None,
    threads: int = 0,
) -> Path:
    """Render the MP4 for ``preset``; returns ``out_path``. The video lasts exactly as long as
    the voiceover: scene durations are scaled to it if their sum differs."""
    if preset.kind != "video" or preset.video is None:
        raise MediaInputError(f"preset {preset.name!r} is not a video preset")
    if not scenes:
        raise MediaInputError("no scenes to render")
    if motion not in MOTIONS:
        raise MediaInputError(f"unknown motion {motion!r}: use one of {', '.join(MOTIONS)}")
    # ---- validate every input before the long render
    scene_list = [SceneInput(Path(s.image).resolve(), float(s.duration_s)) for s in scenes]
    for number, s in enumerate(scene_list, start=1):
        validate_image(s.image, f"scene {number} image")
        if not s.duration_s > 0:
            raise MediaInputError(f"scene duration must be > 0 s, got {s.duration_s}",
                                  path=s.image)
    voice_path = Path(voiceover).resolve()
    total = validate_audio(voice_path, "voiceover").duration_s
    music_path = Path(music).resolve() if music is not None else None
    if music_path is not None:
        validate_audio(music_path, "music")
    ass_path = Path(captions_ass).resolve() if captions_ass is not None else None
    if ass_path is not None and not ass_path.is_file():
        raise MediaInputError("captions file not found", path=ass_path)
    if ass_path is not None and ass_path.stat().st_size == 0:
        raise MediaInputError("captions file is empty", path=ass_path)
    if preset.max_duration_s and total > preset.max_duration_s + 0.05:
        raise MediaInputError(
            f"the voiceover lasts {total:.1f} s but {preset.name} allows at most "
            f"{preset.max_duration_s:g} s", path=voice_path,
        )
    given = sum(s.duration_s for s in scene_list)
    durations = [s.duration_s * total / given for s in scene_list]
    if abs(given - total) > 0.05:
        log.info("scene durations sum to %.2f s; scaled to the voiceover's %.2f s", given, total)
    fade = min(max(0.0, crossfade_s), 0.45 * min(durations))

    what = f"video render ({preset.name})"
    if progress:
        progress(0.0)

    def audio_graph() -> Stream:
        bed = ffmpeg.input(str(music_path), stream_loop=-1).audio if music_path else None
        return mix_graph(ffmpeg.input(str(voice_path)).audio, total, music=bed)

    normalised_audio = plan_loudness(audio_graph, preset.loudness, what=what)
    if progress:
        progress(0.05)

    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    # libass gets plain relative names from a scratch dir: no filtergraph escaping of paths
    with tempfile.TemporaryDirectory(prefix="render-") as work:
        captions = fonts = None
        if ass_path is not None:
            shutil.copyfile(ass_path, Path(work, "captions" + (ass_path.suffix or ".ass")))
            Path(work, "fonts").symlink_to(FONTS_DIR, target_is_directory=True)
            captions, fonts = "captions" + (ass_path.suffix or ".ass"), "fonts"
        video = _video_graph(scene_list, durations, preset=preset, crossfade_s=fade,
                             motion=motion, captions=captions, fonts_dir=fonts)
        audio = normalised_audio()
        v = preset.video
        kbps = v.bitrate_kbps
        options: dict[str, Any] = {
            "vcodec": v.codec, "preset": v.x264_preset, "video_bitrate": f"{kbps}k",
            "maxrate": f"{kbps}k", "bufsize": f"{2 * kbps}k", "pix_fmt": v.pix_fmt,
            "r": preset.fps, "g": 2 * int(preset.fps or 30), "threads": threads,
            "acodec": preset.audio.codec, "audio_bitrate": f"{preset.audio.bitrate_kbps}k",
            "ar": preset.audio.sample_rate, "ac": preset.audio.channels, "t": f"{total:.4f}",
        }
        if preset.faststart:
            options["movflags"] = "+faststart"
        args = (
            ffmpeg.output(video, audio, str(out), **options)
            .global_args("-hide_banner", "-nostdin", "-loglevel", "error",
                         "-progress", "pipe:1", "-nostats")
            .overwrite_output()
            .compile(cmd=ffmpeg_bin())
        )
        run_with_progress(args, what=what, duration_s=total, progress=progress,
                          span=(0.05, 1.0), cwd=work)
    return out
