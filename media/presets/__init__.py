"""Output presets: platform targets as data files (one YAML per preset beside this module).

``load_preset("youtube_shorts")`` returns a frozen :class:`Preset`; tests and callers derive
variants with :func:`dataclasses.replace` (e.g. a 270x480 test preset).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from media.errors import MediaInputError

PRESETS_DIR = Path(__file__).resolve().parent

__all__ = [
    "AudioSpec",
    "LoudnessTarget",
    "Preset",
    "SafeZone",
    "VideoSpec",
    "load_preset",
    "load_preset_file",
    "preset_names",
]


@dataclass(frozen=True)
class SafeZone:
    """Fractions of the frame (0..1) to keep free of text and logos, per edge."""

    top: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe area in pixels as (left, top, right, bottom)."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1.0 - self.right)),
            round(height * (1.0 - self.bottom)),
        )


@dataclass(frozen=True)
class VideoSpec:
    codec: str = "libx264"
    bitrate_kbps: int = 8000
    pix_fmt: str = "yuv420p"
    x264_preset: str = "superfast"


@dataclass(frozen=True)
class AudioSpec:
    codec: str = "aac"
    bitrate_kbps: int = 256
    sample_rate: int = 44100
    channels: int = 2


@dataclass(frozen=True)
class LoudnessTarget:
    integrated_lufs: float = -14.0
    true_peak_dbtp: float = -1.0
    lra: float = 11.0


@dataclass(frozen=True)
class Preset:
    """One output target. Video fields are ``None`` for audio-only presets."""

    name: str
    kind: Literal["video", "audio"]
    container: str
    audio: AudioSpec
    loudness: LoudnessTarget
    safe_zone: SafeZone
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    video: VideoSpec | None = None
    max_duration_s: float | None = None
    faststart: bool = True

    @property
    def size(self) -> tuple[int, int]:
        if self.width is None or self.height is None:
            raise MediaInputError(f"preset {self.name!r} is audio-only and has no frame size")
        return self.width, self.height

    @property
    def is_vertical(self) -> bool:
        return self.kind == "video" and (self.height or 0) > (self.width or 0)


def _section(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise MediaInputError(f"preset {source}: {key!r} must be a mapping")
    return value


def _build(data: dict[str, Any], source: str) -> Preset:
    try:
        kind = data["kind"]
        if kind not in ("video", "audio"):
            raise MediaInputError(f"preset {source}: kind must be 'video' or 'audio', not {kind!r}")
        video = VideoSpec(**_section(data, "video", source)) if kind == "video" else None
        preset = Preset(
            name=str(data["name"]),
            kind=kind,
            container=str(data["container"]),
            audio=AudioSpec(**_section(data, "audio", source)),
            loudness=LoudnessTarget(**_section(data, "loudness", source)),
            safe_zone=SafeZone(**_section(data, "safe_zone", source)),
            width=data.get("width"),
            height=data.get("height"),
            fps=data.get("fps"),
            video=video,
            max_duration_s=data.get("max_duration_s"),
            faststart=bool(data.get("faststart", True)),
        )
    except (KeyError, TypeError) as exc:
        raise MediaInputError(f"preset {source} is malformed: {exc}") from exc
    if kind == "video" and not (preset.width and preset.height and preset.fps):
        raise MediaInputError(f"preset {source}: a video preset needs width, height and fps")
    return preset


def load_preset_file(path: str | Path) -> Preset:
    """Load a preset from any YAML file with the same schema as the bundled ones."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MediaInputError(f"cannot read preset: {exc}", path=path) from exc
    if not isinstance(data, dict):
        raise MediaInputError("a preset file must hold a mapping", path=path)
    return _build(data, str(path))


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


@cache
def load_preset(name: str) -> Preset:
    """A bundled preset by name; an unknown name raises an error listing the known ones."""
    path = PRESETS_DIR / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        raise MediaInputError(
            f"unknown output preset {name!r}: choose one of {', '.join(preset_names())}"
        )
    return load_preset_file(path)
