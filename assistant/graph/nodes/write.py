"""write: turn the research into a script for the brief's format and style.

Two writers share one output (``Script``):
- grounded: the body is composed from the best source sentences (tools/compose.py) and
  the model writes only the framing — right for the tiny embedded model;
- generative: the model writes the whole piece from the numbered sources — for
  Ollama or an API model. Citations are checked either way.
"""

from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from assistant.content import (
    TEMPLATE_FOR_FORMAT,
    Brief,
    Finding,
    Research,
    Script,
    Section,
    Source,
)
from assistant.errors import NoSourcesError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.llm import structured
from assistant.tools.quality.text import BrandRules
from assistant.tools.writing import compose
from assistant.tools.writing.templates import StylePreset, render_markdown, render_prompt, style

STEP = "write"


class Framing(BaseModel):
    """What the model writes around a grounded body.

    Every string and list is bounded: constrained decoding then cannot run a small
    model into a never-ending string.
    """

    title: str = Field(max_length=80)
    hook: str = Field(max_length=160)
    call_to_action: str = Field(max_length=120)
    description: str = Field(max_length=240)


class DraftSection(BaseModel):
    heading: str = Field(max_length=90)
    text: str
    visual_prompt: str = Field("", max_length=240)
    citations: list[str] = Field(default_factory=list)


class Draft(BaseModel):
    """What a capable model writes in generative mode."""

    title: str = Field(max_length=90)
    hook: str = Field(max_length=240)
    sections: list[DraftSection] = Field(min_length=1, max_length=10)
    call_to_action: str = Field(max_length=200)
    description: str = Field(max_length=500)
    hashtags: list[str] = Field(default_factory=list, max_length=8)
    seo_keywords: list[str] = Field(default_factory=list, max_length=10)


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, research = state["brief"], state["research"]
    previous = state.get("script")
    version = previous.version + 1 if previous else 1
    notes = list(state.get("revision_notes", []))
    if state.get("rewrite_reason") == "qa" and state.get("qa"):
        notes += [f"QA: {c.name}: {c.message}" for c in state["qa"].fixable_failures]
    rules = BrandRules.load(svc.settings.resolved_brand_rules)
    chat = svc.chat()
    emit(STEP, f"writing a {brief.format} ({brief.style}) with {chat.label}", 5)
    if svc.settings.effective_writer_mode == "grounded":
        script = write_grounded(brief, research, notes, rules, svc)
    else:
        script = write_generative(brief, research, notes, svc)
    script = script.model_copy(update={"version": version})
    markdown = render_markdown(script, brief, rules.required_disclosure)
    job = state["job_id"]
    svc.objects.put(job, "script.json", script.model_dump_json(indent=2), step=STEP,
                    type="script", mime="application/json", version=version)
    svc.objects.put(job, "script.md", markdown, step=STEP, type="script",
                    mime="text/markdown", version=version)
    emit(STEP, f"draft v{version}: {script.word_count()} words, {len(script.sections)} sections",
         100)
    return {"script": script}


# --- grounded --------------------------------------------------------------------------


def adjusted_target(brief: Brief, notes: list[str]) -> Brief:
    """Honour 'shorter' / 'longer' in the latest note (a person's or QA's) by scaling the
    length."""
    if not notes:
        return brief
    last = notes[-1].lower()
    if re.search(r"too short|\blonger\b|more detail|\bexpand\b", last):
        factor = 1.25
    elif re.search(r"too long|\bshorter\b|\btrim\b|\bcut\b|\btighten\b", last):
        factor = 0.75
    else:
        factor = 1.0
    if factor == 1.0:
        return brief
    update: dict[str, object] = {"target_words": int(brief.target_words * factor)}
    if brief.target_seconds:
        update["target_seconds"] = int(brief.target_seconds * factor)
    return brief.model_copy(update=update)


def write_grounded(
    brief: Brief, research: Research, notes: list[str], rules: BrandRules, svc: Services
) -> Script:
    sized = adjusted_target(brief, notes)
    candidates = [
        c for c in compose.rank_sentences(brief.topic, research.findings, svc.embedder())
        if not rules.banned_in(c.text)
    ]
    sections = compose.compose_body(sized, candidates)
    if not sections:
        raise NoSourcesError(
            f"the sources found for {brief.topic!r} hold no usable sentences; "
            "add material with `assistant kb add PATH` and resume the job"
        )
    emit(STEP, f"composed {len(sections)} sections from {len(candidates)} source sentences", 40)
    preset = style(brief.style)
    for section in sections:
        if not section.heading:  # a source's introduction has no heading of its own
            section.heading = "The big picture"
        section.visual_prompt = visual_prompt(section, brief)
    # A small model frames best from a few short facts: the opening sentences.
    facts = [Finding(text=s.text.split(". ")[0].rstrip(".") + ".", source_id=s.citations[0])
             for s in sections[:3]]
    framing, fallbacks = frame(brief, facts, notes, preset, svc, rules)
    emit(STEP, "framing written", 90)
    # The framing's real length is known only now: drop trailing sections that would
    # push the piece past its length.
    framing_words = len(f"{framing.hook} {framing.call_to_action}".split())
    limit = int(sized.target_words * 1.15)
    while len(sections) > 1 and framing_words + sum(
            len(s.text.split()) for s in sections) > limit:
        sections.pop()
    return Script(
        format=brief.format,
        title=framing.title,
        hook=framing.hook,
        sections=sections,
        call_to_action=framing.call_to_action,
        description=framing.description,
        # Tags and keywords come from the topic and the sources' own headings: a tiny
        # model's lists were noise (and the slowest part of its answer).
        hashtags=_hashtags([], brief, preset.hashtags),
        seo_keywords=_keywords(brief, sections),
        citations=_cited_sources(sections, research),
        writer=f"grounded ({svc.chat().label})",
        notes=[f"{name}: the model's answer was unusable; used the style's pattern"
               for name in fallbacks],
    )


FRAMING_FIELDS = ("title", "hook", "call_to_action", "description")
FRAMING_TOKENS = 220  # the bounded Framing fits; more only lets a small model ramble


def frame(
    brief: Brief, findings: list[Finding], notes: list[str], preset: StylePreset, svc: Services,
    rules: BrandRules,
) -> tuple[Framing, list[str]]:
    """Ask the model for the framing; keep each field's first good answer over a few tries.

    A field the model never gets right falls back to the style's pattern, and the
    script records that it did (``Script.notes``).
    """
    chat = svc.chat()
    prompt = render_prompt("glue", brief, findings, notes)
    good: dict[str, object] = {}
    source_texts = {f.text for f in findings}
    complaint = ""
    # Two tries at most: each costs seconds on the embedded model, and the style's
    # patterns are a sound fallback for any field still missing.
    for _ in range(min(svc.settings.structured_retries + 1, 2)):
        messages = [SystemMessage("You are a careful science writer."), HumanMessage(prompt)]
        if complaint:
            messages.append(HumanMessage(f"Your last answer had problems: {complaint}. Fix them."))
        try:
            answer = structured(chat, Framing, messages, retries=0, max_tokens=FRAMING_TOKENS)
        except Exception as exc:  # noqa: BLE001 - a bad attempt is just a bad attempt
            complaint = str(exc)[:200]
            continue
        problems = []
        for name in FRAMING_FIELDS:
            value = str(getattr(answer, name)).strip()
            why = _framing_problem(name, value, brief, source_texts) or (
                f"uses the banned phrase {rules.banned_in(value)[0]!r}"
                if rules.banned_in(value) else None)
            if why is None:
                good.setdefault(name, value)
            else:
                problems.append(f"{name} {why}")
        if good.get("hook") and good.get("hook") == good.get("title"):
            del good["hook"]
            problems.append("hook repeats the title")
        if all(n in good for n in FRAMING_FIELDS):
            break
        complaint = "; ".join(problems)
    fallbacks = [n for n in FRAMING_FIELDS if n not in good]
    topic = brief.topic.rstrip("?.! ")
    defaults = {
        "title": preset.title_pattern.format(Topic=_title_case(topic), topic=topic),
        "hook": preset.hook_pattern.format(Topic=_title_case(topic), topic=topic),
        "call_to_action": preset.call_to_action,
        "description": f"{_title_case(topic)}: a sourced explainer in a {brief.style} style.",
    }
    for name in fallbacks:
        good[name] = defaults[name]
    return Framing.model_validate(good), fallbacks


# Phrases a small model copies from its instructions rather than following them.
_INSTRUCTION_ECHO = ("one sentence", "one question", "names the topic", "catchy title", "json")


def _framing_problem(name: str, value: str, brief: Brief, sources: set[str]) -> str | None:
    if len(value.split()) < 2:
        return "is empty or one word"
    if name in ("title", "hook") and not compose.mentions_topic(value, brief.topic):
        return f"does not name the topic {brief.topic!r}"
    if name == "hook" and (value in sources or any(value in s for s in sources)):
        return "copies a source sentence"
    if name == "hook" and len(value.split()) < 6:
        return "is too short to hook anyone"
    if name in ("title", "hook") and any(p in value.lower() for p in _INSTRUCTION_ECHO):
        return "repeats the instructions instead of answering them"
    if name == "hook" and len(value.split()) > 30:
        return "is longer than 30 words"
    if name == "title" and len(value) > 70:
        return "is longer than 70 characters"
    if re.search(r"(\b\w+\b)(\W+\1\b){3,}", value, re.IGNORECASE):
        return "repeats itself"
    return None


# --- generative ------------------------------------------------------------------------


def write_generative(
    brief: Brief, research: Research, notes: list[str], svc: Services
) -> Script:
    known = {s.id for s in research.sources}

    def check(draft: Draft) -> str | None:
        bad = sorted({c for s in draft.sections for c in s.citations if c not in known})
        if bad:
            return f"citations {bad} are not source ids; use only {sorted(known)}"
        if any(not s.citations for s in draft.sections):
            return "every section must cite at least one source id"
        if not compose.mentions_topic(draft.title + " " + draft.hook, brief.topic):
            return f"the title and hook must name the topic {brief.topic!r}"
        return None

    prompt = render_prompt(TEMPLATE_FOR_FORMAT[brief.format], brief, research.findings, notes)
    draft = structured(
        svc.chat(), Draft, [SystemMessage("You are a careful science writer."),
                            HumanMessage(prompt)],
        retries=svc.settings.structured_retries, check=check,
    )
    sections = [
        Section(heading=s.heading, text=s.text, visual_prompt=s.visual_prompt,
                citations=s.citations, target_seconds=round(len(s.text.split()) / 2.5, 1))
        for s in draft.sections
    ]
    preset = style(brief.style)
    return Script(
        format=brief.format, title=draft.title, hook=draft.hook, sections=sections,
        call_to_action=draft.call_to_action, description=draft.description,
        hashtags=_hashtags(draft.hashtags, brief, preset.hashtags),
        seo_keywords=draft.seo_keywords, citations=_cited_sources(sections, research),
        writer=f"generative ({svc.chat().label})",
    )


# --- shared helpers --------------------------------------------------------------------


def _title_case(text: str) -> str:
    small = {"a", "an", "the", "of", "and", "or", "in", "on", "to", "for", "is", "why", "how"}
    words = text.split()
    return " ".join(
        w if (i and w.lower() in small) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def visual_prompt(section: Section, brief: Brief) -> str:
    """A concrete picture for a scene: what it is about, in the brief's style."""
    gist = " ".join(section.text.split()[:16]).rstrip(",;:")
    mood = {"casual": "bright, friendly", "professional": "clean, editorial",
            "academic": "precise diagram-like", "viral": "bold, high-contrast"}[brief.style]
    return f"{mood} illustration: {section.heading or brief.topic} — {gist}"


def _hashtags(proposed: list[str], brief: Brief, count: int) -> list[str]:
    tags: list[str] = []
    for tag in [*proposed, *sorted(compose.topic_words(brief.topic))]:
        clean = re.sub(r"[^A-Za-z0-9]", "", tag)
        if clean and f"#{clean}".lower() not in {t.lower() for t in tags}:
            tags.append(f"#{clean}")
    return tags[:count]


def _keywords(brief: Brief, sections: list[Section]) -> list[str]:
    words = [brief.topic.lower(), *(s.heading.lower() for s in sections if s.heading)]
    return list(dict.fromkeys(w for w in words if w != "the big picture"))[:8]


def _cited_sources(sections: list[Section], research: Research) -> list[Source]:
    order = dict.fromkeys(c for s in sections for c in s.citations)
    return [s for sid in order if (s := research.source(sid)) is not None]
