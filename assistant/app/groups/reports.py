"""/report: how the published pieces do (a chart and a few lines), and the recommendations
offered as the next brief's defaults.

``/report`` answers with the chart image (views and engagement per piece over time, by
format and by hour: :mod:`assistant.tools.publishing.report_chart`) and a short summary;
``/report defaults off`` (or ``on``) says whether the person's next briefs take what did best
as their defaults (ASSISTANT_RECOMMENDATIONS=false turns it off for everyone). The weekly
report the scheduler sends is the same report, for a workspace.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from assistant.app.command_registry import CommandContext, register
from assistant.app.events import OutEvent, artifact, say
from assistant.content import Brief
from assistant.errors import InputError
from assistant.tools.publishing.analytics import Advice, recommend, summary
from assistant.tools.publishing.report_chart import render_chart
from storage.analytics import AnalyticsRepository
from storage.models import Profile

if TYPE_CHECKING:
    from assistant.graph.services import Services

PREFERENCE = "recommendations"  # profiles.preferences key: False when the person declined
REPORT_DAYS = 90


def build_report(svc: Services, *, now: datetime, username: str | None = None,
                 organization_id: str | None = None, since: datetime | None = None,
                 title: str = "Your published pieces") -> list[OutEvent]:
    """The chart (an image event) and the summary (a text event) of a person's or a
    workspace's pieces published since ``since`` (default: the last 90 days)."""
    since = since or now - timedelta(days=REPORT_DAYS)
    pieces = AnalyticsRepository(svc.db).pieces(username=username,
                                                organization_id=organization_id, since=since)
    advice = recommend(pieces, svc.settings)
    text = summary(pieces, advice)
    if not pieces:
        return [say(None, f"{title}: nothing published since {since:%d %b %Y} yet.")]
    who = re.sub(r"[^A-Za-z0-9_.-]+", "_", username or f"org-{organization_id}")[:80]
    target = (svc.settings.resolved_data_dir / "reports" / who
              / f"report-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.png")
    render_chart(pieces, svc.settings, target, title=title)
    return [artifact(None, target, "image/png"), say(None, f"{title}\n{text}")]


@register("report", "/report [defaults on|off] — a chart of how your pieces do, and whether "
          "what did best becomes your next brief's defaults")
def report(ctx: CommandContext, args: str) -> list[OutEvent]:
    words = args.lower().split()
    if words[:1] == ["defaults"]:
        if words[1:] not in (["on"], ["off"]):
            raise InputError("say /report defaults on, or /report defaults off")
        _set_preference(ctx.svc, ctx.username, words[1] == "on")
        if words[1] == "off":
            return [say(None, "OK: your next briefs keep the usual defaults, whatever did "
                              "best. /report defaults on to use them again.")]
        return [say(None, "OK: when you leave the format, length or style out, your next "
                          "brief takes what did best (the reason is shown each time).")]
    if args.strip():
        raise InputError("/report takes nothing, or: defaults on | defaults off")
    return build_report(ctx.svc, now=datetime.now(UTC), username=ctx.username)


def _set_preference(svc: Services, username: str, on: bool) -> None:
    svc.repo.ensure_user(username)
    with svc.db.session() as s:
        profile = s.scalars(select(Profile).where(Profile.username == username)).one()
        profile.preferences = {**(profile.preferences or {}), PREFERENCE: on}


def _declined(svc: Services, username: str) -> bool:
    with svc.db.session() as s:
        prefs = s.scalar(select(Profile.preferences).where(Profile.username == username))
    return isinstance(prefs, dict) and prefs.get(PREFERENCE) is False


# --- the next brief's defaults ------------------------------------------------------------

_SECONDS = re.compile(r"^(\d+)-(\d+) s$")
_WORDS = re.compile(r"^(\d+)-(\d+) words$")


def offer_defaults(svc: Services, brief: Brief, given: set[str]) -> tuple[Brief, str]:
    """``brief`` with what did best for its owner where the person said nothing (``given``
    names what they did say: format, style, seconds, words), and the one line that says so
    and why; ('', unchanged) when there is no recommendation or the person declined."""
    if not svc.settings.recommendations or _declined(svc, brief.user):
        return brief, ""
    pieces = AnalyticsRepository(svc.db).pieces(
        username=brief.user, since=datetime.now(UTC) - timedelta(days=REPORT_DAYS))
    advice = recommend(pieces, svc.settings)
    if not advice.recommendations:
        return brief, ""
    return _apply(brief, given, advice)


def _apply(brief: Brief, given: set[str], advice: Advice) -> tuple[Brief, str]:
    best = {r.aspect: r for r in advice.recommendations}
    used = []
    fmt, style = brief.format, brief.style
    seconds = brief.target_seconds if {"seconds", "words"} & given else None
    words = brief.target_words if {"seconds", "words"} & given else None
    if "format" not in given and "format" in best and best["format"].value != brief.format:
        fmt = best["format"].value  # type: ignore[assignment]
        used.append(best["format"])
    if "style" not in given and "style" in best and best["style"].value != brief.style:
        style = best["style"].value  # type: ignore[assignment]
        used.append(best["style"])
    length = best.get("length")
    if length is not None and not {"seconds", "words"} & given:
        spoken, written = _SECONDS.match(length.value), _WORDS.match(length.value)
        if spoken and fmt in ("short", "video", "podcast"):
            seconds = (int(spoken[1]) + int(spoken[2])) // 2
            used.append(length)
        elif written and fmt in ("blog", "social"):
            words = (int(written[1]) + int(written[2])) // 2
            used.append(length)
    if not used:
        return brief, ""
    try:
        changed = Brief.create(brief.topic, fmt, style, seconds=seconds, words=words,
                               user=brief.user, depth=None, language=brief.language)
    except (ValueError, InputError):
        return brief, ""
    changed = changed.model_copy(update={"platforms": brief.platforms,
                                         "publish_at": brief.publish_at, "notes": brief.notes})
    reasons = "; ".join(r.evidence for r in used)
    return changed, (f"From your analytics ({advice.points} pieces): {reasons}. Say the "
                     "format, length or style yourself to choose, or /report defaults off.")
