"""The analytics loop: pull each publication's metrics through its publisher, and turn the
stored metrics into what did best.

- :func:`pull_due` asks every published piece whose newest metrics are older than
  ``ASSISTANT_ANALYTICS_INTERVAL_S`` for its counters, through the publisher's ``metrics()``
  (:class:`~assistant.tools.publishing.base.SupportsMetrics`: YouTube ``videos.list``
  statistics, TikTok's video query, WordPress comment counts, what the Telegram and Discord
  APIs give). A publisher that has no metrics (the local outbox: files on a disk have no
  audience) is skipped and says so in the pull's result, as is a platform that cannot be
  reached (tried again next interval).
- :func:`recommend` compares the pieces by format, length, style, title style and hour and
  says what did best, with its evidence ("shorts had 3.0x the views of blogs (6 vs 4
  pieces)"). Nothing is recommended from fewer than ``ASSISTANT_RECOMMEND_MIN_POINTS``
  pieces with metrics, nor from a group of one piece, and the answer says so.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.tools.publishing import SupportsMetrics, publishers_for
from assistant.tools.publishing.accounts import AccountStore, owners_of_job
from assistant.tools.publishing.ledger import publication_of
from storage.analytics import AnalyticsRepository, Piece
from storage.db import Database
from storage.records import PublicationRecord

log = logging.getLogger(__name__)

VIEWS = "views"
ENGAGEMENT = ("likes", "comments", "shares")
# a platform's own names for the same counters -> ours
ALIASES = {"viewCount": VIEWS, "view_count": VIEWS, "likeCount": "likes", "like_count": "likes",
           "commentCount": "comments", "comment_count": "comments", "share_count": "shares",
           "shareCount": "shares", "plays": VIEWS}


@dataclass
class PullResult:
    pulled: dict[str, int] = field(default_factory=dict)  # publication id -> metrics stored
    no_metrics: list[str] = field(default_factory=list)  # platforms that give none
    failed: dict[str, str] = field(default_factory=dict)  # publication id -> one line why


MetricsReader = Callable[[PublicationRecord], dict[str, float] | None]


def platform_reader(settings: Settings, db: Database) -> MetricsReader:
    """Reads a publication's counters through its platform's publisher, with the account
    the job publishes with; None when the publisher has no metrics."""
    accounts = AccountStore.from_settings(settings, db)

    def read(row: PublicationRecord) -> dict[str, float] | None:
        credentials = accounts.credentials_for(owners_of_job(db, row.job_id))
        target = publishers_for(settings, credentials, [row.platform])[0]
        if not isinstance(target.publisher, SupportsMetrics):
            return None
        return target.publisher.metrics(publication_of(row), target.credentials)

    return read


def normalise(metrics: dict[str, float]) -> dict[str, float]:
    """Our names for the counters, numbers only (a platform's strings such as '1200' too)."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            out[ALIASES.get(name, name)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def pull_due(repo: AnalyticsRepository, read: MetricsReader, now: datetime,
             interval_s: float) -> PullResult:
    """One round of the loop: every publication due for a pull, once."""
    result = PullResult()
    for row in repo.due_for_pull(now, interval_s):
        try:
            metrics = read(row)
        except AssistantError as err:
            result.failed[row.id] = err.user_message
            log.warning("metrics of %s on %s: %s", row.job_id, row.platform, err.user_message)
            continue
        except Exception as err:  # an unexpected answer: logged, tried again next interval
            log.exception("metrics of %s on %s failed", row.job_id, row.platform)
            result.failed[row.id] = f"{row.platform}: {type(err).__name__}"
            continue
        if metrics is None:
            if row.platform not in result.no_metrics:
                result.no_metrics.append(row.platform)
            # remembered as a pull with nothing in it, so it is not asked again every round
            repo.record(row.id, {"pulled": 0.0}, now, meta={"no_metrics": True})
            continue
        clean = normalise(metrics)
        result.pulled[row.id] = repo.record(row.id, clean or {"pulled": 0.0}, now)
    return result


# --- what did best ------------------------------------------------------------------------


def views(piece: Piece) -> float | None:
    return piece.latest(VIEWS)


def engagement(piece: Piece) -> float:
    return sum(piece.latest(name) or 0.0 for name in ENGAGEMENT)


def with_metrics(pieces: Sequence[Piece]) -> list[Piece]:
    return [p for p in pieces if views(p) is not None]


def length_bucket(piece: Piece) -> str:
    seconds = piece.brief.get("target_seconds")
    if piece.format in ("short", "video", "podcast") and seconds:
        edges: tuple[int, ...] = (30, 60, 180, 600)
        low = max([0, *[e for e in edges if e <= int(seconds)]])
        high = next((e for e in edges if e > int(seconds)), None)
        return f"{low}-{high} s" if high else f"{low}+ s"
    words = int(piece.brief.get("target_words") or 0)
    edges = (300, 800, 1500)
    low = max([0, *[e for e in edges if e <= words]])
    high = next((e for e in edges if e > words), None)
    return f"{low}-{high} words" if high else f"{low}+ words"


def title_style(piece: Piece) -> str:
    """How the title hooks: a question, a number, 'how/why ...', or a plain statement."""
    title = str(piece.meta.get("title") or piece.title).strip()
    if title.endswith("?"):
        return "question"
    if re.search(r"\d", title):
        return "number"
    if re.match(r"(?i)(how|why|what|when|where)\b", title):
        return "how/why"
    return "statement"


def local_hour(piece: Piece, settings: Settings) -> int:
    # schedule.zone() explains a bad ASSISTANT_TIMEZONE; scheduling reads it first
    return piece.published_at.astimezone(ZoneInfo(settings.timezone)).hour


@dataclass(frozen=True)
class Recommendation:
    aspect: str  # format | length | style | title | hour
    value: str
    evidence: str  # one line, with the numbers
    points: int  # pieces it rests on


@dataclass
class Advice:
    recommendations: list[Recommendation]
    points: int  # pieces with metrics
    note: str  # why there is none, when there is none


def _best_group(pieces: Sequence[Piece], key: Callable[[Piece], str]
                ) -> tuple[str, float, int, str, float, int] | None:
    groups: dict[str, list[float]] = {}
    for p in pieces:
        groups.setdefault(key(p), []).append(views(p) or 0.0)
    ranked = sorted(((statistics.fmean(v), len(v), k) for k, v in groups.items() if len(v) >= 2),
                    reverse=True)
    if len(ranked) < 2:
        return None  # nothing to compare with (or only groups of one piece)
    (best_mean, best_n, best), (next_mean, next_n, runner) = ranked[0], ranked[1]
    return best, best_mean, best_n, runner, next_mean, next_n


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "more"


def recommend(pieces: Sequence[Piece], settings: Settings) -> Advice:
    """What did best, by aspect, with the evidence; none below the minimum number of pieces."""
    measured = with_metrics(pieces)
    need = settings.recommend_min_points
    if len(measured) < need:
        return Advice([], len(measured), f"no recommendation yet: {len(measured)} of the "
                      f"{need} published pieces with metrics it needs")
    aspects: list[tuple[str, Callable[[Piece], str], Callable[[str], str]]] = [
        ("format", lambda p: p.format, lambda v: f"{v}s"),
        ("length", length_bucket, lambda v: v),
        ("style", lambda p: str(p.brief.get("style") or "casual"), lambda v: f"{v} style"),
        ("title", title_style, lambda v: f"{v} titles"),
        ("hour", lambda p: f"{local_hour(p, settings):02d}:00", lambda v: f"posts at {v}"),
    ]
    found = []
    for aspect, key, words in aspects:
        best = _best_group(measured, key)
        if best is None:
            continue
        value, mean, n, runner, runner_mean, runner_n = best
        if mean <= runner_mean:
            continue
        found.append(Recommendation(aspect, value, (
            f"{words(value)} had {_ratio(mean, runner_mean)} the views of {words(runner)} "
            f"({mean:,.0f} vs {runner_mean:,.0f} on average, {n} vs {runner_n} pieces)"), n))
    note = "" if found else (f"{len(measured)} pieces with metrics, but no group of two or "
                             "more did better than another")
    return Advice(found, len(measured), note)


def learned_hours(pieces: Sequence[Piece], settings: Settings) -> dict[str, list[int]]:
    """Per platform, the local hours whose pieces had the most views on average, once the
    platform has the minimum number of pieces with metrics; the scheduler's best hours."""
    by_platform: dict[str, list[Piece]] = {}
    for p in with_metrics(pieces):
        by_platform.setdefault(p.platform, []).append(p)
    learned: dict[str, list[int]] = {}
    for platform, group in by_platform.items():
        if len(group) < settings.recommend_min_points:
            continue
        hours: dict[int, list[float]] = {}
        for p in group:
            hours.setdefault(local_hour(p, settings), []).append(views(p) or 0.0)
        ranked = sorted(hours, key=lambda h: (-statistics.fmean(hours[h]), h))
        learned[platform] = ranked[:2]
    return learned


def summary(pieces: Sequence[Piece], advice: Advice) -> str:
    """The report's few lines: totals, the top piece, what did best (or why nothing yet)."""
    measured = with_metrics(pieces)
    if not measured:
        return (f"{len(pieces)} published pieces, none with metrics yet (the local outbox has "
                "none; connected platforms are read every few hours).")
    total_views = sum(views(p) or 0.0 for p in measured)
    total_eng = sum(engagement(p) for p in measured)
    top = max(measured, key=lambda p: views(p) or 0.0)
    lines = [f"{len(measured)} pieces with metrics: {total_views:,.0f} views, "
             f"{total_eng:,.0f} likes, comments and shares.",
             f"Top: “{top.title}” on {top.platform} ({views(top) or 0:,.0f} views)."]
    lines += [f"• {r.evidence}" for r in advice.recommendations[:3]]
    if advice.note:
        lines.append(f"({advice.note})")
    return "\n".join(lines)
