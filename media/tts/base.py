"""The TTS contract: one protocol every engine implements, plus shared argument checks."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from media.errors import MediaInputError
from media.wav import AudioClip

MIN_RATE = 0.25
MAX_RATE = 4.0


@runtime_checkable
class TTSEngine(Protocol):
    """Speaks text into a WAV file.

    ``rate`` is a speaking-rate multiplier: 1.0 is the voice's natural pace, 1.3 is 30 % faster
    (shorter audio), 0.8 slower. ``voice`` is one of ``voices()``; None means the engine's
    default voice.
    """

    name: str

    def synthesize(
        self, text: str, out_path: Path, *, voice: str | None = None, rate: float = 1.0
    ) -> AudioClip: ...

    def voices(self) -> list[str]: ...


def check_request(text: str, out_path: Path, rate: float) -> str:
    """Validate the common arguments; return the text stripped of surrounding blanks."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise MediaInputError(f"the text to speak into {Path(out_path).name} is empty")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"speaking rate must be between {MIN_RATE} and {MAX_RATE}, got {rate}")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    return text.strip()
