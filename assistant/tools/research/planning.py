"""Research planning: a request becomes sub-queries, one per facet of its topic.

A depth sets how many sub-queries and how many hits each (gpt-researcher and STORM plan
the same way: plan -> sub-queries -> retrieve -> keep the passages above a threshold):

=========== ========== ============== ===================================================
depth       sub-queries hits per query  why
=========== ========== ============== ===================================================
shallow     2           4              a 45-second short needs the request and its subject
deep        4           6              a video or blog adds history and examples
exhaustive  6           8              every facet; ~100 documents per provider at most
=========== ========== ============== ===================================================

The facets are the questions a reader has about a subject: what it is, how or why it
works, its history, examples, its numbers, why it matters. The request's own form picks the
first ("how a heat pump works" -> mechanism, "the history of the shipping container" ->
history); the request as written is always the first sub-query.

A capable model (any provider but the embedded one) may write the sub-queries instead,
through validated structured output; any failure falls back to the facets. The embedded
135M-1.5B models write worse queries than the templates, so they are not asked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from assistant.content import Depth
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.llm import ChatModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DepthPlan:
    queries: int
    hits: int
    findings: int  # most passages research hands the writer


DEPTHS: dict[Depth, DepthPlan] = {
    "shallow": DepthPlan(queries=2, hits=4, findings=12),
    "deep": DepthPlan(queries=4, hits=6, findings=24),
    "exhaustive": DepthPlan(queries=6, hits=8, findings=40),
}


@dataclass(frozen=True)
class Facet:
    name: str
    label: str  # what a reader is told: "history: not covered"
    template: str  # the sub-query, from the request's subject
    markers: str = ""  # regex a passage must match to support the facet ("" = any passage)


# In the order they are added as depth grows.
FACETS: tuple[Facet, ...] = (
    Facet("overview", "what it is", "{subject}"),
    Facet("mechanism", "how or why it works", "how {subject} works",
          r"\b(because|cause[sd]?|causing|by|through|using|uses?|with|via|allows?|enables?|"
          r"when|process|mechanism|result(s|ing)? (in|from)|due to|so that|driven|"
          r"produces?|controlled)\b"),
    Facet("history", "its history", "history of {subject}",
          r"\b(1[0-9]{3}|20[0-9]{2}|centur(y|ies)|invent\w*|discover\w*|first|founded|"
          r"origin\w*|ancient|introduced|developed|history|historical|began|since)\b"),
    Facet("examples", "examples", "examples of {subject}",
          r"\b(for example|for instance|such as|e\.g\.|includ\w*|species|types? of|kinds? of|"
          r"like)\b"),
    Facet("numbers", "facts and figures", "{subject} facts and figures",
          r"\d|\b(hundred|thousand|million|billion|percent|half|twice|dozens?)\b"),
    Facet("impact", "why it matters", "why {subject} matters",
          r"\b(important|essential|critical|role|benefits?|effects?|impact|used (for|in|to)|"
          r"applications?|economy|health|environment)\b"),
)
FACET_BY_NAME = {f.name: f for f in FACETS}

# The request's own form -> the facet it asks for first.
_FORMS: tuple[tuple[str, str], ...] = (
    (r"^\s*(the\s+)?(history|origins?|story)\s+of\b|\bhistory\b|\binvent", "history"),
    (r"\bhow\s+(much|many|big|far|fast|long)\b|\bstatistics\b|\bnumbers\b", "numbers"),
    (r"\b(examples?|types|kinds)\s+of\b", "examples"),
    (r"^\s*(how|why)\b|\bworks?\b|\bcauses?\b|\bexplain", "mechanism"),
    (r"^\s*(what|who)\s+(is|are|was|were)\b", "overview"),
)
# Words of the request's form, cut to leave its subject: "how a heat pump works in winter"
# -> "a heat pump in winter" -> "heat pump in winter".
_FORM_WORDS = re.compile(
    r"^\s*(the\s+)?(history|origins?|story)\s+of\s+|^\s*(how|why|what|when|who|where)\b"
    r"(\s+(much|many|do|does|did|is|are|was|were|can|could)\b)?\s*|\b(works?|working)\b|"
    r"^\s*(examples?|types|kinds)\s+of\s+|^\s*(explain|describe)\s+", re.I)
_LEADING_ARTICLE = re.compile(r"^\s*(the|a|an)\s+", re.I)


def primary_facet(topic: str) -> str:
    for pattern, facet in _FORMS:
        if re.search(pattern, topic, re.I):
            return facet
    return "overview"


def subject_of(topic: str) -> str:
    """The request without the words of its form: what the facets ask about."""
    subject = _FORM_WORDS.sub(" ", topic)
    subject = _FORM_WORDS.sub(" ", subject)  # "how does X work": two forms
    subject = _LEADING_ARTICLE.sub("", " ".join(subject.split()))
    return subject.strip(" ?.!") or topic


@dataclass(frozen=True)
class SubQuery:
    facet: str
    query: str


@dataclass
class Plan:
    topic: str
    depth: Depth
    subject: str
    queries: list[SubQuery]
    hits: int
    findings: int
    by: str = "facets"  # "facets" or "model"
    notes: list[str] = field(default_factory=list)

    def facets(self) -> list[Facet]:
        return [FACET_BY_NAME[q.facet] for q in self.queries]


def facet_plan(topic: str, depth: Depth = "shallow") -> Plan:
    """Sub-queries from the facets: the request itself, then its subject per facet."""
    shape = DEPTHS[depth]
    subject = subject_of(topic)
    first = primary_facet(topic)
    queries = [SubQuery(first, topic)]
    for facet in FACETS:
        if len(queries) >= shape.queries:
            break
        if facet.name == first:
            continue
        queries.append(SubQuery(facet.name, facet.template.format(subject=subject)))
    return Plan(topic, depth, subject, queries, shape.hits, shape.findings)


class _ModelQuery(BaseModel):
    facet: str = Field(description="one of: " + ", ".join(f.name for f in FACETS))
    query: str = Field(max_length=120, description="a short search query, no quotes")


class _ModelPlan(BaseModel):
    queries: list[_ModelQuery] = Field(min_length=1, max_length=len(FACETS))


def model_plan(topic: str, depth: Depth, chat: ChatModel, retries: int = 1) -> Plan:
    """Sub-queries written by ``chat``; the facet plan if it fails in any way."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.llm import structured

    fallback = facet_plan(topic, depth)
    n = DEPTHS[depth].queries
    names = ", ".join(f"{f.name} ({f.label})" for f in FACETS)

    def check(plan: _ModelPlan) -> str | None:
        bad = [q.facet for q in plan.queries if q.facet not in FACET_BY_NAME]
        if bad:
            return f"unknown facets {bad}: use only {', '.join(FACET_BY_NAME)}"
        if len(plan.queries) < n:
            return f"give {n} queries, one per facet"
        return None

    messages = [
        SystemMessage("You plan web research. Write search queries, nothing else."),
        HumanMessage(
            f"Request: {topic}\nWrite {n} search queries that together cover the request, "
            f"each for a different facet. Facets: {names}. The first query must be for the "
            "facet the request itself asks about."
        ),
    ]
    try:
        answer = structured(chat, _ModelPlan, messages, retries=retries, check=check,
                            max_tokens=400)  # fmt: skip
    except AssistantError as exc:  # the model could not do it: the facets still can
        fallback.notes.append(f"sub-queries from facets (the model failed: {exc.user_message})")
        return fallback
    except Exception as exc:  # a backend's own error type: same fallback, logged
        log.warning("research planning: the model failed (%s); using facets", exc)
        fallback.notes.append("sub-queries from facets (the model failed)")
        return fallback
    seen: set[str] = set()
    queries = []
    for q in answer.queries:
        text = " ".join(q.query.split()).strip("\"'")
        if text and text.lower() not in seen:
            seen.add(text.lower())
            queries.append(SubQuery(q.facet, text))
    if queries[0].query.lower() != topic.lower():
        # The request as written always searches: a model's paraphrase can drift.
        queries.insert(0, SubQuery(queries[0].facet, topic))
    shape = DEPTHS[depth]
    return Plan(topic, depth, fallback.subject, queries[: shape.queries], shape.hits,
                shape.findings, by="model")  # fmt: skip


def plan_research(
    topic: str, depth: Depth, *, provider: str, chat: ChatModel | None = None
) -> Plan:
    """The plan for a request: from the model when a capable one is configured."""
    if provider != "embedded" and chat is not None:
        return model_plan(topic, depth, chat)
    return facet_plan(topic, depth)


def supports(facet: Facet, text: str) -> bool:
    """Whether a passage (already judged about the request) supports ``facet``."""
    return not facet.markers or re.search(facet.markers, text, re.I) is not None
