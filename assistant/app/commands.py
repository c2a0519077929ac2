"""What every channel shares: slash commands and natural requests parsed to intents, and
the plain-text replies for job lists, job status and the knowledge base.

Nothing here knows a transport or holds state: ``parse_command`` and ``parse_request`` turn
text into data, the ``format_*`` functions turn records into text. The conversation service
(:mod:`assistant.app.conversation`) acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from assistant.app import groups  # noqa: F401  (registers the group commands)
from assistant.app.command_registry import REGISTRY as GROUP_COMMANDS
from assistant.content import FORMATS, STYLES, Brief, Format, Style
from assistant.errors import InputError, ModelOutputError
from assistant.llm import ChatModel, structured

COMMANDS: dict[str, str] = {
    "new": "/new TOPIC [--format F] [--style S] — start a piece about TOPIC",
    "status": "/status [JOB] — where a job is",
    "jobs": "/jobs — your recent jobs",
    "approve": "/approve [JOB] — approve the draft waiting for you",
    "revise": "/revise [JOB] NOTES — ask for changes",
    "reject": "/reject [JOB] — reject the draft; nothing is published",
    "cancel": "/cancel [JOB] — stop a job",
    "kb": "/kb [WORDS] — your knowledge base, or its passages nearest WORDS (send files to "
          "add them)",
    "link": "/link [CODE] — link this chat account to your other ones",
    "help": "/help — this list",
}
HELP_TEXT = (
    "Ask in your own words, e.g. “make a 45-second casual short about how tides work for "
    "TikTok”, or use a command:\n"
    + "\n".join([*COMMANDS.values(), *(c.usage for c in GROUP_COMMANDS.values())])
    + f"\nFormats: {', '.join(FORMATS)}. Styles: {', '.join(STYLES)}. "
    "JOB may be left out when only one job fits."
)
CLARIFY_QUESTION = (
    "Happy to — what should it be about? (e.g. “how tides work”; you can add a format: "
    "short, video, podcast, blog or social)"
)
JOB_ID = re.compile(r"^(?:job-)?([0-9a-f]{8})$", re.IGNORECASE)
YES = frozenset({"yes", "y", "yep", "yeah", "ok", "okay", "sure", "confirm", "send", "do it"})
NO = frozenset({"no", "n", "nope", "cancel", "don't", "dont", "stop"})


@dataclass(frozen=True)
class Command:
    name: str
    job: str | None = None
    text: str = ""  # /new topic, /revise notes, /link code
    request: RequestParse | None = None  # /new


_FORMAT_NAMES: dict[str, Format] = {f: f for f in FORMATS}
_STYLE_NAMES: dict[str, Style] = {s: s for s in STYLES}
_OPTIONS = {"--format": "format", "-f": "format", "--style": "style", "-s": "style",
            "--seconds": "seconds", "--words": "words"}


def job_id(token: str) -> str | None:
    """``job-1a2b3c4d`` from ``job-1a2b3c4d`` or ``1a2b3c4d``; None if it is not a job id."""
    found = JOB_ID.match(token.strip())
    return f"job-{found.group(1).lower()}" if found else None


def parse_command(text: str) -> Command:
    """``/name args`` -> Command; an unknown command or a bad argument is an InputError."""
    head, _, rest = text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].lower()  # Telegram: /status@SomeBot
    rest = rest.strip()
    if name == "start":  # what Telegram sends first
        name = "help"
    if name not in COMMANDS and name.replace("_", "-") in GROUP_COMMANDS:
        # Telegram allows only [a-z0-9_] in command names: /delete_my_data is /delete-my-data
        return Command(name.replace("_", "-"), None, rest)
    if name not in COMMANDS:
        raise InputError(f"unknown command /{name}: /help lists the commands")
    if name == "new":
        return _parse_new(rest)
    if name in ("status", "approve", "reject", "cancel"):
        if rest and job_id(rest) is None:
            raise InputError(f"{rest!r} is not a job id (like job-1a2b3c4d): /jobs lists yours")
        return Command(name, job_id(rest) if rest else None)
    if name == "revise":
        first, _, notes = rest.partition(" ")
        job = job_id(first) if first.lower().startswith("job-") else None
        notes = (notes if job else rest).strip()
        if not notes:
            raise InputError(f"say what should change: {COMMANDS['revise']}")
        return Command(name, job, notes)
    return Command(name, None, rest)


def _parse_new(rest: str) -> Command:
    tokens, words = rest.split(), []
    options: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        key, eq, value = token.partition("=")
        if key.lower() in _OPTIONS:
            if not eq:
                if i + 1 >= len(tokens):
                    raise InputError(f"{key} needs a value: {COMMANDS['new']}")
                i, value = i + 1, tokens[i + 1]
            options[_OPTIONS[key.lower()]] = value.lower()
        else:
            words.append(token)
        i += 1
    topic = " ".join(words)
    if not topic:
        raise InputError(f"say what it should be about: {COMMANDS['new']}")
    fmt, style = options.get("format"), options.get("style")
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if style is not None and style not in STYLES:
        raise InputError(f"unknown style {style!r}: choose one of {', '.join(STYLES)}")
    lengths: dict[str, int | None] = {}
    for key in ("seconds", "words"):
        given = options.get(key)
        if given is not None and not (given.isdigit() and 0 < int(given) <= 100_000):
            raise InputError(f"--{key} takes a positive whole number, not {given!r}")
        lengths[key] = int(given) if given is not None else None
    request = RequestParse(topic, _FORMAT_NAMES.get(fmt or ""), _STYLE_NAMES.get(style or ""),
                           **lengths)
    return Command("new", None, topic, request)


def yes_or_no(text: str) -> bool | None:
    answer = text.strip().lower().rstrip(".!")
    return True if answer in YES else False if answer in NO else None


# --- natural requests -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestParse:
    """What a free-text request says; None where it says nothing."""

    topic: str | None = None
    format: Format | None = None
    style: Style | None = None
    seconds: int | None = None
    words: int | None = None

    def merged(self, other: RequestParse) -> RequestParse:
        """These fields, overridden by what ``other`` sets."""
        changes = {k: v for k, v in vars(other).items() if v is not None}
        return replace(self, **changes)

    def brief(self, user: str) -> Brief:
        if not self.topic:
            raise InputError("say what it should be about")
        try:
            return Brief.create(self.topic, self.format or "blog", self.style or "casual",
                                seconds=self.seconds, words=self.words, user=user)
        except ValidationError as exc:
            raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None


# Checked in this order: the first format found wins ("tiktok video" is a short).
_FORMAT_WORDS: list[tuple[Format, str]] = [
    ("short", r"shorts?(?!\s+(?:blog|article|post|podcast|episode|essay|story|summary))"
              r"|tiktoks?|reels?"),
    ("social", r"tweets?|threads?|linkedin|social(?:\s+media)?|instagram|twitter"),
    ("podcast", r"podcasts?|episodes?"),
    ("video", r"videos?|youtube"),
    ("blog", r"blog|articles?|posts?|newsletter"),
]
_STYLE_WORDS: list[tuple[Style, str]] = [
    ("casual", r"casual|fun|friendly|relaxed|informal"),
    ("professional", r"professional|formal|business"),
    ("academic", r"academic|scholarly|scientific|rigorous"),
    ("viral", r"viral|catchy|punchy|hype"),
]
_NUMBER = r"(\d+(?:\.\d+)?)\s*-?\s*"
_SECONDS = re.compile(_NUMBER + r"(?:seconds?|secs?|s)\b", re.IGNORECASE)
_MINUTES = re.compile(_NUMBER + r"(?:minutes?|mins?)\b", re.IGNORECASE)
_WORDS = re.compile(_NUMBER + r"words?\b", re.IGNORECASE)
_PLATFORM = (r"tiktok|youtube(?:\s+shorts)?|instagram(?:\s+reels)?|reels|linkedin|twitter|x|"
             r"facebook|social\s+media|(?:my|our|the)\s+(?:blog|podcast|channel|site|newsletter)")
_TAILS = [
    re.compile(rf",?\s+(?:for|on|to)\s+(?:{_PLATFORM})\s*$", re.IGNORECASE),
    re.compile(r",?\s+in\s+an?\s+\w+\s+(?:style|tone|voice|way)\s*$", re.IGNORECASE),
    re.compile(r",?\s+(?:in|of|at|under|around|about)?\s*\d+(?:\.\d+)?\s*-?\s*"
               r"(?:seconds?|secs?|s|minutes?|mins?|words?)(?:\s+long)?\s*$", re.IGNORECASE),
    re.compile(r",?\s+(?:please|thanks|thank you)\s*$", re.IGNORECASE),
    re.compile(r",?\s+(?:as|in)\s+an?\s+(?:\w+\s+){0,2}?(?:short|video|podcast|episode|blog|"
               r"blog post|article|post|tweet|thread|reel)s?\s*$", re.IGNORECASE),
    re.compile(r"[\s.!?,;:]+$"),
]
_TOPIC_START = [re.compile(r"\babout\s+", re.IGNORECASE),
                re.compile(r"\b(?:on|regarding|covering)\s+", re.IGNORECASE)]
_THIS_ONE = re.compile(r"\b(?:the|this|that|it|its|it's)\b", re.IGNORECASE)
_FILLER = frozenset({
    "make", "create", "write", "generate", "produce", "draft", "do", "record", "film", "start",
    "give", "get", "send", "put", "build", "prepare", "me", "us", "i", "we", "you", "want", "need",
    "would", "like", "could", "can", "please", "a", "an", "the", "some", "something", "anything",
    "content", "piece", "one", "new", "for", "about", "on", "of", "to", "it", "this", "that", "my",
    "our", "and", "or", "with", "hi", "hello", "hey", "thanks", "thank", "stuff", "thing",
    "things", "nice", "cool", "good", "great", "quick", "little", "just", "really", "maybe",
    "kind", "sort", "let", "lets", "let's", "is", "are", "be", "up", "ok", "okay", "yes", "no",
    "more", "else", "in", "at", "by", "as", "from", "tone", "style", "voice", "way",
})


def _first(patterns: Sequence[tuple[Any, str]], text: str) -> Any:
    for value, pattern in patterns:
        if re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            return value
    return None


def _strip_tails(text: str) -> tuple[str, str]:
    """``text`` without trailing platform / style / length phrases, and what was cut."""
    cut = []
    changed = True
    while changed:
        changed = False
        for tail in _TAILS:
            found = tail.search(text)
            if found and found.start() > 0:
                cut.append(found.group(0))
                text, changed = text[: found.start()], True
    return text.strip(), " ".join(cut)


def _topic_split(text: str) -> tuple[str, str | None]:
    """(the words before the topic, the topic) — the topic follows "about" (or "on")."""
    for start in _TOPIC_START:
        found = start.search(text)
        if found:
            topic = text[found.end():].strip().strip("\"'“”‘’").strip()
            return text[: found.start()], topic or None
    return text, None


def parse_request(text: str) -> RequestParse:
    """The deterministic reading of a request; the topic is None when no "about" names it."""
    body, tails = _strip_tails(" ".join(text.split()))
    head, topic = _topic_split(body)
    hints = f"{head} {tails}"  # format/style words inside the topic are the topic's own
    seconds = words = None
    if found := _WORDS.search(hints):
        words = int(float(found.group(1)))
    if found := _MINUTES.search(hints):
        seconds = int(float(found.group(1)) * 60)
    elif found := _SECONDS.search(hints):
        seconds = int(float(found.group(1)))
    return RequestParse(topic, _first(_FORMAT_WORDS, hints), _first(_STYLE_WORDS, hints),
                        seconds, words)


def leftover_words(text: str) -> list[str]:
    """The words of ``text`` that are neither filler nor format/style/length words."""
    words = re.findall(r"[\w'’-]+", text.lower())
    hint_words = [p for _, p in (*_FORMAT_WORDS, *_STYLE_WORDS)]
    kept = []
    for word in words:
        if word in _FILLER or re.fullmatch(r"[\d.]+(?:-?\w+)?", word):
            continue
        if any(re.fullmatch(p, word) for p in hint_words) or re.fullmatch(
                r"(?:seconds?|secs?|minutes?|mins?|words?|long|short|tiktok|youtube)", word):
            continue
        kept.append(word)
    return kept


def is_new_request(text: str, parsed: RequestParse) -> bool:
    """Whether free text asks for a new piece, not for changes to a draft: it names a format
    and a topic, and does not point at an existing piece ("make *the* post about ...")."""
    head, _ = _topic_split(_strip_tails(text)[0])
    return bool(parsed.format and parsed.topic and not _THIS_ONE.search(head))


class RequestGuess(BaseModel):
    """What the chat model reads in a request whose topic the parser could not find."""

    topic: str = Field("", description="The subject only, in a few words; '' if none is named.")
    format: str = Field("", description=f"One of {', '.join(FORMATS)}, or ''.")
    style: str = Field("", description=f"One of {', '.join(STYLES)}, or ''.")


_GUESS_PROMPT = (
    "You read a request for a piece of content and extract its subject. The topic is what "
    "the piece is about, in a few words taken from the request (e.g. 'how tides work'). "
    "If the request names no subject, the topic is ''. Never invent a subject."
)


def guess_request(chat: ChatModel, text: str, parsed: RequestParse) -> RequestParse:
    """``parsed`` with the topic (and a missing format/style) as the chat model reads them.

    A topic that shares no word with the request is taken to be invented and dropped; if the
    model gives no valid answer at all, the request's own content words are the topic.
    """
    own = leftover_words(text)
    try:
        guess = structured(chat, RequestGuess, [SystemMessage(_GUESS_PROMPT), HumanMessage(text)],
                           retries=1, max_tokens=120)
    except ModelOutputError:
        return replace(parsed, topic=" ".join(own) or None)
    topic = " ".join(guess.topic.split())[:200]
    if topic and not set(leftover_words(topic)) & set(own):
        topic = " ".join(own)
    return replace(
        parsed,
        topic=topic or None,
        format=parsed.format or _first(_FORMAT_WORDS, guess.format),
        style=parsed.style or _first(_STYLE_WORDS, guess.style),
    )


def answer_topic(text: str) -> str | None:
    """The topic in an answer to the clarifying question ("about tides" -> "tides")."""
    body, _ = _strip_tails(" ".join(text.split()))
    _, topic = _topic_split(body)
    topic = topic or re.sub(r"^(?:it(?:'s| is| should be)?|maybe|just)\s+", "", body,
                            flags=re.IGNORECASE)
    return topic.strip("\"'“”‘’ ") or None


# --- replies ------------------------------------------------------------------------------

STATUS_WORDS = {
    "pending": "queued", "processing": "working", "review": "waiting for review",
    "published": "published", "rejected": "rejected", "failed": "stopped",
    "cancelled": "cancelled",
}


def describe_brief(brief: Brief) -> str:
    length = f"{brief.target_seconds}-second" if brief.spoken else f"{brief.target_words}-word"
    return f"a {length} {brief.style} {brief.format} about “{brief.topic}”"


def format_jobs(jobs: Iterable[Any]) -> str:
    lines = [f"• {j.id} — {STATUS_WORDS.get(j.status, j.status)} — {j.content_type} — "
             f"{j.title[:60]}" for j in jobs]
    if not lines:
        return "No jobs yet: try “make a 45-second short about how tides work”."
    return "Your jobs:\n" + "\n".join(lines)


def format_status(job: Any, steps: Iterable[Any], stage: str | None = None,
                  location: str | None = None) -> str:
    marks = {"completed": "✓", "processing": "…", "failed": "✗"}
    trail = " · ".join(f"{s.name} {marks.get(s.status, s.status)}" for s in steps)
    lines = [f"{job.id}: {job.content_type} about “{job.title}” — "
             f"{STATUS_WORDS.get(job.status, job.status)}"]
    if trail:
        lines.append(f"steps: {trail}")
    if stage:
        lines.append(f"waiting at {stage}: /approve {job.id}, /revise {job.id} NOTES or "
                     f"/reject {job.id}")
    if job.status == "failed" and job.error_message:
        lines.append(f"why: {job.error_message}")
    if location:
        lines.append(f"published: {location}")
    return "\n".join(lines)


def format_sources(sources: Sequence[Any], names: Mapping[str, str]) -> str:
    """Each source by its title and the name it was added under (never our stored copy's
    path or name)."""
    if not sources:
        return "The knowledge base is empty: send files (.md .txt .html .pdf) to add them."
    lines = [f"• {s.title} ({names[s.id]})" if names.get(s.id) else f"• {s.title}"
             for s in sources]
    return f"Knowledge base ({len(sources)} sources):\n" + "\n".join(lines)


def format_add_results(results: Iterable[Any]) -> str:
    lines = []
    for r in results:
        if r.status == "error":
            lines.append(f"✗ {r.path.name}: {r.message}")
        else:
            lines.append(f"✓ {r.path.name}: {r.status}, {r.chunks} passages")
    return "\n".join(lines) or "no files given"
