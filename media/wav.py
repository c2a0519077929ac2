"""Small WAV helpers on the standard library: read and validate, write silence, concatenate.

Only PCM WAV is handled here (what the TTS engines write). Anything else goes through ffmpeg
in ``media.audio``.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from media.errors import MediaInputError


@dataclass(frozen=True)
class AudioClip:
    """An audio file on disk and what a timeline needs to know about it."""

    path: Path
    duration_s: float
    sample_rate: int
    channels: int = 1
    sample_width: int = 2


def read_wav(path: str | Path) -> AudioClip:
    """Open a PCM WAV file and return its facts; bad files raise MediaInputError naming them."""
    path = Path(path)
    if not path.is_file():
        raise MediaInputError("file not found", path=path)
    if path.stat().st_size == 0:
        raise MediaInputError("file is empty (0 bytes)", path=path)
    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.getnframes()
            rate = wav.getframerate()
            channels = wav.getnchannels()
            width = wav.getsampwidth()
    except (wave.Error, EOFError, OSError) as exc:
        raise MediaInputError("not a readable PCM WAV file", path=path, detail=repr(exc)) from exc
    if rate <= 0:
        raise MediaInputError("WAV header has no sample rate", path=path)
    return AudioClip(path, frames / rate, rate, channels, width)


def write_silence(
    path: str | Path, duration_s: float, *, sample_rate: int = 22050, channels: int = 1
) -> AudioClip:
    """Write a 16-bit PCM WAV of silence (also handy for tests and gaps)."""
    path = Path(path)
    frames = max(0, round(duration_s * sample_rate))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(b"\x00\x00" * channels * frames)
    return AudioClip(path, frames / sample_rate, sample_rate, channels, 2)


def concat_wavs(
    paths: Sequence[str | Path], out_path: str | Path, *, gap_s: float = 0.0
) -> tuple[AudioClip, list[tuple[float, float]]]:
    """Join WAV files of one format into ``out_path`` with ``gap_s`` of silence between them.

    Returns the joined clip and each input's (start_s, end_s) inside it, computed from sample
    counts so that the offsets add up exactly to the output's duration.
    """
    if not paths:
        raise MediaInputError("nothing to concatenate: no audio files given")
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0, got {gap_s}")
    clips = [read_wav(p) for p in paths]
    first = clips[0]
    for clip in clips[1:]:
        if (clip.sample_rate, clip.channels, clip.sample_width) != (
            first.sample_rate,
            first.channels,
            first.sample_width,
        ):
            raise MediaInputError(
                f"audio format {clip.sample_rate} Hz/{clip.channels} ch/{8 * clip.sample_width}"
                f" bit differs from {first.path.name} ({first.sample_rate} Hz/{first.channels}"
                f" ch/{8 * first.sample_width} bit); synthesize all scenes with one engine",
                path=clip.path,
            )
    gap_frames = round(gap_s * first.sample_rate)
    gap_bytes = b"\x00" * (gap_frames * first.channels * first.sample_width)
    spans: list[tuple[float, float]] = []
    position = 0
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_path), "wb") as out:
        out.setnchannels(first.channels)
        out.setsampwidth(first.sample_width)
        out.setframerate(first.sample_rate)
        for index, clip in enumerate(clips):
            if index:
                out.writeframes(gap_bytes)
                position += gap_frames
            with wave.open(str(clip.path), "rb") as src:
                frames = src.getnframes()
                out.writeframes(src.readframes(frames))
            spans.append((position / first.sample_rate, (position + frames) / first.sample_rate))
            position += frames
    joined = AudioClip(
        out_path,
        position / first.sample_rate,
        first.sample_rate,
        first.channels,
        first.sample_width,
    )
    return joined, spans
