"""Captions: cue grouping and wrapping, SRT/ASS round trips, styles and safe-zone checks."""

from __future__ import annotations

import re
from pathlib import Path

import pysubs2
import pytest

from media.asr import Transcript, Word
from media.captions import (
    Cue,
    build_captions,
    check_safe_zone,
    default_safe_zone,
    safe_zone_for,
    wrap_lines,
    write_ass,
    write_srt,
)
from media.errors import MediaInputError

TEXT = (
    "Why is the sky blue? Sunlight looks white, but it is a mix of every colour. "
    "When it enters the air, tiny molecules scatter the short blue waves far more than the "
    "long red ones, so blue light reaches your eyes from every direction overhead. "
    "At sunset the light crosses much more air and the blue is scattered away before it "
    "arrives, which leaves the warm oranges and reds."
)


def timed_words(text: str = TEXT, *, per_word: float = 0.32, gap: float = 0.04) -> list[Word]:
    words, t = [], 0.5
    for token in text.split():
        words.append(Word(token, round(t, 3), round(t + per_word, 3), 0.9))
        t += per_word + gap
    return words


@pytest.fixture(scope="module")
def cues() -> list[Cue]:
    return build_captions(timed_words())


# --- grouping and wrapping ------------------------------------------------------------------


def test_cues_wrap_to_two_lines_of_32_chars(cues: list[Cue]) -> None:
    assert len(cues) > 3
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2
        assert all(0 < len(line) <= 32 for line in cue.lines), cue.lines


def test_cues_keep_every_word_in_order_without_overlap(cues: list[Cue]) -> None:
    assert " ".join(" ".join(cue.lines) for cue in cues) == " ".join(TEXT.split())
    assert [w for cue in cues for w in cue.words] == timed_words()
    for cue in cues:
        assert cue.start == cue.words[0].start
        assert cue.end >= cue.words[-1].end
        assert cue.end - cue.start <= 5.0 + 1e-9
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start


def test_sentences_and_pauses_start_new_cues() -> None:
    words = [
        Word("Hello", 0.0, 0.3),
        Word("there.", 0.35, 0.7),
        Word("New", 0.8, 1.0),
        Word("thought", 1.05, 1.4),
        Word("after", 2.6, 2.9),
        Word("pause", 2.95, 3.3),
    ]
    cues = build_captions(words)
    assert [cue.text for cue in cues] == ["Hello there.", "New thought", "after pause"]
    assert cues[0].end == 0.8  # held toward min_duration, up to the next cue


def test_narrower_limits_make_more_cues() -> None:
    cues = build_captions(timed_words(), max_chars_per_line=20, max_lines=1)
    assert all(len(cue.lines) == 1 and len(cue.lines[0]) <= 20 for cue in cues)


def test_wrap_lines_balances_and_refuses_overflow() -> None:
    assert wrap_lines(["one", "two", "three", "four", "five", "six"], 32, 2) == [
        "one two three four five six"
    ]
    words = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "sleeping", "dog"]
    lines = wrap_lines(words, 32, 2)
    assert lines is not None and len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 8
    assert wrap_lines(words * 3, 32, 2) is None
    assert wrap_lines(["Supercalifragilisticexpialidocious-ish-and-more"], 32, 2) == [
        "Supercalifragilisticexpialidocious-ish-and-more"
    ]


def test_captions_from_a_real_transcript(spoken_transcript: Transcript, tmp_path: Path) -> None:
    cues = build_captions(spoken_transcript.words)
    assert " ".join(cue.text.replace("\n", " ") for cue in cues) == " ".join(
        w.text for w in spoken_transcript.words
    )
    path = write_ass(cues, tmp_path / "real.ass", style="karaoke")
    assert check_safe_zone(path) == []


# --- SRT / ASS round trips ------------------------------------------------------------------


def test_srt_round_trip(cues: list[Cue], tmp_path: Path) -> None:
    path = write_srt(cues, tmp_path / "captions.srt")
    assert path.read_text(encoding="utf-8").startswith("1\n00:00:00,500 --> ")
    loaded = pysubs2.load(str(path))
    assert len(loaded) == len(cues)
    for event, cue in zip(loaded, cues, strict=True):
        assert event.start == round(cue.start * 1000)
        assert event.end == round(cue.end * 1000)
        assert event.plaintext == cue.text


@pytest.mark.parametrize("style", ["classic", "boxed", "karaoke"])
def test_ass_round_trip(cues: list[Cue], tmp_path: Path, style: str) -> None:
    path = write_ass(cues, tmp_path / f"{style}.ass", style=style)  # type: ignore[arg-type]
    loaded = pysubs2.load(str(path))
    assert loaded.info["PlayResX"] == "1080" and loaded.info["PlayResY"] == "1920"
    ass_style = loaded.styles["Default"]
    assert ass_style.fontname == "DejaVu Sans"
    assert ass_style.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert len(loaded) == len(cues)
    for event, cue in zip(loaded, cues, strict=True):
        assert event.plaintext == cue.text
        assert abs(event.start - cue.start * 1000) <= 10


def test_classic_is_white_with_a_black_outline(cues: list[Cue], tmp_path: Path) -> None:
    style = pysubs2.load(str(write_ass(cues, tmp_path / "c.ass"))).styles["Default"]
    assert style.borderstyle == 1 and style.outline >= 2
    assert (style.primarycolor.r, style.primarycolor.g, style.primarycolor.b) == (255, 255, 255)
    assert (style.outlinecolor.r, style.outlinecolor.g, style.outlinecolor.b) == (0, 0, 0)


def test_boxed_uses_an_opaque_box(cues: list[Cue], tmp_path: Path) -> None:
    style = pysubs2.load(str(write_ass(cues, tmp_path / "b.ass", style="boxed"))).styles["Default"]
    assert style.borderstyle == 3
    assert style.outlinecolor.a == 0


def test_karaoke_tags_follow_the_word_timings(cues: list[Cue], tmp_path: Path) -> None:
    loaded = pysubs2.load(str(write_ass(cues, tmp_path / "k.ass", style="karaoke")))
    for event, cue in zip(loaded, cues, strict=True):
        durations = [int(k) for k in re.findall(r"\{\\k(\d+)\}", event.text)]
        assert len(durations) == len(cue.words)
        assert sum(durations) == pytest.approx((cue.end - cue.start) * 100, abs=len(durations))
    style = loaded.styles["Default"]
    assert style.primarycolor != style.secondarycolor  # highlight differs from the rest


def test_unknown_style_is_refused(cues: list[Cue], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="classic, boxed, karaoke"):
        write_ass(cues, tmp_path / "x.ass", style="neon")  # type: ignore[arg-type]


# --- safe zones -----------------------------------------------------------------------------


def test_zone_presets() -> None:
    shorts = safe_zone_for("youtube_shorts")
    assert shorts.bottom >= 0.18 and shorts.right >= 0.10 and shorts.top >= 0.08
    assert safe_zone_for("tiktok").bottom >= 0.18
    assert default_safe_zone(1080, 1920) == shorts
    assert default_safe_zone(1920, 1080) == safe_zone_for("youtube")


@pytest.mark.parametrize("style", ["classic", "boxed", "karaoke"])
@pytest.mark.parametrize(("width", "height"), [(1080, 1920), (1920, 1080)])
def test_default_placement_is_inside_the_zone(
    cues: list[Cue], tmp_path: Path, style: str, width: int, height: int
) -> None:
    path = write_ass(cues, tmp_path / "c.ass", style=style, width=width, height=height)  # type: ignore[arg-type]
    assert check_safe_zone(path) == []


def test_tiktok_zone_placement(cues: list[Cue], tmp_path: Path) -> None:
    zone = safe_zone_for("tiktok")
    path = write_ass(cues, tmp_path / "t.ass", safe_zone=zone)
    assert check_safe_zone(path, zone) == []


def test_a_cue_in_the_bottom_tenth_is_flagged(cues: list[Cue], tmp_path: Path) -> None:
    path = write_ass(cues, tmp_path / "c.ass")
    subs = pysubs2.load(str(path))
    subs[1].marginv = 60  # bottom edge 60 px above the frame's bottom: inside the UI band
    subs[2].text = r"{\an2\pos(540,1880)}" + subs[2].text
    subs.save(str(path))
    problems = check_safe_zone(path, safe_zone_for("youtube_shorts"))
    assert len(problems) == 2
    assert problems[0].startswith("cue 2 ") and "bottom" in problems[0]
    assert problems[1].startswith("cue 3 ") and "bottom" in problems[1]


def test_top_right_placement_is_flagged(tmp_path: Path) -> None:
    cues = [Cue(0.0, 2.0, ("A long caption line up here!",))]
    path = write_ass(cues, tmp_path / "c.ass", font_size=60)
    subs = pysubs2.load(str(path))
    subs[0].text = r"{\an9}" + subs[0].text
    subs[0].marginr = 10
    subs[0].marginv = 10
    subs.save(str(path))
    (problem,) = check_safe_zone(path)
    assert "top" in problem and "right" in problem


def test_unreadable_captions_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="missing or empty") as info:
        check_safe_zone(tmp_path / "none.ass")
    assert "none.ass" in info.value.user_message
