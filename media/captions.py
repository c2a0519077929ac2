"""Captions from word timings: cue grouping, SRT/ASS writing (pysubs2) and safe-zone checks.

>>> cues = build_captions(transcript.words)
>>> write_srt(cues, "captions.srt")
>>> write_ass(cues, "captions.ass", style="karaoke", width=1080, height=1920)
>>> check_safe_zone("captions.ass", safe_zone_for("youtube_shorts"))   # [] when all is well
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pysubs2

from media.asr.base import Word
from media.errors import MediaInputError
from media.presets import SafeZone, load_preset

CaptionStyle = Literal["classic", "boxed", "karaoke"]
CAPTION_STYLES: tuple[CaptionStyle, ...] = ("classic", "boxed", "karaoke")
DEFAULT_FONT = "DejaVu Sans"
CHAR_WIDTH_EM = 0.55  # average advance of a bold sans character per ASS font size unit
LINE_HEIGHT_EM = 1.2  # line box height per font size unit (libass: about 1.0-1.2)
_SENTENCE_END = (".", "!", "?", "…")


@dataclass(frozen=True)
class Cue:
    """One caption on screen: its time span, wrapped lines and the words it shows."""

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[Word, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def safe_zone_for(preset: str) -> SafeZone:
    """The safe zone an output preset declares (``youtube_shorts``, ``tiktok``, ``youtube``)."""
    return load_preset(preset).safe_zone


def default_safe_zone(width: int, height: int) -> SafeZone:
    """Portrait frames get the YouTube Shorts zone (bottom 20 %, right 14 %, top 10 % kept
    clear of the platform UI), others the 16:9 title-safe margin of the ``youtube`` preset."""
    return safe_zone_for("youtube_shorts" if height > width else "youtube")


# --- grouping words into cues ---------------------------------------------------------


def _greedy(words: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def wrap_lines(words: Sequence[str], max_chars: int, max_lines: int) -> list[str] | None:
    """Wrap words into at most ``max_lines`` balanced lines of at most ``max_chars``.

    Returns None when they do not fit. A single word longer than ``max_chars`` gets a line of
    its own (it cannot be broken).
    """
    if not words:
        return []
    limit = max(max_chars, *(len(word) for word in words))
    lines = _greedy(words, limit)
    if len(lines) > max_lines:
        return None
    total = len(" ".join(words))
    # Smallest width that still needs no more lines: evens out the line lengths.
    for width in range(max(1, math.ceil(total / len(lines))), limit + 1):
        balanced = _greedy(words, width)
        if len(balanced) <= len(lines):
            return balanced
    return lines


def build_captions(
    words: Sequence[Word],
    *,
    max_chars_per_line: int = 32,
    max_lines: int = 2,
    max_duration: float = 5.0,
    min_duration: float = 0.8,
    pause_split: float = 0.7,
    split_sentences: bool = True,
) -> list[Cue]:
    """Group timed words into cues that wrap to ``max_lines`` lines of ``max_chars_per_line``.

    A new cue starts when the text would not fit, the cue would last over ``max_duration``
    seconds, the speaker pauses longer than ``pause_split`` or (``split_sentences``) the last
    word ended a sentence. Cues shorter than ``min_duration`` are held on screen longer, up
    to the next cue's start.
    """
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        word = Word(word.text.strip(), float(word.start), float(word.end), word.probability)
        if not word.text:
            continue
        if current:
            texts = [w.text for w in current] + [word.text]
            too_long = wrap_lines(texts, max_chars_per_line, max_lines) is None
            too_slow = word.end - current[0].start > max_duration
            paused = word.start - current[-1].end > pause_split
            sentence = split_sentences and current[-1].text.endswith(_SENTENCE_END)
            if too_long or too_slow or paused or sentence:
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)

    cues: list[Cue] = []
    for index, group in enumerate(groups):
        start = group[0].start
        end = max(group[-1].end, start + min_duration)
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0].start)
        end = max(end, group[-1].end)
        lines = wrap_lines([w.text for w in group], max_chars_per_line, max_lines) or []
        cues.append(Cue(start, end, tuple(lines), tuple(group)))
    return cues


# --- writing ----------------------------------------------------------------------------


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _color(hex_color: str, alpha: int = 0) -> pysubs2.Color:
    value = hex_color.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", value):
        raise ValueError(f"colour must look like #RRGGBB, got {hex_color!r}")
    return pysubs2.Color(int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha)


def write_srt(cues: Sequence[Cue], path: str | Path) -> Path:
    """Write the cues as SubRip (.srt)."""
    subs = pysubs2.SSAFile()
    for cue in cues:
        text = r"\N".join(cue.lines)
        subs.append(pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), text=text))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(path), format_="srt")
    return path


def _karaoke_text(cue: Cue) -> str:
    """``{\\kNN}`` before each word (centiseconds until the next word), lines kept."""
    words = list(cue.words)
    if not words or sum(len(line.split()) for line in cue.lines) != len(words):
        return r"\N".join(cue.lines)
    parts: list[str] = []
    lead = round((words[0].start - cue.start) * 100)
    if lead > 0:
        parts.append(f"{{\\k{lead}}}")
    position = 0
    for line_index, line in enumerate(cue.lines):
        tokens = []
        for _ in line.split():
            word = words[position]
            following = words[position + 1].start if position + 1 < len(words) else cue.end
            tokens.append(f"{{\\k{max(1, round((following - word.start) * 100))}}}{word.text}")
            position += 1
        parts.append((r"\N" if line_index else "") + " ".join(tokens))
    return "".join(parts)


def auto_font_size(cues: Sequence[Cue], width: int, height: int, zone: SafeZone) -> int:
    """The largest size (capped at 6.5 % of the short side) at which the longest line fits."""
    x0, _, x1, _ = zone.box(width, height)
    longest = max((len(line) for cue in cues for line in cue.lines), default=16)
    fitting = (x1 - x0) / (max(longest, 16) * CHAR_WIDTH_EM)
    return max(12, math.floor(min(fitting, 0.065 * min(width, height))))


def write_ass(
    cues: Sequence[Cue],
    path: str | Path,
    *,
    style: CaptionStyle = "classic",
    width: int = 1080,
    height: int = 1920,
    font: str = DEFAULT_FONT,
    font_size: int | None = None,
    safe_zone: SafeZone | None = None,
    text_color: str = "#FFFFFF",
    highlight_color: str = "#FFD400",
    bold: bool = True,
) -> Path:
    """Write Advanced SubStation (.ass) captions for a ``width`` x ``height`` video.

    Styles: ``classic`` white text with a black outline; ``boxed`` text on an opaque box
    (BorderStyle 3); ``karaoke`` word-by-word highlight with ``\\k`` tags. The text is
    bottom-centred inside ``safe_zone`` (default: by aspect ratio, see ``default_safe_zone``).
    """
    if style not in CAPTION_STYLES:
        raise ValueError(f"caption style must be one of {', '.join(CAPTION_STYLES)}, got {style!r}")
    zone = safe_zone or default_safe_zone(width, height)
    size = font_size or auto_font_size(cues, width, height, zone)
    outline = max(2.0, round(size * 0.08, 1))
    ass_style = pysubs2.SSAStyle(
        fontname=font,
        fontsize=size,
        bold=bold,
        primarycolor=_color(text_color),
        secondarycolor=_color(text_color),
        outlinecolor=_color("#000000"),
        backcolor=_color("#000000", 0x80),
        borderstyle=1,
        outline=outline,
        shadow=round(size * 0.03, 1),
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
    )
    if style == "boxed":
        ass_style.borderstyle = 3  # opaque box drawn in OutlineColour, Outline = padding
        outline = round(size * 0.25, 1)
        ass_style.outline = outline
        ass_style.shadow = 0
        ass_style.outlinecolor = _color("#000000")
        ass_style.backcolor = _color("#000000")
    elif style == "karaoke":
        ass_style.primarycolor = _color(highlight_color)  # sung (current and past) words
        ass_style.secondarycolor = _color(text_color)  # words still to come
    x0, _, x1, y1 = zone.box(width, height)
    pad = outline + ass_style.shadow + 0.02 * min(width, height)
    ass_style.marginl = math.ceil(x0 + pad)
    ass_style.marginr = math.ceil(width - x1 + pad)
    ass_style.marginv = math.ceil(height - y1 + pad)

    subs = pysubs2.SSAFile()
    subs.info.update(
        {
            "PlayResX": str(width),
            "PlayResY": str(height),
            "ScaledBorderAndShadow": "yes",
            "WrapStyle": "0",
        }
    )
    subs.styles = {"Default": ass_style}
    for cue in cues:
        text = _karaoke_text(cue) if style == "karaoke" else r"\N".join(cue.lines)
        subs.append(pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), text=text))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(path), format_="ass")
    return path


# --- checking ---------------------------------------------------------------------------

_AN = re.compile(r"\\an([1-9])")
_POS = re.compile(r"\\pos\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)")
_FS = re.compile(r"\\fs([\d.]+)")


def _text_box(
    event: pysubs2.SSAEvent, style: pysubs2.SSAStyle, width: int, height: int
) -> tuple[float, float, float, float]:
    """Estimate the (x0, y0, x1, y1) box libass draws an event in, from font size and lines."""
    tags = "".join(re.findall(r"\{([^}]*)\}", event.text))
    alignment = int(_AN.findall(tags)[-1]) if _AN.search(tags) else int(style.alignment)
    size = float(_FS.findall(tags)[-1]) if _FS.search(tags) else float(style.fontsize)
    margin_l = event.marginl or style.marginl
    margin_r = event.marginr or style.marginr
    margin_v = event.marginv or style.marginv
    pad = float(style.outline) + float(style.shadow)
    available = max(1.0, width - margin_l - margin_r)
    char_w = size * CHAR_WIDTH_EM * float(style.scalex) / 100
    line_count = 0
    text_w = 0.0
    for line in event.plaintext.split("\n"):
        line_w = len(line) * char_w
        line_count += max(1, math.ceil(line_w / available))  # libass wraps what does not fit
        text_w = max(text_w, min(line_w, available))
    box_w = text_w + 2 * pad
    box_h = line_count * size * LINE_HEIGHT_EM * float(style.scaley) / 100 + 2 * pad
    column, row = (alignment - 1) % 3, (alignment - 1) // 3  # row 0 bottom, 1 middle, 2 top
    position = _POS.search(tags)
    if position:
        x, y = float(position.group(1)), float(position.group(2))
        x0 = x - box_w * column / 2
        y0 = (y - box_h, y - box_h / 2, y)[row]
    else:
        x0 = (margin_l, margin_l + (available - box_w) / 2, width - margin_r - box_w)[column]
        y0 = (height - margin_v - box_h, (height - box_h) / 2, margin_v)[row]
    return x0, y0, x0 + box_w, y0 + box_h


def check_safe_zone(ass_path: str | Path, zone: SafeZone | None = None) -> list[str]:
    """Report every cue whose estimated text box leaves ``zone``; an empty list means none.

    The box is estimated from the style's font size, outline, margins, alignment, the line
    count and any ``\\an``, ``\\pos`` or ``\\fs`` override tags. ``zone`` defaults by aspect.
    """
    path = Path(ass_path)
    if not path.is_file() or path.stat().st_size == 0:
        raise MediaInputError("captions file is missing or empty", path=path)
    try:
        subs = pysubs2.load(str(path))
    except Exception as exc:  # pysubs2 format and parse errors
        raise MediaInputError("cannot read captions file", path=path, detail=repr(exc)) from exc
    width = int(subs.info.get("PlayResX", 384))
    height = int(subs.info.get("PlayResY", 288))
    zone = zone or default_safe_zone(width, height)
    zx0, zy0, zx1, zy1 = zone.box(width, height)
    problems: list[str] = []
    for number, event in enumerate((e for e in subs if not e.is_comment), start=1):
        style = subs.styles.get(event.style, pysubs2.SSAStyle.DEFAULT_STYLE)
        x0, y0, x1, y1 = _text_box(event, style, width, height)
        over = {
            "top": zy0 - y0,
            "bottom": y1 - zy1,
            "left": zx0 - x0,
            "right": x1 - zx1,
        }
        sides = [f"{side} by {amount:.0f} px" for side, amount in over.items() if amount > 0.5]
        if sides:
            snippet = event.plaintext.replace("\n", " ")[:40]
            problems.append(
                f"cue {number} at {event.start / 1000:.2f}s {snippet!r}: text box"
                f" ({x0:.0f},{y0:.0f})-({x1:.0f},{y1:.0f}) leaves the safe zone"
                f" ({zx0},{zy0})-({zx1},{zy1}) at the {', '.join(sides)}"
            )
    return problems
