"""Render benchmark: our one-pass ffmpeg assembly vs a MoviePy assembly of the same inputs.

    python benchmarks/render.py [--seconds 30] [--skip-moviepy] [--workdir DIR]
                                [--moviepy-preset medium|superfast] [--motion kenburns,none]

Generates fixed inputs (6 designer scene cards 1080x1920, a voiceover from Piper via
media.tts when it imports, else a synthetic speech-like signal, an ASS caption file), then
renders the short twice, each in its own subprocess: ``media.video.render_video`` and a
MoviePy pipeline as the popular MoviePy tools build it (ImageClip per scene, crossfades,
concatenate_videoclips, TextClip captions composited on top, write_videofile with libx264).
MoviePy gets the same bitrate and the same ffmpeg binary (/usr/bin/ffmpeg, not imageio's);
its x264 preset is MoviePy's own default ``medium`` as those tools keep it, or pass
``--moviepy-preset superfast`` for the like-for-like encoder comparison. Ours uses the
platform preset's (``media/presets/youtube_shorts.yaml``). ``--motion`` renders ours once per
listed motion in the same run: ``kenburns`` (the default: pan + gentle zoom, every frame a
new resample), ``pan`` (crop only) or ``none`` (still frames, what the MoviePy path makes).
Prints a table (wall and CPU time,
realtime factor, peak memory, loudness) with the load average, and writes results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZE = (1080, 1920)
FPS = 30
CROSSFADE = 0.4
SCENES = [
    ("Why is the sky blue?", None,
     "Look up on a clear day and the whole sky glows blue. Here is why that happens."),
    ("Sunlight is every colour", "White light mixes the whole rainbow",
     "Sunlight looks white, but it is a mix of every colour, from red to violet."),
    ("Air scatters light", "Molecules far smaller than a wavelength",
     "When light hits the tiny molecules of air, some of it bounces off in new directions."),
    ("Blue scatters most", "Rayleigh scattering grows as wavelength shrinks",
     "Short blue waves scatter far more than long red ones, so blue fills the sky."),
    ("Why not violet?", "The sun sends less violet, and our eyes see less of it",
     "Violet scatters even more, but sunlight has less of it and our eyes favour blue."),
    ("Red sunsets", "Long paths through air strip the blue away",
     "At sunset light crosses more air, the blue is scattered away, and reds remain."),
]


# ---------------------------------------------------------------- inputs


def _synthetic_voice(path: Path, seconds: float, sr: int = 22050) -> None:
    import wave

    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 10))
    env = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))
    env *= (np.sin(2 * np.pi * 0.45 * t) > -0.6).astype(float)
    x = (voiced / 3 + rng.normal(0, 0.05, t.size)) * np.convolve(env, np.ones(200) / 200, "same")
    pcm = (0.3 * x / np.max(np.abs(x)) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def _voiceover(work: Path, seconds: float) -> tuple[Path, list[float], str]:
    """(voiceover of exactly ``seconds``, per-scene durations, source description)."""
    from media.probe import ffmpeg_bin

    raw = work / "voice_raw.wav"
    try:
        from media.tts import concat_scenes, get_tts, synthesize_scenes

        engine = get_tts("piper")
        clips = synthesize_scenes(engine, [s[2] for s in SCENES], work / "tts")
        vo = concat_scenes(clips, raw)
        starts = [span.start_s for span in vo.scenes] + [vo.duration_s]
        durations = [starts[i + 1] - starts[i] for i in range(len(SCENES))]
        source = f"piper ({vo.duration_s:.1f} s spoken, padded/trimmed to {seconds:g} s)"
    except Exception as exc:  # noqa: BLE001 - any TTS failure falls back to synthetic speech
        _synthetic_voice(raw, seconds)
        durations = [seconds / len(SCENES)] * len(SCENES)
        source = f"synthetic speech-like signal (piper unavailable: {exc})"
    out = work / "voiceover.wav"
    subprocess.run(
        [ffmpeg_bin(), "-v", "error", "-y", "-i", str(raw), "-af",
         f"apad=whole_dur={seconds},atrim=duration={seconds}", str(out)],
        check=True,
    )
    return out, durations, source


def _captions(path: Path, durations: list[float]) -> None:
    """Word groups of ~4 words, timed by length inside each scene, in the safe zone."""
    import pysubs2

    from media.presets import load_preset

    zone = load_preset("youtube_shorts").safe_zone
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"], subs.info["PlayResY"] = str(SIZE[0]), str(SIZE[1])
    style = pysubs2.SSAStyle(fontname="DejaVu Sans", fontsize=72, bold=True, outline=4,
                             shadow=0, alignment=pysubs2.Alignment.BOTTOM_CENTER,
                             marginv=int(SIZE[1] * (zone.bottom + 0.03)),
                             marginl=int(SIZE[0] * zone.left), marginr=int(SIZE[0] * zone.right))
    style.primarycolor, style.outlinecolor = pysubs2.Color(255, 255, 255), pysubs2.Color(0, 0, 0)
    subs.styles["Default"] = style
    start = 0.0
    for (_, _, text), dur in zip(SCENES, durations, strict=True):
        words = text.split()
        groups = [" ".join(words[i:i + 4]) for i in range(0, len(words), 4)]
        total_chars = sum(len(g) for g in groups)
        t = start
        for g in groups:
            length = dur * len(g) / total_chars
            subs.append(pysubs2.SSAEvent(start=int(t * 1000), end=int((t + length) * 1000),
                                         text=g))
            t += length
        start += dur
    subs.save(str(path))


def make_inputs(work: Path, seconds: float) -> dict[str, Any]:
    from media.images import Brand, render_scene_card
    from media.presets import load_preset

    work.mkdir(parents=True, exist_ok=True)
    zone = load_preset("youtube_shorts").safe_zone
    t0 = time.perf_counter()
    cards = [
        str(render_scene_card(h, b, work / f"card{i}.png", size=SIZE, brand=Brand(), seed=i,
                              safe_zone=zone, caption_space=0.12))
        for i, (h, b, _) in enumerate(SCENES)
    ]
    cards_s = time.perf_counter() - t0
    voice, durations, source = _voiceover(work, seconds)
    scale = seconds / sum(durations)
    durations = [d * scale for d in durations]
    _captions(work / "captions.ass", durations)
    manifest = {
        "cards": cards, "durations": durations, "voiceover": str(voice),
        "captions": str(work / "captions.ass"), "seconds": seconds,
        "voice_source": source, "cards_s": cards_s,
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


# ---------------------------------------------------------------- workers (subprocesses)


def worker_ours(m: dict[str, Any], out: Path, motion: str) -> None:
    from media.presets import load_preset
    from media.video import SceneInput, render_video

    scenes = [SceneInput(Path(c), d) for c, d in zip(m["cards"], m["durations"], strict=True)]
    render_video(scenes, m["voiceover"], out, preset=load_preset("youtube_shorts"),
                 captions_ass=m["captions"], crossfade_s=CROSSFADE,
                 motion=motion)  # type: ignore[arg-type]


def worker_moviepy(m: dict[str, Any], out: Path, x264_preset: str) -> None:
    import pysubs2
    from moviepy import (
        AudioFileClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        concatenate_videoclips,
        vfx,
    )

    from media.images import DEFAULT_FONT
    from media.presets import load_preset

    preset = load_preset("youtube_shorts")
    assert preset.video is not None
    n = len(m["cards"])
    clips = []
    for i, (card, dur) in enumerate(zip(m["cards"], m["durations"], strict=True)):
        clip = ImageClip(card, duration=dur + (CROSSFADE if i < n - 1 else 0.0))
        clip = clip.resized(SIZE)
        if i > 0:
            clip = clip.with_effects([vfx.CrossFadeIn(CROSSFADE)])
        clips.append(clip)
    video = concatenate_videoclips(clips, method="compose", padding=-CROSSFADE)
    subs = pysubs2.load(m["captions"])
    margin = subs.styles["Default"].marginv
    overlays = []
    for ev in subs.events:
        txt = TextClip(font=str(DEFAULT_FONT), text=ev.plaintext, font_size=72, color="white",
                       stroke_color="black", stroke_width=4, method="caption",
                       size=(int(SIZE[0] * 0.8), None), text_align="center",
                       duration=(ev.end - ev.start) / 1000)
        y = SIZE[1] - margin - txt.h
        overlays.append(txt.with_start(ev.start / 1000).with_position(("center", y)))
    final = CompositeVideoClip([video, *overlays], size=SIZE).with_audio(
        AudioFileClip(m["voiceover"])
    ).with_duration(m["seconds"])
    final.write_videofile(
        str(out), fps=FPS, codec="libx264", bitrate=f"{preset.video.bitrate_kbps}k",
        preset=x264_preset, audio_codec="aac",
        audio_bitrate=f"{preset.audio.bitrate_kbps}k", threads=os.cpu_count(),
        pixel_format="yuv420p", ffmpeg_params=["-movflags", "+faststart"], logger=None,
    )


def _worker_main(kind: str, manifest: Path, out: Path, moviepy_preset: str) -> None:
    m = json.loads(manifest.read_text())
    t0 = time.perf_counter()
    if kind.startswith("ours"):
        worker_ours(m, out, kind.partition(":")[2] or "kenburns")
    else:
        worker_moviepy(m, out, moviepy_preset)
    wall = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "render_s": wall,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "max_rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
    }))


# ---------------------------------------------------------------- measuring


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        stack.extend(children.get(pid, []))
    return total / 2**20


def run_worker(kind: str, work: Path, *, moviepy_preset: str = "medium",
               env: dict[str, str] | None = None) -> dict[str, Any]:
    from media.probe import measure_loudness, probe

    out = work / f"{kind.replace(':', '-')}.mp4"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--worker", kind, "--workdir", str(work),
           "--moviepy-preset", moviepy_preset]
    peak = 0.0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=ROOT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_mb(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    info, loud = probe(out), measure_loudness(out)
    result.update({
        "wall_s": wall, "tree_peak_rss_mb": peak, "duration_s": info.duration_s,
        "size": f"{info.width}x{info.height}@{info.fps:g}",
        "codecs": f"{info.vcodec}/{info.acodec}",
        "lufs": loud.integrated_lufs, "true_peak": loud.true_peak_dbtp,
        "file_mb": out.stat().st_size / 2**20,
    })
    return result


def _table(rows: dict[str, dict[str, Any]], seconds: float) -> str:
    lines = [f"{'':28}" + "".join(f"{k:>14}" for k in rows)]

    def row(label: str, fmt: str, key: str) -> None:
        lines.append(f"{label:28}" + "".join(f"{fmt.format(r[key]):>14}" for r in rows.values()))

    row("wall time (s)", "{:.1f}", "wall_s")
    row("  of which render (s)", "{:.1f}", "render_s")
    row("CPU time (s)", "{:.1f}", "cpu_s")
    for r in rows.values():
        r["speed"] = seconds / r["wall_s"]
    row("realtime factor (x)", "{:.3f}", "speed")
    row("peak RSS, process tree (MB)", "{:.0f}", "tree_peak_rss_mb")
    row("peak RSS, one process (MB)", "{:.0f}", "max_rss_mb")
    row("output", "{}", "size")
    row("codecs", "{}", "codecs")
    row("duration (s)", "{:.2f}", "duration_s")
    row("integrated loudness (LUFS)", "{:.1f}", "lufs")
    row("true peak (dBTP)", "{:.1f}", "true_peak")
    row("file size (MB)", "{:.1f}", "file_mb")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--skip-moviepy", action="store_true")
    ap.add_argument("--moviepy-preset", default="medium",
                    help="x264 preset for MoviePy (default: medium, MoviePy's own default, "
                         "which the popular MoviePy tools keep); ours uses the platform preset's")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/agenticai-render-bench"))
    ap.add_argument("--motion", default="kenburns",
                    help="comma-separated motions to render ours with, each its own row "
                         "(kenburns | pan | none; default: kenburns, the product default)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        out = args.workdir / f"{args.worker.replace(':', '-')}.mp4"
        _worker_main(args.worker, args.workdir / "manifest.json", out, args.moviepy_preset)
        return

    load_before = os.getloadavg()
    m = make_inputs(args.workdir, args.seconds)
    print(f"inputs: 6 cards {SIZE[0]}x{SIZE[1]} in {m['cards_s']:.1f} s; "
          f"voice: {m['voice_source']}")
    motions = [m.strip() for m in args.motion.split(",") if m.strip()]
    rows = {f"ours:{m}": run_worker(f"ours:{m}", args.workdir) for m in motions}
    if not args.skip_moviepy:
        from media.probe import ffmpeg_bin

        rows["moviepy"] = run_worker("moviepy", args.workdir, moviepy_preset=args.moviepy_preset,
                                     env={"FFMPEG_BINARY": ffmpeg_bin()})
    load_after = os.getloadavg()
    print(_table(rows, args.seconds))
    for name, row in rows.items():
        if "moviepy" in rows and name != "moviepy":
            ratio = rows["moviepy"]["wall_s"] / row["wall_s"]
            cpu_ratio = rows["moviepy"]["cpu_s"] / row["cpu_s"]
            print(f"speed-up (MoviePy wall / {name}): {ratio:.1f}x  (CPU time: {cpu_ratio:.1f}x)")
    fmt = "{:.2f} {:.2f} {:.2f}"
    print(f"load average before: {fmt.format(*load_before)}  after: {fmt.format(*load_after)}"
          f"  (cpus: {os.cpu_count()})")
    from media.presets import load_preset

    ours_preset = load_preset("youtube_shorts").video
    print(f"x264 preset: ours {ours_preset.x264_preset if ours_preset else '?'}, "
          f"MoviePy {args.moviepy_preset}; same bitrate, same ffmpeg binary")
    (args.workdir / "results.json").write_text(json.dumps(
        {"rows": rows, "load_before": load_before, "load_after": load_after, "motions": motions,
         "seconds": args.seconds, "voice": m["voice_source"],
         "moviepy_preset": args.moviepy_preset}, indent=2))


if __name__ == "__main__":
    main()
