"""`python -m tests.production.scripted_app ARGS`: the real `assistant` CLI with the scripted
chat model (the only fake), for kill tests that need the app in a process of its own."""

from __future__ import annotations

from typing import Any

import assistant.llm
from assistant.cli import main
from tests.fakes import FRAMING, scripted


def _scripted(_settings: Any) -> Any:
    return scripted(FRAMING)


assistant.llm.get_chat_model = _scripted  # type: ignore[assignment]

if __name__ == "__main__":
    main()
