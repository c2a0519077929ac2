"""Media fixtures: engines are loaded once per session; inputs are real small files.

Production engines join the same suites where they import and have local weights: point
``MEDIA_TEST_XTTS_DIR`` / ``MEDIA_TEST_KOKORO_DIR`` at a model directory (GPU workers).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from media.asr import Transcriber, Transcript, get_transcriber, transcriber_names
from media.errors import BackendUnavailable
from media.tts import AudioClip, TTSEngine, get_tts, tts_names

# Clear, varied English that whisper tiny.en transcribes reliably from the Piper voice.
KNOWN_SENTENCE = (
    "The ocean covers most of our planet and holds almost all of its water. "
    "Tides rise and fall twice a day because the moon pulls on the sea."
)


def _tts_options(name: str) -> dict[str, Any]:
    env = {"xtts": "MEDIA_TEST_XTTS_DIR", "kokoro": "MEDIA_TEST_KOKORO_DIR"}.get(name)
    if env and os.environ.get(env):
        return {"model_dir": os.environ[env]}
    return {}


@pytest.fixture(scope="session", params=tts_names())
def tts_engine(request: pytest.FixtureRequest) -> TTSEngine:
    """Every registered TTS engine that can be built on this machine (others skip)."""
    name: str = request.param
    try:
        return get_tts(name, **_tts_options(name))
    except BackendUnavailable as exc:
        pytest.skip(f"TTS engine {name!r} not available here: {exc.user_message}")


@pytest.fixture(scope="session")
def piper_engine() -> TTSEngine:
    return get_tts("piper")


@pytest.fixture(scope="session", params=transcriber_names())
def transcriber(request: pytest.FixtureRequest) -> Transcriber:
    """Every registered ASR engine with its embedded default model."""
    try:
        return get_transcriber(request.param)
    except BackendUnavailable as exc:
        pytest.skip(f"ASR engine {request.param!r} not available here: {exc.user_message}")


@pytest.fixture(scope="session")
def spoken_clip(piper_engine: TTSEngine, tmp_path_factory: pytest.TempPathFactory) -> AudioClip:
    """KNOWN_SENTENCE spoken by the embedded Piper voice."""
    out = tmp_path_factory.mktemp("spoken") / "known.wav"
    return piper_engine.synthesize(KNOWN_SENTENCE, out)


@pytest.fixture(scope="session")
def spoken_transcript(transcriber: Transcriber, spoken_clip: AudioClip) -> Transcript:
    return transcriber.transcribe(spoken_clip.path)
