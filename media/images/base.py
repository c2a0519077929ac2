"""The image contract: the ``ImageGenerator`` protocol, the ``Brand`` profile and font loading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from PIL import Image, ImageColor, ImageFont, UnidentifiedImageError

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


def _reason(exc: BaseException, path: Path) -> str:
    """Pillow's complaint without the path it repeats (the message names the file already)."""
    text = str(exc) or type(exc).__name__
    for spelled in (repr(str(path)), str(path)):
        text = text.replace(spelled, path.name)
    return " ".join(text.split())


def validate_image(path: str | Path, what: str) -> tuple[int, int]:
    """Decode ``path`` fully; return its (width, height). A missing, empty, truncated or
    non-image file raises MediaInputError naming ``what`` and the file."""
    path = Path(path)
    if not path.is_file():
        raise MediaInputError(f"{what} not found", path=path)
    if path.stat().st_size == 0:
        raise MediaInputError(f"{what} is an empty file (0 bytes)", path=path)
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:  # verify() leaves the file unusable; reopen to decode
            img.load()
            return img.size
    except UnidentifiedImageError as exc:
        raise MediaInputError(f"{what} is not an image file", path=path,
                              detail=repr(exc)) from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaInputError(f"{what} is damaged ({_reason(exc, path)})", path=path,
                              detail=repr(exc)) from exc


def load_logo(path: str | Path) -> Image.Image:
    """The brand logo as RGBA; missing or corrupt files raise MediaInputError naming them."""
    path = Path(path)
    validate_image(path, "logo")
    with Image.open(path) as img:
        img.load()
        return img.convert("RGBA")


def check_size(width: int, height: int) -> None:
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise MediaInputError(f"image size {width}x{height} is outside 16..8192 px")
