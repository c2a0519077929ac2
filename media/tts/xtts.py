"""Coqui XTTS-v2 (coqui-tts) - a production engine for GPU workers.

Weights are never fetched here: pass ``model_dir`` (a directory holding the XTTS-v2 files:
config.json, model.pth, vocab.json, speakers_xtts.pth) or pre-download the named model into
coqui's cache (``tts --model_name tts_models/multilingual/multi-dataset/xtts_v2`` on the worker
image). ``voice`` is a built-in speaker name (see ``voices()``) or a path to a reference WAV to
clone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from media.errors import BackendUnavailable, MediaInputError
from media.tts.base import check_request
from media.wav import AudioClip, read_wav

MODEL_NAME = "tts_models/multilingual/multi-dataset/xtts_v2"
DEFAULT_SPEAKER = "Ana Florence"
INSTALL_MESSAGE = (
    "XTTS-v2 needs the 'gpu' extra (coqui-tts) and a CUDA machine: pip install 'agenticai-lab[gpu]'"
)

_MODELS: dict[tuple[str, str], Any] = {}


def _import_tts_api() -> Any:
    try:
        from TTS.api import TTS
    except Exception as exc:  # ImportError, or OSError from a CUDA-only torchaudio build
        raise BackendUnavailable("xtts", INSTALL_MESSAGE, detail=repr(exc)) from exc
    return TTS


def _cached_model_dir(model_name: str) -> Path:
    """Where coqui keeps a downloaded model; raise if it is not there (we never download)."""
    from TTS.utils.manage import ModelManager

    prefix = Path(ModelManager(progress_bar=False).output_prefix)
    directory = prefix / model_name.replace("/", "--")
    if not (directory / "config.json").is_file():
        raise BackendUnavailable(
            "xtts",
            f"XTTS-v2 weights are not on this machine ({directory}); pre-download them on the"
            " worker image or configure a local model directory",
        )
    return directory


def _device(device: str | None) -> str:
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendUnavailable("xtts", INSTALL_MESSAGE, detail="torch has no CUDA device")
    return device


class XTTSEngine:
    """XTTS-v2. Options: ``model_dir`` or ``model_name``, ``device``, ``language``, ``voice``."""

    name = "xtts"

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        model_name: str = MODEL_NAME,
        device: str | None = None,
        language: str = "en",
        voice: str = DEFAULT_SPEAKER,
    ) -> None:
        tts_class = _import_tts_api()
        directory = Path(model_dir) if model_dir is not None else _cached_model_dir(model_name)
        if not (directory / "config.json").is_file():
            raise BackendUnavailable(
                "xtts", f"No XTTS-v2 model in {directory}: config.json is missing"
            )
        self._device = _device(device)
        key = (str(directory), self._device)
        if key not in _MODELS:
            model = tts_class(
                model_path=str(directory),
                config_path=str(directory / "config.json"),
                progress_bar=False,
            )
            _MODELS[key] = model.to(self._device)
        self._tts = _MODELS[key]
        self.language = language
        self.default_voice = voice

    def voices(self) -> list[str]:
        return sorted(self._tts.speakers or [])

    def synthesize(
        self, text: str, out_path: Path, *, voice: str | None = None, rate: float = 1.0
    ) -> AudioClip:
        text = check_request(text, out_path, rate)
        chosen = voice or self.default_voice
        speaker: dict[str, Any]
        if chosen.lower().endswith(".wav"):
            if not Path(chosen).is_file():
                raise MediaInputError("reference voice WAV not found", path=chosen)
            speaker = {"speaker_wav": chosen}
        else:
            speaker = {"speaker": chosen}
        self._tts.tts_to_file(
            text=text, file_path=str(out_path), language=self.language, speed=rate, **speaker
        )
        return read_wav(out_path)
