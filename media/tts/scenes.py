"""Per-scene synthesis and the voiceover timeline that joins the scenes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from media.errors import MediaInputError
from media.tts.base import TTSEngine
from media.wav import AudioClip, concat_wavs


@dataclass(frozen=True)
class SceneSpan:
    """Where one scene's audio sits inside the joined voiceover."""

    index: int
    start_s: float
    end_s: float
    clip: AudioClip

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Voiceover:
    """The joined voiceover and each scene's span in it."""

    clip: AudioClip
    scenes: list[SceneSpan]

    @property
    def duration_s(self) -> float:
        return self.clip.duration_s


def synthesize_scenes(
    engine: TTSEngine,
    texts: Sequence[str],
    out_dir: str | Path,
    *,
    voice: str | None = None,
    rate: float = 1.0,
    stem: str = "scene",
) -> list[AudioClip]:
    """Speak each scene's text into ``out_dir/<stem>_001.wav`` ...; one clip per scene."""
    if not texts:
        raise MediaInputError("no scenes to speak")
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            raise MediaInputError(f"scene {number} has no text to speak")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        engine.synthesize(text, out_dir / f"{stem}_{number:03d}.wav", voice=voice, rate=rate)
        for number, text in enumerate(texts, start=1)
    ]


def concat_scenes(
    clips: Sequence[AudioClip], out_path: str | Path, *, gap_s: float = 0.25
) -> Voiceover:
    """Join scene clips into one WAV with ``gap_s`` of silence between scenes."""
    joined, spans = concat_wavs([clip.path for clip in clips], out_path, gap_s=gap_s)
    scenes = [
        SceneSpan(index, start, end, clip)
        for index, ((start, end), clip) in enumerate(zip(spans, clips, strict=True))
    ]
    return Voiceover(joined, scenes)
