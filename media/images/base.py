"""The image contract: the ``ImageGenerator`` protocol, the ``Brand`` profile and font loading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from PIL import Image, ImageColor, ImageFont

from media.errors import MediaInputError

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
DEFAULT_FONT = FONTS_DIR / "DejaVuSans-Bold.ttf"

RGB = tuple[int, int, int]


@runtime_checkable
class ImageGenerator(Protocol):
    """Makes one still image for a prompt. Same prompt + seed + size -> the same image."""

    name: str

    def generate(
        self, prompt: str, out_path: str | Path, *, width: int, height: int, seed: int = 0
    ) -> Path:
        """Write a PNG of exactly ``width`` x ``height`` to ``out_path`` and return its path."""
        ...


@dataclass(frozen=True)
class Brand:
    """A brand profile: colours (any CSS colour string), an optional logo and a font file."""

    name: str = "AgenticAI Lab"
    primary: str = "#1d3557"
    secondary: str = "#e63946"
    text: str = "#ffffff"
    accent: str = "#ffd166"
    logo: Path | None = None
    font: Path | None = None

    def rgb(self, which: str) -> RGB:
        value = getattr(self, which)
        try:
            r, g, b = ImageColor.getrgb(value)[:3]
        except ValueError as exc:
            raise MediaInputError(f"brand colour {which}={value!r} is not a colour") from exc
        return r, g, b

    @property
    def font_path(self) -> Path:
        return Path(self.font) if self.font is not None else DEFAULT_FONT


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def load_font(path: str | Path, size: int) -> ImageFont.FreeTypeFont:
    """A TrueType font at ``size`` px; a missing or unreadable file raises MediaInputError."""
    path = Path(path)
    if not path.is_file():
        raise MediaInputError("font file not found", path=path)
    try:
        return _font(str(path), max(1, int(size)))
    except OSError as exc:
        raise MediaInputError(f"not a usable font file ({exc})", path=path) from exc


def load_logo(path: str | Path) -> Image.Image:
    """The brand logo as RGBA; missing or corrupt files raise MediaInputError naming them."""
    path = Path(path)
    if not path.is_file():
        raise MediaInputError("logo file not found", path=path)
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGBA")
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaInputError(f"logo is not a readable image ({exc})", path=path) from exc


def check_size(width: int, height: int) -> None:
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise MediaInputError(f"image size {width}x{height} is outside 16..8192 px")
