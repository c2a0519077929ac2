"""The pipeline state: one typed dict whose parts are the content model's types, grouped by
step (assistant/content.py).

Every node reads the parts it needs and returns a partial update.
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from assistant.content import (
    Brief,
    MediaAssets,
    Publication,
    QAReport,
    Research,
    ReviewDecision,
    Script,
)

JobStatus = Literal["running", "rejected", "published", "failed"]


class PipelineState(TypedDict, total=False):
    job_id: str
    brief: Brief
    research: Research
    script: Script
    qa: QAReport
    qa_rounds: int
    revision_notes: Annotated[list[str], operator.add]
    decisions: Annotated[list[ReviewDecision], operator.add]
    media: MediaAssets
    publication: Publication  # the first platform's (kept for older readers)
    publications: list[Publication]  # one per platform published to or scheduled on
    status: JobStatus
    # Why write runs again: "human" (a reviewer asked) goes back to review_script,
    # "qa" (fixable QA failures) goes straight on to the checks.
    rewrite_reason: Literal["qa", "human"] | None
