"""Code-filled bounded fields are cut at a word boundary and never raise a ValidationError."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from assistant.content import Brief, clip_words, fit

LONG_TOPIC = "how the moon and the sun pull on the oceans to make spring and neap tides"


@pytest.mark.parametrize("limit", [1, 5, 12, 40, 69, 70, 80])
def test_a_clip_fits_and_ends_on_a_word(limit: int) -> None:
    clipped = clip_words(LONG_TOPIC, limit)
    assert len(clipped) <= limit
    if limit >= len(LONG_TOPIC):
        assert clipped == LONG_TOPIC
    elif limit >= 12:
        head = clipped.removesuffix("\u2026")
        assert LONG_TOPIC.startswith(head)
        assert LONG_TOPIC[len(head)] == " "  # the cut fell between two words


def test_text_inside_the_bound_is_left_as_it_is() -> None:
    assert clip_words("two\nlines", 80) == "two\nlines"
    assert clip_words("a" * 30, 10) == "a" * 9 + "\u2026"  # one long word: cut inside it


class Card(BaseModel):
    title: str = Field(max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=2)
    body: str = ""


def test_fit_cuts_each_bounded_field_to_its_bound() -> None:
    card = fit(Card, title=LONG_TOPIC, tags=["a", "b", "c"], body=LONG_TOPIC)
    assert len(card.title) <= 20 and card.title.startswith("how the moon")
    assert card.tags == ["a", "b"]
    assert card.body == LONG_TOPIC  # unbounded: untouched
    with pytest.raises(ValueError):
        Card(title=LONG_TOPIC)  # what fit() saves the caller from


def test_the_longest_allowed_topic_fits_every_title_bound() -> None:
    topic = " ".join(["tides"] * 83)[:500]
    brief = Brief.create(topic, "short")
    assert len(clip_words(brief.topic, 80)) <= 80
