"""Model tokens per unit of work (a job's run), counted where the model reports them.

The chat model is shared by every job a process runs at once, so its own running total
cannot say which job used what. :func:`metering` opens a counter in a context variable;
every model reply counted by :func:`assistant.infra.observability.count_tokens` while it is
open (also on the threads LangGraph runs nodes on: they run in a copy of the caller's
context, which holds the same counter) adds to it, and nothing else does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class TokenCount:
    input: int = 0
    output: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return self.input + self.output

    def add(self, input_tokens: int, output_tokens: int) -> None:
        with self._lock:  # a job's nodes may run on several threads at once
            self.input += input_tokens
            self.output += output_tokens


_CURRENT: ContextVar[TokenCount | None] = ContextVar("token_meter", default=None)


@contextmanager
def metering() -> Iterator[TokenCount]:
    """Count the model tokens used inside the block (and what it runs)."""
    count = TokenCount()
    token = _CURRENT.set(count)
    try:
        yield count
    finally:
        _CURRENT.reset(token)


def add(input_tokens: int, output_tokens: int) -> None:
    count = _CURRENT.get()
    if count is not None:
        count.add(input_tokens, output_tokens)
