"""Speech to text: the ``Transcriber`` protocol, its providers and a factory by name.

>>> transcriber = get_transcriber("faster_whisper")          # packaged whisper tiny.en
>>> transcript = transcriber.transcribe("voiceover.wav")
>>> word_error_rate(script_text, transcript.text)

Production: ``get_transcriber("faster_whisper", model="large-v3", device="cuda",
compute_type="float16")`` with the model pre-downloaded (nothing is fetched at run time).
"""

from __future__ import annotations

from typing import Any

from media.asr.base import Segment, Transcriber, Transcript, Word
from media.asr.faster_whisper import FasterWhisperTranscriber, bundled_model_dir
from media.asr.wer import normalize_words, word_error_rate
from media.errors import UnknownBackend, check_options

DEFAULT_ASR = "faster_whisper"

ASR_PROVIDERS: dict[str, type[Any]] = {"faster_whisper": FasterWhisperTranscriber}


def transcriber_names() -> list[str]:
    """Every engine name ``get_transcriber`` accepts."""
    return sorted(ASR_PROVIDERS)


def get_transcriber(name: str = DEFAULT_ASR, **options: Any) -> Transcriber:
    """Build the transcriber configured as ``name`` with its options."""
    key = name.strip().lower().replace("-", "_")
    if key not in ASR_PROVIDERS:
        raise UnknownBackend("ASR", name, transcriber_names())
    provider = ASR_PROVIDERS[key]
    check_options("ASR", name, provider, options)
    transcriber: Transcriber = provider(**options)
    return transcriber


__all__ = [
    "ASR_PROVIDERS",
    "DEFAULT_ASR",
    "FasterWhisperTranscriber",
    "Segment",
    "Transcriber",
    "Transcript",
    "Word",
    "bundled_model_dir",
    "get_transcriber",
    "normalize_words",
    "transcriber_names",
    "word_error_rate",
]
