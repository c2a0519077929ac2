"""Let the model rephrase source sentences into the style; keep only what the verifier passes.

One JSON-schema-constrained call per batch of sentences returns, for each, the id of the
source sentence it rewrites. A rewrite replaces its source sentence only when
``check_sentence`` finds it supported (same facts, same polarity, same meaning); otherwise
the source's own words stay. A model that answers badly, slowly or not at all therefore
costs style, never truth.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from assistant.content import Brief
from assistant.llm import ChatModel, structured
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.support import check_sentences
from assistant.tools.writing.budget import Budget
from assistant.tools.writing.compose import Line, Part
from assistant.tools.writing.templates import render_prompt

log = logging.getLogger(__name__)

SYSTEM = ("You are a careful editor. You rephrase source sentences into a style and never "
          "change what they say.")
BATCH = 8  # sentences per call: bounded answers keep a small model on track
_MARK = re.compile(r"\s*\[\d+\]\s*")


class Rewrite(BaseModel):
    source: int = Field(ge=1, le=BATCH)
    text: str = Field(min_length=8, max_length=300)


class Rewrites(BaseModel):
    sentences: list[Rewrite] = Field(min_length=1, max_length=BATCH)


@dataclass
class Report:
    asked: int = 0
    kept: int = 0  # rewrites that passed the verifier
    refused: list[str] = field(default_factory=list)  # why rewrites were refused
    skipped: int = 0  # sentences never sent (no time left for them)

    def note(self) -> str | None:
        if not self.asked and not self.skipped:
            return None
        text = f"rephrased {self.kept} of {self.asked + self.skipped} sentences"
        if self.refused:
            text += f"; {len(self.refused)} rewrites refused by the verifier (e.g. "
            text += "; ".join(self.refused[:2]) + ")"
        if self.skipped:
            text += f"; {self.skipped} kept in the sources' words (no model time left)"
        return text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _clean(text: str) -> str:
    return " ".join(_MARK.sub(" ", text).split())


def _batches(parts: list[Part]) -> list[list[Line]]:
    """Whole parts together, up to BATCH lines a call (a short is one call)."""
    batches: list[list[Line]] = [[]]
    for part in parts:
        for line in part.lines:
            if len(batches[-1]) >= BATCH:
                batches.append([])
            batches[-1].append(line)
    return [b for b in batches if b]


def expected_tokens(batch: list[Line]) -> int:
    """About what the answer for ``batch`` costs: ~1.4 tokens a word plus the JSON around
    each sentence (measured on Qwen2.5's and SmolLM2's tokenizers, English prose)."""
    return int(sum(line.words for line in batch) * 1.4) + 14 * len(batch)


def rephrase(parts: list[Part], brief: Brief, chat: ChatModel, embedder: Embedder,
             notes: list[str], budget: Budget) -> Report:
    """Rewrite ``parts``' lines in place where the model's rewrite is verified."""
    report = Report()
    for batch in _batches(parts):
        tokens = expected_tokens(batch)
        if not budget.allows(tokens, f"rephrasing {len(batch)} sentences"):
            report.skipped += len(batch)
            continue
        report.asked += len(batch)
        prompt = render_prompt("rephrase", brief, [], notes,
                               sources=[line.source for line in batch])
        try:
            with budget.call():
                answer = structured(chat, Rewrites,
                                    [SystemMessage(SYSTEM), HumanMessage(prompt)], retries=0,
                                    max_tokens=int(tokens * 1.5) + 20)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the sources' words
            log.info("rephrasing failed, keeping source sentences: %s", exc)
            report.refused.append(f"the model's answer was unusable ({str(exc)[:80]})")
            continue
        _apply(batch, answer, brief, embedder, report)
    return report


def _apply(batch: list[Line], answer: Rewrites, brief: Brief, embedder: Embedder,
           report: Report) -> None:
    proposals: dict[int, str] = {}
    for rewrite in answer.sentences:
        text = _clean(rewrite.text)
        if rewrite.source > len(batch) or rewrite.source - 1 in proposals:
            continue
        if len(split_sentences(text)) != 1 or text[-1:] not in ".!?":
            report.refused.append(f"{text[:50]!r} is not one sentence")
            continue
        proposals[rewrite.source - 1] = text
    if not proposals:
        return
    order = sorted(proposals)
    verdicts = check_sentences([(proposals[i], batch[i].source.text) for i in order], embedder,
                               topic=brief.topic)
    for i, verdict in zip(order, verdicts, strict=True):
        if verdict.supported:
            changed = _words(proposals[i]) != _words(batch[i].source.text)
            batch[i].text, batch[i].rewritten = proposals[i], changed
            report.kept += changed  # a copy is no rephrasing
        else:
            report.refused.append(f"{proposals[i][:60]!r} {verdict.reason}")
