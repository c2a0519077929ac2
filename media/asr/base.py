"""The ASR contract: a ``Transcriber`` turns an audio file into a timed ``Transcript``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds and the model's confidence."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch of speech (about a sentence) as the model segmented it."""

    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Transcript:
    """What was said in an audio file, in order, with word timings."""

    text: str
    language: str
    duration_s: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text with word timestamps."""

    name: str

    def transcribe(self, audio_path: str | Path) -> Transcript: ...
