"""write: turn the research into a script for the brief's format and style.

Generate, then verify. Both writers build on one pool of source sentences (each usable
once) and end in the same checks:
- grounded (the embedded model): an outline of what the audience needs is filled with the
  source sentences that fit each beat, toward the target length; the model rephrases them
  into the style, and a rewrite is kept only when the verifier
  (assistant/tools/quality/support.py) finds it supported by the sentence it rewrites;
- generative (Ollama or an API model): the model writes the whole piece from the quoted
  sources; every sentence is then traced to a source sentence and kept, replaced by the
  source's words or removed, and the piece is filled toward its length like a grounded one.
Title, hook, call to action and description are checked the same way (tools/writing/
framing.py). A piece the sources cannot fill stops short and says so in ``Script.notes``.
"""

from __future__ import annotations

import re
import time

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from assistant.content import (
    TEMPLATE_FOR_FORMAT,
    Brief,
    Research,
    Script,
    Section,
    Source,
    clip_words,
    fit,
)
from assistant.errors import NoSourcesError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.llm import structured
from assistant.tools.quality.text import BrandRules
from assistant.tools.writing import compose, framing, ontopic, rephrase
from assistant.tools.writing.budget import Budget
from assistant.tools.writing.compose import Part, Said
from assistant.tools.writing.framing import Framing
from assistant.tools.writing.outline import kind_of, outline
from assistant.tools.writing.pool import Pool, build_pool
from assistant.tools.writing.templates import render_markdown, render_prompt, style
from assistant.tools.writing.verify import DraftPart, verify_draft

STEP = "write"
__all__ = ["Draft", "DraftSection", "Framing", "adjusted_target", "run", "visual_prompt"]


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
    mode = svc.settings.effective_writer_mode
    emit(STEP, f"writing a {brief.format} ({brief.style}) with {chat.label}, {mode}", 5)
    script = write(brief, research, notes, rules, svc, mode)
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


def _pool(brief: Brief, research: Research, rules: BrandRules, svc: Services) -> Pool:
    embedder = svc.embedder()
    pool = build_pool(brief.topic, research.findings, embedder,
                      titles={s.id: s.title for s in research.sources},
                      keep=lambda items: ontopic.kept(items, brief, embedder),
                      about=ontopic.whole_pages(research.sources, brief, embedder))
    banned = {s.index for s in pool.sentences if rules.banned_in(s.text)}
    pool.used |= banned  # never offered, never used
    if len(pool.free()) == 0:
        raise NoSourcesError(
            f"the sources found for {brief.topic!r} hold no usable sentences about it; "
            "add material with `assistant kb add PATH` and resume the job"
        )
    return pool


def write(brief: Brief, research: Research, notes: list[str], rules: BrandRules,
          svc: Services, mode: str) -> Script:
    started = time.monotonic()
    sized = adjusted_target(brief, notes)
    pool = _pool(sized, research, rules, svc)
    embedder, chat = svc.embedder(), svc.chat()
    budget = Budget.for_format(sized.format, chat)
    # A surprising fact stays out of the body, so the hook can state it if the model's
    # hook fails its checks.
    reserved = framing.surprising(pool, max(14, min(28, sized.target_words // 4)))
    if reserved is not None:
        pool.use(reserved)
    said = Said()
    writer_notes: list[str] = []
    kind = kind_of(sized, research.findings)
    draft = _draft(sized, pool, notes, svc) if mode == "generative" else None
    if draft is not None:
        drafts = [DraftPart(s.heading, s.text, s.visual_prompt) for s in draft.sections]
        parts, report = verify_draft(drafts, sized, pool, embedder, said)
        writer_notes += report.notes()
        compose.fill(sized, pool, parts, said)
        proposed: Framing | None = fit(  # each cut at a word boundary to its bound
            Framing, title=draft.title, hook=draft.hook, call_to_action=draft.call_to_action,
            description=draft.description)
    else:
        parts = compose.plan(sized, pool, outline(sized, kind), said)
        emit(STEP, f"outlined a {kind}: {len(parts)} sections from {len(pool)} source "
                   "sentences", 30)
        sources = [line.source for part in parts for line in part.lines]
        proposed = framing.ask(sized, sources + ([reserved] if reserved else []), notes, chat,
                               budget)
    # QA judges every section with research's relevance gate: ask it first, and fill the
    # room a refused section leaves from what is left.
    gone = ontopic.refused(parts, sized, embedder, pool.titles)
    if gone:
        parts = [p for p in parts if p not in gone]
        writer_notes.append(f"dropped {len(gone)} sections the relevance gate finds off "
                            f"{brief.topic!r}: " + "; ".join(p.heading for p in gone))
        compose.fill(sized, pool, parts, Said(*(ln.text for p in parts for ln in p.lines)))
        parts = [p for p in parts if p not in ontopic.refused(parts, sized, embedder,
                                                                 pool.titles)]
    if not parts:
        raise NoSourcesError(f"nothing the sources say about {brief.topic!r} survived the "
                             "checks; add material with `assistant kb add PATH`")
    body = [line.text for part in parts for line in part.lines]
    evidence = [line.source.text for part in parts for line in part.lines]
    evidence += [reserved.text] if reserved else []
    frame = framing.settle(sized, style(sized.style), proposed, body=body, evidence=evidence,
                           reserved=reserved, embedder=embedder, said=Said(*body),
                           banned=rules.banned_in, notice=kind == "notice")
    if not frame.hook:
        _hook_from_body(frame, parts)
    writer_notes += [f"{f}; used a checked fallback" for f in frame.fallbacks]
    emit(STEP, "title, hook and call to action checked", 50)
    if frame.hook_source is None and reserved is not None:
        # The model's own hook stood: the reserved fact may still serve the body.
        pool.used.discard(reserved.index)
        compose.fill(sized, pool, parts, Said(frame.hook, *body))
    for part in parts:
        part.order()
    if draft is None:
        report_r = rephrase.rephrase(parts, sized, chat, embedder, notes, budget)
        writer_notes += [n for n in [report_r.note()] if n]
        emit(STEP, f"rephrased {report_r.kept} sentences", 80)
    parts = _dedupe(parts, frame.hook)
    # The framing's real length is known only now: the whole piece stays within +10%.
    framing_words = len(f"{frame.hook} {frame.call_to_action}".split())
    cut = compose.trim(parts, int(sized.target_words * 1.1) - framing_words)
    if cut:
        writer_notes.append(f"cut {len(cut)} sentences to stay within the length")
    script = _script(sized, parts, frame, research, svc, mode, rules.max_hashtags)
    note = compose.thin_note(sized, script.word_count(), len(research.findings),
                             sum(len(f.text.split()) for f in research.findings))
    if note:
        writer_notes.insert(0, note)
        emit(STEP, note, 90)
    if budget.skipped:
        writer_notes.append("no model time left for " + ", ".join(budget.skipped)
                            + f" ({budget.seconds:.0f} s per {sized.format})")
    emit(STEP, f"written in {time.monotonic() - started:.1f} s", 95)
    return script.model_copy(update={"notes": writer_notes})


def _draft(brief: Brief, pool: Pool, notes: list[str], svc: Services) -> Draft:
    """The capable model's whole piece from the quoted sources. A model that never answers
    with a valid draft fails the step (a broken or unreachable server must be seen, not
    papered over); the job resumes from write."""
    sources = sorted(pool.free(), key=lambda s: (s.source_id, s.position))
    prompt = render_prompt(TEMPLATE_FOR_FORMAT[brief.format], brief, [], notes,
                           sources=sources)
    return structured(svc.chat(), Draft, [SystemMessage("You are a careful science writer."),
                                          HumanMessage(prompt)],
                      retries=svc.settings.structured_retries)


def _hook_from_body(frame: framing.Frame, parts: list[Part]) -> None:
    """Every free sentence went into the body: the hook takes the body's most factual
    sentence from a section that keeps others (it says it once, as the opening)."""
    lines = [(line, part) for part in parts if len(part.lines) > 1 for line in part.lines]
    if not lines:
        return
    line, part = max(lines, key=lambda lp: lp[0].source.facts)
    part.lines.remove(line)
    frame.hook, frame.hook_source = line.source.text, line.source


def _dedupe(parts: list[Part], hook: str) -> list[Part]:
    """Last guard: no sentence and no six-word run twice (the hook included), whatever
    rewrote what. A rewrite that repeats falls back to its source's words first."""
    said = Said(hook)
    for part in parts:
        kept = []
        for line in part.lines:
            if said.repeats(line.text) and line.rewritten:
                line.text, line.rewritten = line.source.text, False
            if said.repeats(line.text):
                continue
            said.add(line.text)
            kept.append(line)
        part.lines = kept
    return [p for p in parts if p.lines]


def _script(brief: Brief, parts: list[Part], frame: framing.Frame, research: Research,
            svc: Services, mode: str, max_hashtags: int) -> Script:
    preset = style(brief.style)
    sections = [p.to_section() for p in parts]
    for section in sections:
        if not section.visual_prompt:
            section.visual_prompt = visual_prompt(section, brief)
    return Script(
        format=brief.format, title=frame.title, hook=frame.hook, sections=sections,
        call_to_action=frame.call_to_action, description=frame.description,
        # Tags and keywords come from the topic and the sources' own headings: a small
        # model's lists were noise.
        hashtags=_hashtags([], brief, min(preset.hashtags, max_hashtags)),
        seo_keywords=_keywords(brief, sections),
        citations=_cited_sources(sections, research, frame),
        writer=f"{mode} ({svc.chat().label})",
    )


VISUAL_PROMPT_CHARS = 240  # what DraftSection.visual_prompt allows a model, too
KEYWORD_CHARS = 100  # YouTube's tag length; a 500-character topic is no keyword


def visual_prompt(section: Section, brief: Brief) -> str:
    """A concrete picture for a scene: what it is about, in the brief's style."""
    gist = " ".join(section.text.split()[:16]).rstrip(",;:")
    mood = {"casual": "bright, friendly", "professional": "clean, editorial",
            "academic": "precise diagram-like", "viral": "bold, high-contrast"}[brief.style]
    return clip_words(f"{mood} illustration: {section.heading or brief.topic} — {gist}",
                      VISUAL_PROMPT_CHARS)


def _hashtags(proposed: list[str], brief: Brief, count: int) -> list[str]:
    tags: list[str] = []
    for tag in [*proposed, *sorted(compose.topic_words(brief.topic))]:
        clean = re.sub(r"[^A-Za-z0-9]", "", tag)
        if clean and f"#{clean}".lower() not in {t.lower() for t in tags}:
            tags.append(f"#{clean}")
    return tags[:count]


def _keywords(brief: Brief, sections: list[Section]) -> list[str]:
    words = [clip_words(brief.topic.lower(), KEYWORD_CHARS, ellipsis=""),
             *(s.heading.lower() for s in sections if s.heading)]
    return list(dict.fromkeys(words))[:8]


def _cited_sources(sections: list[Section], research: Research,
                   frame: framing.Frame) -> list[Source]:
    ids = [c for s in sections for c in s.citations]
    if frame.hook_source is not None:  # a hook that states a source's fact cites it too
        ids.insert(0, frame.hook_source.source_id)
    order = dict.fromkeys(ids)
    return [s for sid in order if (s := research.source(sid)) is not None]
