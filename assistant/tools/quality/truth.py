"""Is the script true to what this job retrieved? Support and invented facts.

Both run the writer's own verifier (quality/support.py and facts.py), so a rewrite cannot
sneak past QA with what the writer would have refused:

- support: every factual sentence (body, hook, description) is traced to a retrieved
  passage of a source its section cites (``support.trace``: its numbers, dates and names in
  that passage, the passage's polarity kept, its meaning close);
- invented facts: numbers and names the script states that no retrieved passage, source
  title or the request itself contains — anywhere, title and call to action included.

Each finder returns :class:`Problem` s (what and where), so QA reports them and the evals
count them with the same code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.content import Brief, Research, Script
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.claims import Located, clip, content_words, sentences_of
from assistant.tools.quality.facts import facts_in, missing_facts
from assistant.tools.quality.support import trace

# Fewer content words than this, and no facts: the sentence claims nothing checkable.
MIN_CLAIM_WORDS = 3


@dataclass
class Problem:
    where: str
    message: str
    sentence: str = ""
    facts: list[str] = field(default_factory=list)  # the facts at fault, as written

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" ({clip(self.sentence)!r})"
                                                   if self.sentence else "")


def is_claim(sentence: str) -> bool:
    """A sentence that states something: not a question, not too short to check."""
    text = sentence.strip()
    if text.endswith("?"):
        return False
    return len(content_words(text)) >= MIN_CLAIM_WORDS or bool(facts_in(text))


def unsupported_sentences(
    script: Script, research: Research, embedder: Embedder,
) -> tuple[list[Problem], int]:
    """The factual sentences no retrieved passage of a cited source backs, and how many
    factual sentences were checked."""
    by_source: dict[str, list[str]] = {}
    for finding in research.findings:
        by_source.setdefault(finding.source_id, []).append(finding.text)
    every = [f.text for f in research.findings]
    claims = [s for s in sentences_of(script, only=("hook", "section", "description"))
              if is_claim(s.text)
              and not (s.where == "description" and _about_the_piece(s.text, every))]
    # One trace per set of cited sources: MiniLM embeds each group in one batch.
    groups: dict[tuple[str, ...], list[Located]] = {}
    for located in claims:
        groups.setdefault(tuple(located.citations), []).append(located)
    problems: list[Problem] = []
    for cited, members in groups.items():
        pool = [p for c in cited for p in by_source.get(c, [])] if cited else every
        traces = trace([m.text for m in members], pool, embedder)
        for located, found in zip(members, traces, strict=True):
            if not found.verdict.supported:
                problems.append(_explain(located, found.verdict.reason, cited, by_source,
                                         research, embedder))
    return _in_reading_order(problems, claims), len(claims)


def _explain(located: Located, reason: str, cited: tuple[str, ...],
             by_source: dict[str, list[str]], research: Research,
             embedder: Embedder) -> Problem:
    """Why ``located`` is unsupported; naming the uncited source that would back it."""
    if cited:
        others = [sid for sid in by_source if sid not in cited]
        for sid in others:
            if trace([located.text], by_source[sid], embedder)[0].verdict.supported:
                source = research.source(sid)
                title = source.title if source else sid
                return Problem(located.where, f"backed only by {title!r}, which it does not "
                               "cite", located.text)
    if reason == "no passage to check against":
        reason = "its section cites no source this job retrieved"
    return Problem(located.where, f"not backed by a retrieved passage: {reason}", located.text)


def _in_reading_order(problems: list[Problem], claims: list[Located]) -> list[Problem]:
    rank = {(c.where, c.text): i for i, c in enumerate(claims)}
    return sorted(problems, key=lambda p: rank.get((p.where, p.sentence), len(rank)))


# Words a description uses about the piece itself ("a short explainer on tides").
_META = re.compile(r"\b(explainer|explained|guide|video|short|episode|podcast|post|article|"
                   r"piece|overview|introduction|primer|sourced|learn|discover|find out|"
                   r"explore|look at|a tour of|style|tone|casual|professional|academic|"
                   r"viral|plain|simple|simply|terms)\b", re.IGNORECASE)
META_KNOWN = 0.8  # share of its other content words the retrieved passages must contain


def _about_the_piece(sentence: str, passages: Sequence[str]) -> bool:
    """A description sentence about the piece ("A sourced explainer on tides: the Moon and
    the Sun") states no claim of its own, if the subjects it lists are the sources' words
    and it states no fact they lack."""
    if not _META.search(sentence) or missing_facts(sentence, " ".join(passages)):
        return False
    words = content_words(_META.sub(" ", sentence))
    if not words:
        return True
    vocabulary = content_words(" ".join(passages))
    return len(words & vocabulary) / len(words) >= META_KNOWN


def invented_facts(script: Script, research: Research, brief: Brief | None = None
                   ) -> list[Problem]:
    """Numbers and names the script states that nothing this job retrieved contains."""
    evidence = "\n\n".join([*(f.text for f in research.findings),
                            *(s.title for s in research.sources)])
    allowed = brief.topic if brief else ""
    problems: list[Problem] = []
    for located in sentences_of(script):
        unknown = missing_facts(located.text, evidence, allowed=allowed)
        if unknown:
            problems.append(Problem(located.where, f"states {', '.join(unknown)}, found in no "
                                    "retrieved passage", located.text, unknown))
    return problems
