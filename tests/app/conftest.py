"""A conversation over the real runner and the tides knowledge base, with scripted framing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from assistant.app.conversation import Conversation
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from tests.fakes import FRAMING, scripted


@contextmanager
def conversation_over(svc: Services) -> Iterator[Conversation]:
    """A conversation over a real runner on ``svc``, with the scripted framing model."""
    svc.set_chat(scripted(FRAMING))
    runner = JobRunner(svc)
    conversation = Conversation(svc, runner)
    try:
        yield conversation
    finally:
        conversation.close()
        runner.close()


@pytest.fixture
def conv(tides_kb: Services) -> Iterator[Conversation]:
    with conversation_over(tides_kb) as conversation:
        yield conversation
