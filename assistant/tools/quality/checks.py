"""Every text check QA runs, in order, each a function ``(QAContext) -> QACheck``.

Severities: error for what is untrue or unpublishable (off topic, unsupported, invented
facts, repeated sentences, wrong citations, length, platform limits), warning for style
(6-word runs, hook, call to action, reading grade). An error stops ``--yes`` before
publishing (assistant/cli); a warning is shown to the person who decides.

A message names each failure and where it is ("section 2: 'The Moon ...'"); a long list is
cut after a few, with the count of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.content import QACheck
from assistant.tools.quality.platforms import limit_problems
from assistant.tools.quality.style import (
    call_to_action_problems,
    hook_problems,
    repeated_runs,
    repeated_sentences,
)
from assistant.tools.quality.text import (
    Check,
    QAContext,
    check_brand,
    check_citations,
    check_length,
    check_reading_grade,
)
from assistant.tools.quality.topic import off_topic_sections
from assistant.tools.quality.truth import Problem, invented_facts, unsupported_sentences

SHOWN = 4  # failures listed in one message; the rest are counted


def summarise(items: Sequence[Problem | str], shown: int = SHOWN) -> str:
    text = "; ".join(str(i) for i in items[:shown])
    if len(items) > shown:
        text += f"; and {len(items) - shown} more"
    return text


def _no_embedder(name: str) -> QACheck:
    # Never a pass by default: without MiniLM this check cannot judge, so it says so.
    return QACheck(name=name, passed=False,
                   message="cannot check without the embedding model (QAContext.embedder)")


def check_on_topic(ctx: QAContext) -> QACheck:
    if ctx.embedder is None:
        return _no_embedder("on_topic")
    problems = off_topic_sections(ctx.script, ctx.research, ctx.brief, ctx.embedder,
                                  ctx.term_stats)
    n = len(ctx.script.sections)
    if problems:
        return QACheck(name="on_topic", passed=False, fixable=True,
                       message=f"{len(problems)} of {n} sections off topic: "
                       + summarise(problems))
    return QACheck(name="on_topic", passed=True,
                   message=f"all {n} sections are about {ctx.brief.topic!r}")


def check_support(ctx: QAContext) -> QACheck:
    if ctx.embedder is None:
        return _no_embedder("support")
    problems, checked = unsupported_sentences(ctx.script, ctx.research, ctx.embedder)
    if problems:
        return QACheck(name="support", passed=False, fixable=True,
                       message=f"{len(problems)} of {checked} factual sentences not backed by "
                       "a retrieved passage of a cited source: " + summarise(problems))
    return QACheck(name="support", passed=True,
                   message=f"all {checked} factual sentences traced to a retrieved passage")


def check_invented(ctx: QAContext) -> QACheck:
    problems = invented_facts(ctx.script, ctx.research, ctx.brief)
    if problems:
        return QACheck(name="invented_facts", passed=False, fixable=True,
                       message=summarise(problems))
    return QACheck(name="invented_facts", passed=True,
                   message="every number and name appears in a retrieved passage")


def check_repetition(ctx: QAContext) -> QACheck:
    problems = repeated_sentences(ctx.script)
    if problems:
        return QACheck(name="repetition", passed=False, fixable=True,
                       message=f"{len(problems)} repeated sentence(s): " + summarise(problems))
    return QACheck(name="repetition", passed=True, message="no sentence is said twice")


def check_repeated_runs(ctx: QAContext) -> QACheck:
    problems = repeated_runs(ctx.script)
    if problems:
        return QACheck(name="repeated_phrases", passed=False, severity="warning",
                       message=f"{len(problems)} six-word run(s) said twice: "
                       + summarise(problems))
    return QACheck(name="repeated_phrases", passed=True, severity="warning",
                   message="no six-word run is said twice")


def check_hook(ctx: QAContext) -> QACheck:
    problems = hook_problems(ctx.script, ctx.brief, ctx.embedder)
    if problems:
        return QACheck(name="hook", passed=False, severity="warning", message=summarise(problems))
    return QACheck(name="hook", passed=True, severity="warning",
                   message=f"opens with: {ctx.script.hook}")


def check_call_to_action(ctx: QAContext) -> QACheck:
    problems = call_to_action_problems(ctx.script)
    if problems:
        return QACheck(name="call_to_action", passed=False, severity="warning",
                       message=summarise(problems))
    return QACheck(name="call_to_action", passed=True, severity="warning",
                   message=f"asks: {ctx.script.call_to_action}")


def check_platform_limits(ctx: QAContext) -> list[QACheck]:
    """Two results: the platforms' limits (error) and their advice (warning)."""
    errors, warnings = limit_problems(ctx.script, ctx.platforms)
    where = ", ".join(ctx.platforms) or "no platform"
    out = [QACheck(name="platform_limits", passed=not errors, fixable=bool(errors),
                   message=summarise(errors) if errors else f"within the limits of {where}")]
    if warnings:
        out.append(QACheck(name="platform_advice", passed=False, severity="warning",
                           message=summarise(warnings)))
    return out


# The order QA reports them in: truth first.
CONTENT_CHECKS: list[Check] = [
    check_on_topic, check_support, check_invented, check_repetition, check_citations,
    check_length, check_repeated_runs, check_hook, check_call_to_action,
    check_reading_grade, check_brand,
]


def run_text_checks(ctx: QAContext) -> list[QACheck]:
    """Every text check on ``ctx``, in report order."""
    return [check(ctx) for check in CONTENT_CHECKS] + check_platform_limits(ctx)


__all__ = [
    "CONTENT_CHECKS", "check_brand", "check_call_to_action", "check_citations", "check_hook",
    "check_invented", "check_length", "check_on_topic", "check_platform_limits",
    "check_reading_grade", "check_repeated_runs", "check_repetition", "check_support",
    "run_text_checks", "summarise",
]
