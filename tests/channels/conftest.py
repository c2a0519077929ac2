"""A conversation over the real runner and the tides knowledge base, with scripted framing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.conversation import Conversation
from assistant.runner import JobRunner
from assistant.services import Services
from tests.fakes import FRAMING, scripted


@pytest.fixture
def conv(tides_kb: Services) -> Iterator[Conversation]:
    tides_kb.set_chat(scripted(FRAMING))
    runner = JobRunner(tides_kb)
    conversation = Conversation(tides_kb, runner)
    yield conversation
    conversation.close()
    runner.close()
