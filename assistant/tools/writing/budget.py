"""A write step's model time: how many seconds are left, and how fast the model answers.

On a busy 2-core machine the embedded model's speed varies five-fold (MODELS.md: 3-8 tok/s
under load, ~17 constrained when quiet), so a fixed plan of calls can take seconds or
minutes. The writer asks before each call whether its expected answer fits the time left,
judged by the speed measured on the calls so far; a call that would not fit is skipped and
its part keeps the sources' words (or the checked fallbacks).
"""

from __future__ import annotations

import time

from assistant.llm import ChatModel

# Seconds of model time per piece: a short's write step stays near 30 s on the embedded model.
SECONDS = {"short": 28.0, "social": 25.0, "video": 60.0, "podcast": 75.0, "blog": 75.0}


class Budget:
    def __init__(self, seconds: float, chat: ChatModel) -> None:
        self.seconds = seconds
        self.chat = chat
        self.start = time.monotonic()
        self.tokens_per_s: float | None = None  # measured; None until a call reports usage
        self.skipped: list[str] = []

    @classmethod
    def for_format(cls, fmt: str, chat: ChatModel) -> Budget:
        return cls(SECONDS[fmt], chat)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def allows(self, tokens: int, what: str) -> bool:
        """Whether a call expected to write ``tokens`` fits the time left."""
        needed = tokens / self.tokens_per_s if self.tokens_per_s else 0.0
        ok = self.left() > 0 and needed <= self.left()
        if not ok:
            self.skipped.append(what)
        return ok

    def call(self) -> _Timer:
        return _Timer(self)


class _Timer:
    """Times one call and updates the measured speed from the model's usage counts."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __enter__(self) -> _Timer:
        self.began = time.monotonic()
        self.tokens = self.budget.chat.usage.get("output", 0)
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.monotonic() - self.began
        written = self.budget.chat.usage.get("output", 0) - self.tokens
        if written > 0 and seconds > 0:
            # Whole-call speed (prompt reading included): the honest figure for planning.
            self.budget.tokens_per_s = written / seconds
