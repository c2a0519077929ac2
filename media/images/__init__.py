"""Visuals: the ``ImageGenerator`` protocol, its providers and the designer's renderers.

>>> gen = get_image_generator("designer", brand=Brand(primary="#0b3954"))
>>> gen.generate("Why is the sky blue?", out / "scene1.png", width=1080, height=1920, seed=1)
>>> render_thumbnail("Why the sky is blue", out / "thumbnail.png", size=(1280, 720))

Providers: ``designer`` (default, Pillow, CPU) and ``diffusers`` (SDXL base / SDXL-Turbo or a
local ``save_pretrained`` directory; the ``gpu`` extra). A provider's heavy packages are
imported only when it makes its first image.
"""

from __future__ import annotations

from typing import Any

from media.errors import UnknownBackend
from media.images.base import DEFAULT_FONT, FONTS_DIR, Brand, ImageGenerator, load_font
from media.images.designer import (
    CardLayout,
    DesignerGenerator,
    TextBlock,
    contrast_ratio,
    fit_text,
    layout_scene_card,
    render_scene_card,
    render_thumbnail,
)
from media.images.diffusion import SDXL_BASE, SDXL_TURBO, DiffusersGenerator

DEFAULT_IMAGE_GENERATOR = "designer"

IMAGE_PROVIDERS: dict[str, type[Any]] = {
    "designer": DesignerGenerator,
    "diffusers": DiffusersGenerator,
}


def image_generator_names() -> list[str]:
    return sorted(IMAGE_PROVIDERS)


def get_image_generator(name: str = DEFAULT_IMAGE_GENERATOR, **options: Any) -> ImageGenerator:
    """Build the image engine configured as ``name`` with its options (see each class)."""
    try:
        provider = IMAGE_PROVIDERS[name.strip().lower()]
    except KeyError:
        raise UnknownBackend("image", name, image_generator_names()) from None
    generator: ImageGenerator = provider(**options)
    return generator


__all__ = [
    "DEFAULT_FONT",
    "DEFAULT_IMAGE_GENERATOR",
    "FONTS_DIR",
    "IMAGE_PROVIDERS",
    "SDXL_BASE",
    "SDXL_TURBO",
    "Brand",
    "CardLayout",
    "DesignerGenerator",
    "DiffusersGenerator",
    "ImageGenerator",
    "TextBlock",
    "contrast_ratio",
    "fit_text",
    "get_image_generator",
    "image_generator_names",
    "layout_scene_card",
    "load_font",
    "render_scene_card",
    "render_thumbnail",
]
