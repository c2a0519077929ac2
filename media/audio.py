"""Audio assembly: voice + ducked music bed, two-pass loudnorm, and podcast rendering.

The mix is described once (:func:`mix_graph`) and built for each pass. Loudness
(:func:`plan_loudness`): a quick audio-only pass measures the mix with ``loudnorm
print_format=json``; the mix then gets a gain to the target and a peak limiter so that its
crest fits under the true-peak limit; a second audio-only loudnorm pass measures that; the
one real render (video or podcast) applies ``loudnorm`` with those values, which now runs in
its exact *linear* mode, then resamples to 44.1 kHz stereo fltp for the encoder.

Why the limiter: speech peaks ~15-20 dB above its loudness, more than the 12.5 dB between
-14 LUFS and -1.5 dBTP. Given such input, loudnorm falls back to its dynamic mode, which
landed 0.6-2.2 LU under target here (Piper voice: -16.2 for -14). With it: within 0.2 LU.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from media.errors import MediaError, MediaInputError
from media.presets import LoudnessTarget, Preset
from media.probe import MediaInfo, ffmpeg_bin, probe, run_tool, run_with_progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
# Lossy encoders overshoot the true peak a little; aim this far below the preset's limit.
TRUE_PEAK_HEADROOM_DB = 0.5
# The pre-limiter's (sample-peak) ceiling sits this far below loudnorm's true-peak target.
LIMITER_MARGIN_DB = 1.0
MUSIC_GAIN_DB = -14.0  # music bed level before ducking, relative to its source

Stream = Any  # an ffmpeg-python stream node
Progress = Callable[[float], None]


@dataclass(frozen=True)
class LoudnormStats:
    """What pass 1 measured (loudnorm's JSON), fed to pass 2."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


def validate_audio(path: str | Path, what: str) -> MediaInfo:
    """A readable audio file with a non-zero duration, or MediaInputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise MediaInputError(f"{what} not found", path=path)
    if path.stat().st_size == 0:
        raise MediaInputError(f"{what} is an empty file (0 bytes)", path=path)
    info = probe(path)
    if info.acodec is None:
        raise MediaInputError(f"{what} has no audio stream", path=path)
    if info.duration_s < 0.05:
        raise MediaInputError(f"{what} has no audio (duration {info.duration_s:.2f} s)", path=path)
    return info


def _normalised(stream: Stream) -> Stream:
    return stream.filter("aresample", SAMPLE_RATE).filter(
        "aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE, channel_layouts="stereo"
    )


def mix_graph(
    voice: Stream,
    duration_s: float,
    *,
    music: Stream | None = None,
    music_gain_db: float = MUSIC_GAIN_DB,
) -> Stream:
    """Voice (+ music looped/trimmed to ``duration_s``, ducked by the voice), exactly that long.

    ``music`` must come from an input opened with ``stream_loop=-1``.
    """
    voice = _normalised(voice)
    if music is not None:
        split = voice.filter_multi_output("asplit", 2)
        voice_main, sidechain = split[0], split[1]
        bed = (
            _normalised(music.filter("atrim", duration=duration_s).filter("asetpts", "N/SR/TB"))
            .filter("volume", f"{music_gain_db}dB")
        )
        ducked = ffmpeg.filter(
            [bed, sidechain], "sidechaincompress",
            threshold=0.02, ratio=8, attack=20, release=400, makeup=1,
        )
        voice = ffmpeg.filter(
            [voice_main, ducked], "amix", inputs=2, duration="first", dropout_transition=0,
            normalize=0,
        )
    return voice.filter("apad", whole_dur=duration_s).filter("atrim", duration=duration_s)


def _loudnorm_target(target: LoudnessTarget) -> dict[str, float]:
    return {
        "I": target.integrated_lufs,
        "TP": target.true_peak_dbtp - TRUE_PEAK_HEADROOM_DB,
        "LRA": target.lra,
    }


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def measure_for_loudnorm(mixed: Stream, target: LoudnessTarget, *, what: str) -> LoudnormStats:
    """An audio-only pass of ``mixed`` into loudnorm's measuring mode (fast, no video)."""
    stream = mixed.filter("loudnorm", print_format="json", **_loudnorm_target(target))
    args = ffmpeg.output(stream, "-", format="null").global_args(
        "-hide_banner", "-nostats", "-nostdin"
    ).compile(cmd=ffmpeg_bin())
    text = run_tool(args, what=f"{what} (loudness measurement)")
    blocks = _JSON_BLOCK.findall(text)
    if not blocks:
        raise MediaError(f"{what}: loudnorm printed no measurement", detail=text[-2000:])
    data = json.loads(blocks[-1])

    def num(key: str, low: float, high: float) -> float:
        try:
            value = float(data[key])
        except (KeyError, ValueError):  # "-inf" for silence
            value = low
        return min(high, max(low, value))

    return LoudnormStats(
        input_i=num("input_i", -99.0, 0.0),
        input_tp=num("input_tp", -99.0, 99.0),
        input_lra=num("input_lra", 0.0, 99.0),
        input_thresh=num("input_thresh", -99.0, 0.0),
        target_offset=num("target_offset", -99.0, 99.0),
    )


def apply_loudnorm(mixed: Stream, target: LoudnessTarget, stats: LoudnormStats) -> Stream:
    """The render's audio tail: loudnorm with measured values, then 44.1 kHz stereo fltp."""
    if stats.input_i <= -70.0:  # silence: nothing to normalise
        normed = mixed
    else:
        normed = mixed.filter(
            "loudnorm",
            measured_I=stats.input_i,
            measured_TP=stats.input_tp,
            measured_LRA=stats.input_lra,
            measured_thresh=stats.input_thresh,
            offset=stats.target_offset,
            linear="true",
            **_loudnorm_target(target),
        )
    return normed.filter(
        "aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE, channel_layouts="stereo"
    )


def _gain_and_limit(mixed: Stream, gain_db: float, target: LoudnessTarget) -> Stream:
    ceiling_db = target.true_peak_dbtp - TRUE_PEAK_HEADROOM_DB - LIMITER_MARGIN_DB
    return mixed.filter("volume", f"{gain_db:.2f}dB").filter(
        "alimiter", limit=f"{10 ** (ceiling_db / 20):.4f}", attack=2, release=80,
        level="false", latency="true",
    )


def plan_loudness(
    build_mix: Callable[[], Stream], target: LoudnessTarget, *, what: str
) -> Callable[[], Stream]:
    """Run the measuring passes; return a builder of the render's normalised audio stream.

    ``build_mix`` must build the same mix graph (fresh inputs) each time it is called.
    """
    raw = measure_for_loudnorm(build_mix(), target, what=what)
    if raw.input_i <= -70.0:
        return lambda: apply_loudnorm(build_mix(), target, raw)
    gain = target.integrated_lufs - raw.input_i
    headroom = target.true_peak_dbtp - TRUE_PEAK_HEADROOM_DB - (raw.input_tp + gain)
    if headroom >= 0:  # already fits: linear loudnorm straight away
        return lambda: apply_loudnorm(build_mix(), target, raw)

    def staged() -> Stream:
        return _gain_and_limit(build_mix(), gain, target)

    limited = measure_for_loudnorm(staged(), target, what=what)
    log.debug("%s: %.1f LUFS, %.1f dBTP -> gain %.1f dB + limiter -> %.1f LUFS, %.1f dBTP",
              what, raw.input_i, raw.input_tp, gain, limited.input_i, limited.input_tp)
    return lambda: apply_loudnorm(staged(), target, limited)


def _program(voiceover: Path, intro: Path | None, outro: Path | None) -> Stream:
    parts = [p for p in (intro, voiceover, outro) if p is not None]
    streams = [_normalised(ffmpeg.input(str(p)).audio) for p in parts]
    if len(streams) == 1:
        return streams[0]
    return ffmpeg.concat(*streams, v=0, a=1)


def render_podcast(
    voiceover: str | Path,
    out_path: str | Path,
    *,
    preset: Preset,
    music: str | Path | None = None,
    intro: str | Path | None = None,
    outro: str | Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """An episode file (MP3 for the ``podcast`` preset): intro + voice + outro, optional music
    bed ducked under the speech, two-pass loudness normalisation to the preset's target."""
    voice_path = Path(voiceover).resolve()
    intro_p = Path(intro).resolve() if intro else None
    outro_p = Path(outro).resolve() if outro else None
    music_p = Path(music).resolve() if music else None
    total = validate_audio(voice_path, "voiceover").duration_s
    for p, what in ((intro_p, "intro"), (outro_p, "outro")):
        if p is not None:
            total += validate_audio(p, what).duration_s
    if music_p is not None:
        validate_audio(music_p, "music")
    if preset.max_duration_s and total > preset.max_duration_s + 0.5:
        raise MediaInputError(
            f"the episode is {total:.1f} s; preset {preset.name} allows {preset.max_duration_s} s"
        )

    def build() -> Stream:
        bed = ffmpeg.input(str(music_p), stream_loop=-1).audio if music_p else None
        return mix_graph(_program(voice_path, intro_p, outro_p), total, music=bed)

    what = f"podcast render ({preset.name})"
    if progress:
        progress(0.0)
    audio = plan_loudness(build, preset.loudness, what=what)()
    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    args = (
        ffmpeg.output(
            audio, str(out),
            acodec=preset.audio.codec,
            audio_bitrate=f"{preset.audio.bitrate_kbps}k",
            ar=preset.audio.sample_rate,
            ac=preset.audio.channels,
            vn=None,
        )
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1",
                     "-nostats")
        .overwrite_output()
        .compile(cmd=ffmpeg_bin())
    )
    run_with_progress(args, what=what, duration_s=total, progress=progress, span=(0.1, 1.0))
    return out
