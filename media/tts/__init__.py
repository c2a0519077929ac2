"""Text to speech: the ``TTSEngine`` protocol, its providers and a factory by name.

>>> engine = get_tts("piper")                      # the embedded default
>>> clips = synthesize_scenes(engine, ["One.", "Two."], out_dir)
>>> voiceover = concat_scenes(clips, out_dir / "voiceover.wav")

Providers: ``piper`` (default, CPU, packaged CC0 voice), ``espeak`` (espeak-ng CLI), ``xtts``
(coqui XTTS-v2, GPU extra) and ``kokoro`` (Kokoro-82M, GPU extra). Backends are imported only
when their engine is built; a missing package or model raises ``BackendUnavailable``.
"""

from __future__ import annotations

from typing import Any

from media.errors import UnknownBackend, check_options
from media.tts.base import TTSEngine
from media.tts.espeak import EspeakTTS
from media.tts.kokoro import KokoroTTS
from media.tts.piper import PiperTTS
from media.tts.scenes import SceneSpan, Voiceover, concat_scenes, synthesize_scenes
from media.tts.xtts import XTTSEngine
from media.wav import AudioClip

DEFAULT_TTS = "piper"

TTS_PROVIDERS: dict[str, type[Any]] = {
    "piper": PiperTTS,
    "espeak": EspeakTTS,
    "xtts": XTTSEngine,
    "kokoro": KokoroTTS,
}


def tts_names() -> list[str]:
    """Every engine name ``get_tts`` accepts."""
    return sorted(TTS_PROVIDERS)


def get_tts(name: str = DEFAULT_TTS, **options: Any) -> TTSEngine:
    """Build the engine configured as ``name`` with its options (see each provider's class)."""
    try:
        provider = TTS_PROVIDERS[name.strip().lower()]
    except KeyError:
        raise UnknownBackend("TTS", name, tts_names()) from None
    check_options("TTS", name, provider, options)
    engine: TTSEngine = provider(**options)
    return engine


__all__ = [
    "DEFAULT_TTS",
    "TTS_PROVIDERS",
    "AudioClip",
    "EspeakTTS",
    "KokoroTTS",
    "PiperTTS",
    "SceneSpan",
    "TTSEngine",
    "Voiceover",
    "XTTSEngine",
    "concat_scenes",
    "get_tts",
    "synthesize_scenes",
    "tts_names",
]
