"""Checks on how the piece reads: repetition, a hook that hooks, a call to action that asks.

None of these may pass by construction: a hook is not good because it is non-empty, nor
because it names the topic (the issue's "The answer to why the sky is blue is why the sky
is blue" named it twice).
"""

from __future__ import annotations

import re

from assistant.content import Brief, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.claims import body_sentences, clip, content_words
from assistant.tools.quality.facts import facts_in
from assistant.tools.quality.support import restates_topic
from assistant.tools.quality.topic import key_terms, names_terms
from assistant.tools.quality.truth import Problem

RUN = 6  # words: a run this long said twice is a repeat, not a coincidence
HOOK_MAX_WORDS = 30

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _normal(sentence: str) -> str:
    return " ".join(_TOKEN.findall(sentence.lower()))


def repeated_sentences(script: Script) -> list[Problem]:
    """Sentences the piece says more than once (hook, sections and call to action)."""
    first_at: dict[str, str] = {}
    problems: list[Problem] = []
    for located in body_sentences(script):
        key = _normal(located.text)
        if len(key.split()) < 3:
            continue
        if key in first_at:
            problems.append(Problem(located.where, f"repeats a sentence from {first_at[key]}",
                                    located.text))
        else:
            first_at[key] = located.where
    return problems


def repeated_runs(script: Script, run: int = RUN) -> list[Problem]:
    """Runs of ``run`` words said twice, in different sentences (not whole repeats)."""
    seen: dict[tuple[str, ...], str] = {}
    sentences_seen: set[str] = set()
    problems: list[Problem] = []
    reported: set[tuple[str, ...]] = set()
    for located in body_sentences(script):
        key = _normal(located.text)
        if key in sentences_seen:
            continue  # a whole repeat: repeated_sentences reports it
        sentences_seen.add(key)
        words = key.split()
        grams = {tuple(words[i:i + run]) for i in range(len(words) - run + 1)}
        for gram in sorted(grams):
            if gram in seen and gram not in reported:
                reported.add(gram)
                problems.append(Problem(located.where, f"repeats {' '.join(gram)!r} from "
                                        f"{seen[gram]}", located.text))
            seen.setdefault(gram, located.where)
    return problems


# --- hook -------------------------------------------------------------------------------

# Words that dress a restated topic up as a hook without adding anything to it.
_HOOK_FILLER_TEXT = """answer question ever wondered wonder asked ask know find out
let's lets talk today explain explained explore look learn discover here there's truth
secret reason reasons really actually simple simply terms plain surprising surprisingly
thousand times seen piece examines examine video post guide story everything need thing
things you've ready going tell"""
_HOOK_FILLER = frozenset(_HOOK_FILLER_TEXT.split())


HOOK_NEAR = 0.35  # MiniLM similarity to the topic that makes a hook about it unnamed


def hook_problems(script: Script, brief: Brief, embedder: Embedder | None = None) -> list[str]:
    """Why the hook fails as a hook ([] when it works): missing, too long, the title again,
    the topic restated, or about something else (it names no key term of the topic and,
    given MiniLM, is not close to it either)."""
    hook = script.hook.strip()
    if not hook:
        return ["there is no hook"]
    problems = []
    words = len(hook.split())
    if words > HOOK_MAX_WORDS:
        problems.append(f"the hook is {words} words; keep it under {HOOK_MAX_WORDS}")
    if _normal(hook) == _normal(script.title):
        problems.append("the hook repeats the title")
    topic = content_words(brief.topic) | {t for t in key_terms(brief.topic)}
    added = {w for w in content_words(hook) if w not in _HOOK_FILLER
             and not any(w.startswith(t) or t.startswith(w) for t in topic)}
    if not added or restates_topic(hook, brief.topic):
        problems.append(f"the hook only restates the topic: {clip(hook)!r}; open with a "
                        "question the piece answers or a surprising fact from the sources")
    elif not names_terms(hook, key_terms(brief.topic)) and not _near(hook, brief.topic,
                                                                       embedder):
        problems.append(f"the hook is not about {brief.topic!r}: {clip(hook)!r}")
    return problems


def _near(text: str, topic: str, embedder: Embedder | None) -> bool:
    if embedder is None:
        return False
    vectors = embedder.embed([text, topic])
    return float(vectors[0] @ vectors[1]) >= HOOK_NEAR


# --- call to action ---------------------------------------------------------------------

# The verbs that ask a reader or viewer to do something.
_ACTION = re.compile(
    r"\b(follow|subscribe|share|comment|tell|let us know|join|sign up|register|save|download|"
    r"try|read|visit|check|watch|listen|ask|contact|call|email|write|reply|like|bookmark|"
    r"explore|see|look up|find out|learn more|discover|book|apply|report|donate|vote|"
    r"send|tag|leave|drop|hit|turn on|click|tap|go to|head to|grab|get)\b",
    re.IGNORECASE,
)


def call_to_action_problems(script: Script) -> list[str]:
    """Why the call to action fails ([] when it works): it must ask for an action and
    state no facts (a fact there has no section, no citation and no review)."""
    cta = script.call_to_action.strip()
    if not cta:
        return ["there is no call to action"]
    problems = []
    if not _ACTION.search(cta):
        problems.append(f"the call to action asks for no action: {clip(cta)!r}")
    facts = facts_in(cta).items()
    if facts:
        problems.append(f"the call to action states facts ({', '.join(facts)}): "
                        f"{clip(cta)!r}; facts belong in a cited section")
    if _normal(cta) == _normal(script.title):
        problems.append("the call to action repeats the title")
    return problems
