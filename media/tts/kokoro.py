"""Kokoro-82M (``kokoro.KPipeline``) - a production engine for GPU workers (runs on CPU too).

Weights are never fetched here: ``model_dir`` must hold the Hugging Face repo's files
(config.json, kokoro-v1_0.pth, voices/*.pt). A voice is a file stem in ``voices/`` such as
``af_heart``; its first letter is the language code (a = American English, b = British ...).
English G2P (misaki) also needs spaCy's ``en_core_web_sm`` installed on the worker image, or
it tries to download it on first use.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from media.errors import BackendUnavailable
from media.tts.base import check_request
from media.wav import AudioClip, read_wav

REPO_ID = "hexgrad/Kokoro-82M"
SAMPLE_RATE = 24000
DEFAULT_VOICE = "af_heart"
CHECKPOINT = "kokoro-v1_0.pth"
INSTALL_MESSAGE = (
    "Kokoro needs the kokoro package (the 'gpu' extra): pip install 'agenticai-lab[gpu]'"
    " (or pip install kokoro)"
)

_MODELS: dict[tuple[str, str], Any] = {}


def _import_kokoro() -> Any:
    try:
        import kokoro
    except Exception as exc:  # ImportError, or OSError from a broken torch build
        raise BackendUnavailable("kokoro", INSTALL_MESSAGE, detail=repr(exc)) from exc
    return kokoro


class KokoroTTS:
    """Kokoro text to speech. Options: ``model_dir`` (required), ``device``, ``voice``."""

    name = "kokoro"

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        device: str | None = None,
        voice: str = DEFAULT_VOICE,
    ) -> None:
        kokoro = _import_kokoro()
        if model_dir is None:
            raise BackendUnavailable(
                "kokoro",
                "Kokoro needs a local model directory (config.json, kokoro-v1_0.pth, voices/);"
                f" download {REPO_ID} onto the worker image and configure its path",
            )
        self._dir = Path(model_dir)
        needed = ("config.json", CHECKPOINT, "voices")
        missing = [name for name in needed if not (self._dir / name).exists()]
        if missing:
            raise BackendUnavailable(
                "kokoro", f"Kokoro model directory {self._dir} lacks {', '.join(missing)}"
            )
        import torch

        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        key = (str(self._dir), self._device)
        if key not in _MODELS:
            model = kokoro.KModel(
                config=str(self._dir / "config.json"), model=str(self._dir / CHECKPOINT)
            )
            _MODELS[key] = model.to(self._device).eval()
        self._model = _MODELS[key]
        self._kokoro = kokoro
        self._pipelines: dict[str, Any] = {}
        self.default_voice = voice
        self._voice_file(voice)  # fail early on a bad configured voice

    def voices(self) -> list[str]:
        return sorted(p.stem for p in (self._dir / "voices").glob("*.pt"))

    def _voice_file(self, voice: str) -> Path:
        path = self._dir / "voices" / f"{voice}.pt"
        if not path.is_file():
            raise BackendUnavailable(
                "kokoro", f"Kokoro voice {voice!r} not found; installed: {', '.join(self.voices())}"
            )
        return path

    def _pipeline(self, lang_code: str) -> Any:
        if lang_code not in self._pipelines:
            self._pipelines[lang_code] = self._kokoro.KPipeline(
                lang_code=lang_code, repo_id=REPO_ID, model=self._model
            )
        return self._pipelines[lang_code]

    def synthesize(
        self, text: str, out_path: Path, *, voice: str | None = None, rate: float = 1.0
    ) -> AudioClip:
        import numpy as np

        text = check_request(text, out_path, rate)
        chosen = voice or self.default_voice
        pipeline = self._pipeline(chosen[0])
        pieces = []
        for result in pipeline(text, voice=str(self._voice_file(chosen)), speed=rate):
            audio_part = result.audio
            if audio_part is None:
                continue
            if hasattr(audio_part, "detach"):  # a torch tensor, possibly on the GPU
                audio_part = audio_part.detach().cpu().numpy()
            pieces.append(np.asarray(audio_part, dtype=np.float32).reshape(-1))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
        with wave.open(str(out_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(pcm.tobytes())
        return read_wav(out_path)
