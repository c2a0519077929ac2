"""What the knowledge base's loaders produce: a document in sections, and its chunks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DocKind = Literal["markdown", "text", "html", "pdf"]


@dataclass
class Document:
    title: str
    text: str
    sections: list[tuple[str, str]]  # (heading, plain text); heading "" before any heading
    path: Path
    kind: DocKind


@dataclass
class Chunk:
    heading: str
    text: str
    index: int

    @property
    def words(self) -> int:
        return len(self.text.split())
