"""The evals set's cases and what one run of a case produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.content import Brief
from evals.metrics import Scores

DATASETS = Path(__file__).parent / "datasets"
DATASET = DATASETS / "topics.yaml"
KB_DIR = DATASETS / "kb"

Expect = Literal["content", "stop", "either"]


@dataclass
class Case:
    id: str
    topic: str
    format: str = "blog"
    style: str = "casual"
    words: int | None = None
    seconds: int | None = None
    kb: list[str] = field(default_factory=list)
    expected_sources: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    expect: Expect = "content"
    trap: str = ""

    def brief(self) -> Brief:
        return Brief.create(self.topic, self.format, self.style,  # type: ignore[arg-type]
                            seconds=self.seconds, words=self.words, user="evals")


@dataclass
class Result:
    case: str
    status: str  # scored | stopped (with a reason) | failed (a crash or a wrong stop)
    seconds: float
    expect: Expect = "content"
    scores: Scores | None = None
    steps: dict[str, float] = field(default_factory=dict)
    fallbacks: int = 0
    notes: list[str] = field(default_factory=list)
    error: str = ""
    local_pages: bool = False  # its own made-up pages: source-only facts, reported apart
    facts_listed: bool = False
    piece: dict[str, Any] | None = None  # what was written, for reading the JSON

    @property
    def passed(self) -> bool:
        """Did the case get what it expects: a true piece, or an honest stop?"""
        if self.status == "stopped":
            return self.expect in ("stop", "either")
        if self.status != "scored" or self.scores is None or self.expect == "stop":
            return False
        s = self.scores
        return (s.on_topic == 1.0 and s.unsupported == 0 and s.invented == 0
                and s.repeated_sentences == 0 and s.length_ok)

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "status": self.status, "passed": self.passed,
                "expect": self.expect, "seconds": self.seconds, "steps": self.steps,
                "scores": self.scores.as_dict() if self.scores else None,
                "fallbacks": self.fallbacks, "notes": self.notes, "error": self.error,
                "piece": self.piece}


def load_cases(path: Path = DATASET) -> list[Case]:
    return [Case(**raw) for raw in yaml.safe_load(path.read_text(encoding="utf-8"))]
