"""Title, hook, call to action and description: asked of the model, checked like the body.

- title: names the topic, at most 70 characters, states no fact the sources lack;
- hook: a question the body answers, or a fact the sources state; never the topic said
  again, never a fact of its own;
- call to action: asks for an action and states no facts;
- description: every sentence supported by a sentence of the piece's sources.

A field that fails falls back to something true by construction: the style's title
pattern, a surprising source sentence the body does not use, the style's call to action,
the piece's own opening sentences.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from assistant.content import Brief, clip_words
from assistant.llm import ChatModel, structured
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.support import (
    content_words,
    facts_in,
    missing_facts,
    restates_topic,
    trace,
)
from assistant.tools.writing.budget import Budget
from assistant.tools.writing.compose import Said, mentions_topic
from assistant.tools.writing.pool import Pool, SourceSentence
from assistant.tools.writing.templates import StylePreset, render_prompt

log = logging.getLogger(__name__)

FIELDS = ("title", "hook", "call_to_action", "description")
TOKENS = 220  # the bounded Framing fits; more only lets a small model ramble
EXPECTED_TOKENS = 110  # what a framing answer usually takes
HOOK_WORDS = (5, 28)
ANSWER_OVERLAP = 0.5  # share of the question's own words one body sentence must hold...
ANSWER_SIMILARITY = 0.45  # ...and how close it must be to the question (MiniLM)
_ACTION = re.compile(
    r"^\W*(please\s+)?(follow|subscribe|share|comment|tell|join|sign up|save|download|try|"
    r"read|visit|check|watch|listen|ask|contact|call|email|write|reply|like|bookmark|explore|"
    r"see|look|find|learn|discover|send|tag|leave|drop|hit|turn on|tap|go|head|grab|get|"
    r"keep|stay|don't miss|come back|let us know|look up|next time|take|give|test|notice)\b",
    re.IGNORECASE,
)
_ECHO = ("one sentence", "one question", "names the topic", "catchy title", "json", "at most",
         "the sources", "source id", "<source")
# A call to action that asks for what the audience is already doing, or for what the
# format cannot give: "watch the video" said inside the video, "watch" in a podcast.
_SELF = r"\b(this|the|our|my)( \w+)? (video|short|clip|episode|podcast|post|article|blog)\b"
_WRONG_MEDIUM: dict[str, tuple[tuple[str, str], ...]] = {
    "short": ((rf"\b(watch|see)\b.*{_SELF}", "asks them to watch the short they are watching"),),
    "video": ((rf"\b(watch|see)\b.*{_SELF}", "asks them to watch the video they are watching"),),
    "podcast": ((r"\b(watch|see the (video|clip))\b", "asks a listener to watch something"),
                (rf"\blisten\b.*{_SELF}", "asks them to listen to the episode they are in")),
    "blog": ((r"\b(watch|listen)\b", "asks a reader to watch or listen to a text"),
             (rf"\bread\b.*{_SELF}", "asks them to read the post they are reading")),
    "social": ((rf"\bread\b.*{_SELF}", "asks them to read the post they are reading"),),
}
# A notice's own call: a style's "subscribe for briefings on science" does not suit it.
NOTICE_CALL_TO_ACTION = "Share this with anyone it affects."
_SENTENCE_END = tuple(".!?\"'”)")  # what a sentence may end with
_SUPERLATIVE = re.compile(r"\b(\w+est|most|only|first|never|every|times|million|billion|"
                          r"record|world)\b", re.IGNORECASE)


class Framing(BaseModel):
    """What the model writes around the body. Every string is bounded so constrained
    decoding cannot run a small model into a never-ending string."""

    title: str = Field(max_length=80)
    hook: str = Field(max_length=160)
    call_to_action: str = Field(max_length=120)
    description: str = Field(max_length=240)


@dataclass
class Frame:
    title: str
    hook: str
    call_to_action: str
    description: str
    fallbacks: list[str]  # fields the model did not get right, with why
    hook_source: SourceSentence | None = None  # the pool sentence a fallback hook states


def title_problem(title: str, brief: Brief, evidence: str) -> str | None:
    if len(title.split()) < 3:
        return "is under three words"
    if len(title) > 70:
        return "is longer than 70 characters"
    if not mentions_topic(title, brief.topic):
        return f"does not name the topic {brief.topic!r}"
    if any(p in title.lower() for p in _ECHO):
        return "repeats the instructions"
    missing = missing_facts(title, evidence, allowed=brief.topic)
    return f"states {', '.join(missing)}, which no source does" if missing else None


def call_to_action_problem(text: str, brief: Brief) -> str | None:
    if not text.strip():
        return "is empty"
    if len(text.split()) > 22:
        return "is longer than 22 words"
    action = _ACTION.search(text)
    if not action:
        return "asks for no action (start with one: follow, share, try, read...)"
    # The verb that opens it is the request, not a name ("Subscribe for ...").
    stated = missing_facts(text[action.end():], "", allowed=brief.topic)
    if stated:
        return f"states facts ({', '.join(stated)}); facts belong in a cited section"
    if restates_topic(text[action.end():], brief.topic):
        # "Discover the Tides Work", "Share the Kestrel KH-200 Fan Heater Recall": a verb
        # stuck on the topic asks for nothing a reader can do.
        return "only puts a verb before the topic"
    for pattern, why in _WRONG_MEDIUM.get(brief.format, ()):
        if re.search(pattern, text, re.IGNORECASE):
            return why
    return None


def answered(question: str, body: list[str], embedder: Embedder, topic: str) -> bool:
    """Whether some sentence of ``body`` answers ``question``: it holds most of the words
    the question adds to the topic, and MiniLM puts it near the question."""
    own = content_words(question) - content_words(topic)
    if not own or not body:
        return False
    vectors = embedder.embed([question, *body])
    for sentence, vector in zip(body, vectors[1:], strict=True):
        overlap = len(own & content_words(sentence)) / len(own)
        if overlap >= ANSWER_OVERLAP and float(vector @ vectors[0]) >= ANSWER_SIMILARITY:
            return True
    return False


def hook_problem(hook: str, brief: Brief, body: list[str], evidence: list[str],
                 embedder: Embedder, said: Said) -> str | None:
    words = len(hook.split())
    if not HOOK_WORDS[0] <= words <= HOOK_WORDS[1]:
        return f"has {words} words (a hook has {HOOK_WORDS[0]}-{HOOK_WORDS[1]})"
    if restates_topic(hook, brief.topic):
        return "only restates the topic"
    if any(p in hook.lower() for p in _ECHO):
        return "repeats the instructions"
    if said.repeats(hook):
        return "repeats a sentence of the piece"
    missing = missing_facts(hook, " ".join(evidence), allowed=brief.topic)
    if missing:
        return f"states {', '.join(missing)}, which no source does"
    if hook.rstrip().endswith("?"):
        if not answered(hook, body, embedder, brief.topic):
            return "asks a question the piece does not answer"
        return None
    verdict = trace([hook], evidence, embedder, topic=brief.topic)[0].verdict
    return None if verdict.supported else f"is not a fact the sources state ({verdict.reason})"


def description_problem(text: str, brief: Brief, evidence: list[str],
                        embedder: Embedder) -> str | None:
    sentences = split_sentences(text)
    if not sentences or len(text) > 240:
        return "is empty or longer than 240 characters"
    for t in trace(sentences, evidence, embedder, topic=brief.topic):
        if not t.verdict.supported:
            return f"says what the sources do not ({t.verdict.reason})"
    return None


def surprising(pool: Pool, max_words: int = HOOK_WORDS[1]) -> SourceSentence | None:
    """The free source sentence most likely to make someone stay: on topic, short, with
    numbers or names, superlatives ("the largest", "27 million times"). ``max_words`` keeps
    a short piece's hook short; with none that short, any hook-sized one will do."""
    def score(s: SourceSentence) -> float:
        return s.topic_score + 0.15 * min(s.facts, 3) + 0.1 * len(_SUPERLATIVE.findall(s.text))

    for limit in dict.fromkeys((max_words, HOOK_WORDS[1])):
        fits = [s for s in pool.free() if s.facts and HOOK_WORDS[0] <= s.words <= limit]
        if fits:
            return max(fits, key=score)
    return None


def fallback_title(brief: Brief, preset: StylePreset) -> str:
    topic = brief.topic.rstrip("?.! ")
    title = preset.title_pattern.format(Topic=title_case(topic), topic=topic)
    return title if len(title) <= 70 else clip_words(title_case(topic), 70)


def title_case(text: str) -> str:
    small = {"a", "an", "the", "of", "and", "or", "in", "on", "to", "for", "is", "why", "how"}
    words = text.split()
    return " ".join(
        w if (i and w.lower() in small) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def ask(brief: Brief, sources: list[SourceSentence], notes: list[str],
        chat: ChatModel, budget: Budget) -> Framing | None:
    """The model's framing, or None when it gave nothing usable (or had no time)."""
    if not budget.allows(EXPECTED_TOKENS, "the framing"):
        return None
    prompt = render_prompt("glue", brief, [], notes, sources=sources)
    messages = [SystemMessage("You are a careful science writer."), HumanMessage(prompt)]
    try:
        with budget.call():
            return structured(chat, Framing, messages, retries=0, max_tokens=TOKENS)
    except Exception as exc:  # noqa: BLE001 - every field then falls back
        log.info("framing failed: %s", exc)
        return None


def settle(brief: Brief, preset: StylePreset, proposed: Framing | None, *, body: list[str],
           evidence: list[str], reserved: SourceSentence | None, embedder: Embedder,
           said: Said, banned: Callable[[str], list[str]] = lambda _: [],
           notice: bool = False) -> Frame:
    """Keep each proposed field that passes its check; fall back field by field.

    ``reserved`` is the surprising source sentence kept out of the body for a hook that
    falls back (``surprising``)."""
    fallbacks: list[str] = []
    value = proposed.model_dump() if proposed else dict.fromkeys(FIELDS, "")
    for name in FIELDS:  # a banned phrase fails a field before anything else is checked
        if banned(str(value[name])):
            value[name] = "[banned phrase]"  # fails every check below, and says why
    text = " ".join(evidence)
    title = str(value["title"]).strip()
    problem = title_problem(title, brief, text) if title else "is missing"
    if problem:
        fallbacks.append(f"title {problem}" + (f" ({title[:70]!r})" if title else ""))
        title = fallback_title(brief, preset)
    hook = str(value["hook"]).strip()
    problem = hook_problem(hook, brief, body, evidence, embedder, said) if hook else "is missing"
    hook_source = None
    if not problem and (hook.lower() == title.lower() or Said(title).repeats(hook)):
        problem = "repeats the title"
    if not problem and hook.rstrip()[-1:] not in _SENTENCE_END:
        problem = "is not a sentence (a title-like fragment)"
    if problem:
        fallbacks.append(f"hook {problem}" + (f" ({hook[:90]!r})" if hook else ""))
        hook_source = reserved
        hook = reserved.text if reserved else ""
    cta = str(value["call_to_action"]).strip()
    problem = call_to_action_problem(cta, brief)
    if not problem and Said(title, hook).repeats(cta):
        problem = "repeats the title or hook"
    if problem:
        fallbacks.append(f"call to action {problem}" + (f" ({cta[:70]!r})" if cta else ""))
        cta = NOTICE_CALL_TO_ACTION if notice else preset.call_to_action
    description = str(value["description"]).strip()
    problem = (description_problem(description, brief, evidence, embedder)
               if description else "is missing")
    if not problem and description.rstrip()[-1:] not in _SENTENCE_END:
        problem = "is not a sentence (a title-like fragment)"
    if not problem and Said(title, hook, cta).repeats(description):
        problem = "repeats the title, hook or call to action"
    if problem:
        fallbacks.append(f"description {problem}")
        description = _opening(body)
    return Frame(title, hook, cta, description, fallbacks, hook_source)


def _opening(body: list[str], limit: int = 240) -> str:
    out = ""
    for sentence in body:
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or (body[0][: limit - 1].rsplit(" ", 1)[0] + "…" if body else "")


def stated(text: str) -> list[str]:
    """The facts a framing field states (for tests and notes)."""
    return facts_in(text).items()
