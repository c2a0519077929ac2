"""Research depth follows the format unless the person chooses one: a blog, video or
podcast needs the sources a deep search finds (the tides blog: 772 of 800 words at deep,
385 at shallow); a short or a post stays quick at shallow."""

from __future__ import annotations

import inspect

import pytest

from assistant.app.commands import RequestParse
from assistant.cli.make import make
from assistant.content import Brief


@pytest.mark.parametrize(("fmt", "depth"), [
    ("blog", "deep"), ("video", "deep"), ("podcast", "deep"),
    ("short", "shallow"), ("social", "shallow"),
])
def test_the_format_sets_the_default_depth(fmt: str, depth: str) -> None:
    assert Brief.create("how tides work", fmt).depth == depth  # type: ignore[arg-type]
    # a chat request names no depth: the same default
    assert RequestParse("how tides work", fmt).brief("someone").depth == depth  # type: ignore[arg-type]


def test_a_chosen_depth_wins() -> None:
    assert Brief.create("how tides work", "blog", depth="shallow").depth == "shallow"
    assert Brief.create("how tides work", "short", depth="exhaustive").depth == "exhaustive"


def test_the_make_command_leaves_the_depth_to_the_format_unless_given() -> None:
    option = inspect.signature(make).parameters["depth"].default
    assert option.default is None  # a fixed "shallow" here would override the format
    assert "deep for blog" in option.help
