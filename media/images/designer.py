"""The procedural designer (Pillow, CPU): scene cards and thumbnails.

Backgrounds are gradients with a geometric pattern, chosen and placed from ``seed`` only, so
the same inputs always give the same pixels. Text is wrapped and sized to fit a safe area,
with a scrim behind it when the background would not give enough contrast.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from media.images.base import RGB, Brand, check_size, load_font, load_logo
from media.presets import SafeZone

DEFAULT_SAFE = SafeZone(top=0.08, bottom=0.08, left=0.08, right=0.08)
STYLES = ("circles", "stripes", "dots", "rings")
MIN_CONTRAST = 4.5  # WCAG AA for text


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[str, ...]
    font_size: int
    line_height: int
    box: tuple[int, int, int, int]  # left, top, right, bottom in px

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


# ---------------------------------------------------------------- text fitting


def _wrap(text: str, font_path: Path, size: int, max_w: int) -> list[str]:
    font = load_font(font_path, size)
    lines: list[str] = []
    current = ""
    for word in text.split():
        while font.getlength(word) > max_w and len(word) > 1:  # break words wider than a line
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut] + "-") > max_w:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut] + "-")
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > max_w:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def fit_text(
    text: str,
    font_path: Path,
    max_w: int,
    max_h: int,
    *,
    max_size: int,
    min_size: int = 12,
    max_lines: int = 6,
    spacing: float = 1.18,
) -> tuple[list[str], int, int]:
    """The largest font size whose wrapped lines fit ``max_w`` x ``max_h``: (lines, size, lh)."""
    def line_height(size: int) -> int:
        ascent, descent = load_font(font_path, size).getmetrics()
        return max(1, round((ascent + descent) * spacing))

    def fits(size: int) -> bool:
        lines = _wrap(text, font_path, size, max_w)
        return len(lines) <= max_lines and line_height(size) * len(lines) <= max_h

    lo, hi = min_size, max(min_size, max_size)
    if not fits(lo):
        lines = _wrap(text, font_path, lo, max_w)
        keep = max(1, min(max_lines, max_h // line_height(lo)))
        if len(lines) > keep:
            lines = lines[:keep]
            lines[-1] = lines[-1].rstrip(".,;:- ") + "…"
        return lines, lo, line_height(lo)
    while lo < hi:  # binary search for the largest size that fits
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return _wrap(text, font_path, lo, max_w), lo, line_height(lo)


# ---------------------------------------------------------------- colour helpers


def _luminance(rgb: np.ndarray | RGB) -> float:
    c = np.asarray(rgb, dtype=np.float64).reshape(-1, 3) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = c @ np.array([0.2126, 0.7152, 0.0722])
    return float(lum.mean())


def contrast_ratio(a: float, b: float) -> float:
    """WCAG contrast ratio between two relative luminances."""
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


# ---------------------------------------------------------------- backgrounds


def background(size: tuple[int, int], brand: Brand, seed: int) -> Image.Image:
    """A gradient plus a geometric pattern in brand colours; deterministic from ``seed``."""
    w, h = size
    rng = random.Random(seed)
    c1, c2 = brand.rgb("primary"), _mix(brand.rgb("primary"), brand.rgb("secondary"), 0.55)
    angle = rng.uniform(0, 2 * np.pi)
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    y = np.linspace(0.0, h / w, h, dtype=np.float32)[:, None]
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    grad = np.asarray(c1, np.float32) + t[..., None] * (
        np.asarray(c2, np.float32) - np.asarray(c1, np.float32)
    )
    img = Image.fromarray(grad.clip(0, 255).astype(np.uint8)).convert("RGBA")

    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    style = STYLES[rng.randrange(len(STYLES))]
    accent, light = brand.rgb("accent"), brand.rgb("secondary")
    unit = min(w, h)
    if style == "circles":
        for _ in range(7):
            r = rng.uniform(0.15, 0.55) * unit
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            colour = accent if rng.random() < 0.4 else light
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*colour, rng.randint(28, 60)))
    elif style == "stripes":
        step = int(unit * rng.uniform(0.10, 0.18))
        tilt = int(unit * rng.uniform(0.3, 0.8)) * rng.choice((-1, 1))
        for i, x0 in enumerate(range(-2 * unit, w + 2 * unit, step)):
            if i % 2 == 0:
                draw.polygon(
                    [(x0, 0), (x0 + step // 2, 0), (x0 + step // 2 + tilt, h), (x0 + tilt, h)],
                    fill=(*light, 36),
                )
    elif style == "dots":
        step = int(unit * rng.uniform(0.06, 0.1))
        r = max(2, step // 6)
        for yy in range(step // 2, h, step):
            for xx in range(step // 2, w, step):
                draw.ellipse((xx - r, yy - r, xx + r, yy + r), fill=(*accent, 40))
    else:  # rings
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        width = max(2, unit // 60)
        for k in range(1, 12):
            r = k * unit * 0.12
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(*light, 50), width=width)
    return Image.alpha_composite(img, layer)


# ---------------------------------------------------------------- drawing text


def _draw_block(
    img: Image.Image,
    block: TextBlock,
    font_path: Path,
    colour: RGB,
    *,
    stroke: int = 0,
    shadow: int = 0,
    scrim: bool = True,
) -> None:
    """Centred lines inside ``block.box``, with a scrim if contrast is too low."""
    left, top, right, bottom = block.box
    font = load_font(font_path, block.font_size)
    y0 = top + (bottom - top - block.height) // 2
    widths = [font.getlength(line) for line in block.lines]
    text_w = int(max(widths, default=0))
    cx = (left + right) // 2
    pad = block.font_size // 3
    area = (max(0, cx - text_w // 2 - pad), max(0, y0 - pad),
            min(img.width, cx + text_w // 2 + pad), min(img.height, y0 + block.height + pad))
    region = np.asarray(img.convert("RGB").crop(area))
    text_lum = _luminance(colour)
    if scrim and contrast_ratio(_luminance(region), text_lum) < MIN_CONTRAST:
        shade = (0, 0, 0, 150) if text_lum > 0.4 else (255, 255, 255, 170)
        overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(overlay).rounded_rectangle(area, radius=pad, fill=shade)
        img.alpha_composite(overlay)
    draw = ImageDraw.Draw(img)
    dark = (0, 0, 0) if text_lum > 0.4 else (255, 255, 255)
    for i, line in enumerate(block.lines):
        x = cx - widths[i] / 2
        y = y0 + i * block.line_height
        if shadow:
            draw.text((x + shadow, y + shadow), line, font=font, fill=(*dark, 160),
                      stroke_width=stroke, stroke_fill=(*dark, 160))
        draw.text((x, y), line, font=font, fill=(*colour, 255), stroke_width=stroke,
                  stroke_fill=(*dark, 255))


def _paste_logo(img: Image.Image, logo_path: Path, box: tuple[int, int, int, int]) -> int:
    """Logo at the top-left of ``box``, ~8% of the short side tall; returns its height."""
    logo = load_logo(logo_path)
    target_h = max(8, round(min(img.size) * 0.08))
    scale = target_h / logo.height
    logo = logo.resize((max(1, round(logo.width * scale)), target_h), Image.Resampling.LANCZOS)
    img.alpha_composite(logo, (box[0], box[1]))
    return target_h


def _save(img: Image.Image, out_path: str | Path) -> Path:
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(out, format="PNG", optimize=False)
    return out


# ---------------------------------------------------------------- public renderers


@dataclass(frozen=True)
class CardLayout:
    headline: TextBlock
    body: TextBlock | None
    safe_box: tuple[int, int, int, int]


def layout_scene_card(
    headline: str,
    body: str | None,
    *,
    size: tuple[int, int],
    brand: Brand,
    safe_zone: SafeZone | None = None,
    logo_h: int = 0,
    caption_space: float = 0.0,
) -> CardLayout:
    """Where the text of a scene card goes, and at what size (no drawing).

    ``caption_space`` keeps that fraction of the frame height, above the safe area's bottom,
    free for burned-in captions.
    """
    w, h = size
    left, top, right, bottom = (safe_zone or DEFAULT_SAFE).box(w, h)
    bottom -= round(h * max(0.0, min(caption_space, 0.5)))
    top += logo_h + (round(h * 0.02) if logo_h else 0)
    avail_w, avail_h = right - left, bottom - top
    font_path = brand.font_path
    share = 0.58 if body else 0.9
    lines, fs, lh = fit_text(
        headline, font_path, avail_w, int(avail_h * share),
        max_size=round(min(w, h) * 0.13), min_size=max(10, round(min(w, h) * 0.035)),
        max_lines=5,
    )
    head = TextBlock(tuple(lines), fs, lh, (left, top, right, top + lh * len(lines)))
    body_block = None
    if body:
        blines, bfs, blh = fit_text(
            body, font_path, avail_w, int(avail_h * (0.92 - share)),
            max_size=min(round(fs * 0.55), round(min(w, h) * 0.06)),
            min_size=max(9, round(min(w, h) * 0.025)), max_lines=6,
        )
        body_block = TextBlock(tuple(blines), bfs, blh, (left, 0, right, blh * len(blines)))
    gap = round(fs * 0.6) if body_block else 0
    total = head.height + gap + (body_block.height if body_block else 0)
    y = top + max(0, (avail_h - total) // 2)
    head = TextBlock(head.lines, fs, lh, (left, y, right, y + head.height))
    if body_block is not None:
        by = y + head.height + gap
        body_block = TextBlock(body_block.lines, body_block.font_size, body_block.line_height,
                               (left, by, right, by + body_block.height))
    return CardLayout(head, body_block, (left, top, right, bottom))


def render_scene_card(
    headline: str,
    body: str | None,
    out_path: str | Path,
    *,
    size: tuple[int, int] = (1080, 1920),
    brand: Brand | None = None,
    seed: int = 0,
    safe_zone: SafeZone | None = None,
    caption_space: float = 0.0,
) -> Path:
    """A scene card PNG: seeded background, fitted headline (and body), brand logo.

    Text stays inside ``safe_zone`` (default 8% each side) minus ``caption_space``.
    """
    brand = brand or Brand()
    check_size(*size)
    load_font(brand.font_path, 12)  # fail early, naming the font file
    img = background(size, brand, seed)
    logo_h = 0
    if brand.logo is not None:
        box = (safe_zone or DEFAULT_SAFE).box(*size)
        logo_h = _paste_logo(img, Path(brand.logo), box)
    layout = layout_scene_card(
        headline, body, size=size, brand=brand, safe_zone=safe_zone, logo_h=logo_h,
        caption_space=caption_space,
    )
    stroke = max(1, layout.headline.font_size // 28)
    _draw_block(img, layout.headline, brand.font_path, brand.rgb("text"), stroke=stroke,
                shadow=max(1, layout.headline.font_size // 18))
    if layout.body is not None:
        draw = ImageDraw.Draw(img)
        bar_w = round(size[0] * 0.12)
        cx, by = size[0] // 2, layout.body.box[1] - round(layout.headline.font_size * 0.35)
        draw.rectangle((cx - bar_w // 2, by, cx + bar_w // 2, by + max(3, size[1] // 200)),
                       fill=brand.rgb("accent"))
        _draw_block(img, layout.body, brand.font_path, brand.rgb("text"),
                    stroke=max(1, layout.body.font_size // 30))
    return _save(img, out_path)


def render_thumbnail(
    title: str,
    out_path: str | Path,
    *,
    size: tuple[int, int] = (1280, 720),
    brand: Brand | None = None,
    seed: int = 0,
) -> Path:
    """A thumbnail: the title as big as fits, bold outline and shadow, accent colour band."""
    brand = brand or Brand()
    check_size(*size)
    load_font(brand.font_path, 12)
    w, h = size
    img = background(size, brand, seed)
    # darken the middle so a light title always pops, then an accent band at the bottom
    shade = Image.new("RGBA", size, (0, 0, 0, 90))
    img.alpha_composite(shade)
    ImageDraw.Draw(img).rectangle((0, h - max(6, h // 28), w, h), fill=brand.rgb("accent"))
    margin_x, margin_y = round(w * 0.06), round(h * 0.08)
    vertical = h > w
    lines, fs, lh = fit_text(
        title.upper() if len(title) <= 40 else title, brand.font_path,
        w - 2 * margin_x, round(h * (0.5 if vertical else 0.8)),
        max_size=round(min(w, h) * (0.2 if vertical else 0.24)),
        min_size=max(12, round(min(w, h) * 0.06)), max_lines=5 if vertical else 3,
        spacing=1.08,
    )
    top = (h - lh * len(lines)) // 2 if not vertical else round(h * 0.18)
    block = TextBlock(tuple(lines), fs, lh, (margin_x, top, w - margin_x, top + lh * len(lines)))
    if brand.logo is not None:
        _paste_logo(img, Path(brand.logo), (margin_x, margin_y // 2, w, h))
    _draw_block(img, block, brand.font_path, brand.rgb("text"), stroke=max(2, fs // 11),
                shadow=max(2, fs // 14), scrim=False)
    return _save(img, out_path)


class DesignerGenerator:
    """``ImageGenerator`` on the designer: the prompt becomes the card's headline."""

    name = "designer"

    def __init__(
        self, brand: Brand | None = None, safe_zone: SafeZone | None = None,
        caption_space: float = 0.0,
    ) -> None:
        self.brand = brand or Brand()
        self.safe_zone = safe_zone
        self.caption_space = caption_space

    def generate(
        self, prompt: str, out_path: str | Path, *, width: int, height: int, seed: int = 0
    ) -> Path:
        return render_scene_card(
            prompt, None, out_path, size=(width, height), brand=self.brand, seed=seed,
            safe_zone=self.safe_zone, caption_space=self.caption_space,
        )
