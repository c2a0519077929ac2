"""Media QA: read the rendered file back with ffprobe and ffmpeg's ebur128 and check it
against the preset (duration, frame, codecs, loudness, true peak), the captions against
the platform's safe zone, and the voiceover against the script (word error rate).

These failures are not fixed by rewriting the script, so none is ``fixable``: a person
sees them at the final review. ``personal_data_checks`` listens to the voiceover (its ASR
transcript) and reads the captions for personal data the script's redaction missed.
"""

from __future__ import annotations

from pathlib import Path

import pysubs2

from assistant.content import MediaAssets, QACheck
from assistant.tools.quality.pii import Detector, describe
from media.captions import check_safe_zone
from media.errors import MediaError
from media.presets import Preset
from media.probe import faststart, measure_loudness, probe

LOUDNESS_TOLERANCE_LU = 1.0


def media_checks(media: MediaAssets, preset: Preset, max_wer: float) -> list[QACheck]:
    if not media.output or not Path(media.output).is_file():
        return [QACheck(name="media", passed=False, message="no rendered file to check")]
    try:
        info = probe(media.output)
        loudness = measure_loudness(media.output)
    except MediaError as exc:
        return [QACheck(name="media", passed=False, message=exc.user_message)]
    checks: list[QACheck] = []
    limit = preset.max_duration_s
    checks.append(QACheck(
        name="duration", passed=not limit or info.duration_s <= limit + 0.05,
        message=f"{info.duration_s:.1f} s" + (f" (limit {limit:g} s)" if limit else ""),
    ))
    if preset.kind == "video":
        expected = (preset.width, preset.height, preset.fps)
        actual = (info.width, info.height, round(info.fps or 0))
        checks.append(QACheck(
            name="frame", passed=actual == expected,
            message=f"{info.width}x{info.height} at {info.fps:g} fps, {info.pix_fmt}"
            f" (preset {preset.width}x{preset.height} at {preset.fps} fps)",
        ))
        codecs_ok = info.vcodec == "h264" and info.acodec == "aac"
        checks.append(QACheck(
            name="codecs", passed=codecs_ok and faststart(media.output),
            message=f"{info.vcodec}/{info.acodec}, faststart {faststart(media.output)}",
        ))
    else:
        checks.append(QACheck(name="codecs", passed=info.acodec == "mp3",
                              message=f"{info.acodec}, {info.sample_rate} Hz"))
    target = preset.loudness.integrated_lufs
    checks.append(QACheck(
        name="loudness",
        passed=abs(loudness.integrated_lufs - target) <= LOUDNESS_TOLERANCE_LU,
        message=f"{loudness.integrated_lufs:.1f} LUFS (target {target:g} ±1)",
    ))
    peak_limit = preset.loudness.true_peak_dbtp
    checks.append(QACheck(
        name="true_peak", passed=loudness.true_peak_dbtp <= peak_limit + 0.05,
        message=f"{loudness.true_peak_dbtp:.1f} dBTP (limit {peak_limit:g})",
    ))
    if media.captions_ass:
        outside = check_safe_zone(media.captions_ass, preset.safe_zone)
        checks.append(QACheck(
            name="captions_safe_zone", passed=not outside,
            message="all captions inside the safe zone" if not outside
            else f"{len(outside)} caption(s) outside: {outside[0]}",
        ))
    if media.wer is not None:
        checks.append(QACheck(
            name="voiceover_wer", passed=media.wer <= max_wer,
            message=f"voiceover word error rate {media.wer:.1%} (max {max_wer:.0%})",
        ))
    return checks


def caption_text(path: str | Path) -> str:
    """What a caption file shows, cue after cue (tags and line breaks out), so a value split
    over two cues is read whole."""
    subs = pysubs2.load(str(path), encoding="utf-8")
    return " ".join(" ".join(e.plaintext.split()) for e in subs if not e.is_comment)


def personal_data_checks(media: MediaAssets, detector: Detector) -> list[QACheck]:
    """Personal data in what the voiceover says (its transcript) or the captions show: an
    error naming the kind, never the value."""
    heard: list[tuple[str, str, str]] = []
    if media.transcript:
        heard.append(("voiceover_pii", "the voiceover's transcript", media.transcript))
    for name, path in (("captions_srt_pii", media.captions_srt),
                       ("captions_ass_pii", media.captions_ass)):
        if path and Path(path).is_file():
            heard.append((name, f"the captions ({Path(path).suffix[1:]})", caption_text(path)))
    checks = []
    for name, where, text in heard:
        found = detector.count(text, spoken=True)
        checks.append(QACheck(
            name=name, passed=not found,
            message=f"{where} holds personal data: {', '.join(describe(found))}" if found
            else f"no personal data in {where}",
        ))
    return checks
