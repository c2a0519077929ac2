"""When each platform gets a piece: best hours, the viral cascade, and the plan shown at the
final review.

- **Best hours** per platform are local hours in the person's timezone
  (``ASSISTANT_TIMEZONE``, default UTC). :data:`DEFAULT_BEST_HOURS` is a starting table
  (evenings for TikTok and Shorts, mornings for a blog, the working day for X and Telegram);
  ``ASSISTANT_BEST_HOURS="tiktok=19,21;youtube=17"`` overrides platforms one by one, and
  hours learned from analytics (:func:`assistant.tools.publishing.analytics.learned_hours`,
  only with enough data) come first when given.
- **The viral cascade** (PRD 3.2.7): TikTok at its next peak hour, YouTube Shorts 30 minutes
  later, X / Telegram (and a Discord channel, the same kind of share) an hour after TikTok,
  the blog post with the embeds two hours after it. Only the platforms the job targets are
  planned; the first of them starts at its own next peak hour and the others keep their
  distance from it, so a job for YouTube and WordPress puts the post 90 minutes after the
  video.
- ``ASSISTANT_PUBLISH_SCHEDULE``: ``now`` (the default: publish once approved), ``best``
  (each platform at its next best hour) or ``cascade``.

Times are computed from an injected ``now`` (aware UTC), never the wall clock, so the tests
drive them with their own clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.config import Settings
from assistant.content import Brief
from assistant.errors import ConfigError, InputError
from storage.db import Database
from storage.jobs import JobRepository

# Local hours (0-23) that usually do best; a sensible start, replaced by settings or analytics.
DEFAULT_BEST_HOURS: dict[str, tuple[int, ...]] = {
    "tiktok": (19, 21, 12),
    "youtube": (17, 20, 14),
    "x": (9, 12, 17),
    "telegram": (9, 18),
    "discord": (18, 21),
    "wordpress": (8, 10),
    "outbox": (9,),
}
FALLBACK_HOURS: tuple[int, ...] = (9, 18)  # a platform the table does not know

# Minutes after the cascade's TikTok post (PRD 3.2.7). The outbox is our local feed of the
# piece: it goes with the blog.
CASCADE_OFFSETS_MIN: dict[str, int] = {
    "tiktok": 0,
    "youtube": 30,
    "x": 60,
    "telegram": 60,
    "discord": 60,
    "wordpress": 120,
    "outbox": 120,
}
MODES = ("now", "best", "cascade")
# A slot sooner than this after approval is taken as 'now' is too close: the next one is used.
MIN_LEAD = timedelta(minutes=5)
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?$")


@dataclass(frozen=True)
class Slot:
    """One platform's time: ``publish_at`` is aware UTC; ``reason`` says why this time."""

    platform: str
    publish_at: datetime
    reason: str


def zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"ASSISTANT_TIMEZONE={settings.timezone!r} is not a timezone: use an "
                          "IANA name such as UTC, Europe/Paris or America/New_York") from None


def parse_best_hours(text: str) -> dict[str, tuple[int, ...]]:
    """``"tiktok=19,21;youtube=17"`` -> {"tiktok": (19, 21), "youtube": (17,)}."""
    table: dict[str, tuple[int, ...]] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ";").split(";"))):
        name, sep, hours = part.partition("=")
        try:
            values = tuple(int(h) for h in hours.split(",") if h.strip())
        except ValueError:
            values = ()
        if not sep or not name.strip() or not values or any(not 0 <= h <= 23 for h in values):
            raise ConfigError(f"ASSISTANT_BEST_HOURS: {part!r} is not PLATFORM=HOUR,HOUR "
                              "(hours 0-23), e.g. tiktok=19,21;youtube=17")
        table[name.strip().lower()] = values
    return table


def best_hours(settings: Settings, platform: str,
               learned: Mapping[str, Sequence[int]] | None = None) -> tuple[int, ...]:
    """The local hours to publish on ``platform``: learned from analytics when given, else
    the setting's, else the default table's."""
    if learned and learned.get(platform):
        return tuple(learned[platform])
    override = parse_best_hours(settings.best_hours).get(platform)
    return override or DEFAULT_BEST_HOURS.get(platform, FALLBACK_HOURS)


def next_hour(now: datetime, hours: Sequence[int], tz: ZoneInfo,
              lead: timedelta = MIN_LEAD) -> datetime:
    """The first local ``hours`` o'clock at least ``lead`` after ``now``, in UTC. A local hour
    that a clock change skips is taken at the same UTC offset as before it."""
    local = (now + lead).astimezone(tz)
    for day in range(0, 3):
        date = (local + timedelta(days=day)).date()
        for hour in sorted(set(hours)):
            at = datetime(date.year, date.month, date.day, hour, tzinfo=tz).astimezone(UTC)
            if at >= now + lead:
                return at
    raise ValueError(f"no hour in {hours!r}")  # unreachable: some day has each hour


def plan(settings: Settings, platforms: Sequence[str], now: datetime, *,
         mode: str | None = None, start: datetime | None = None,
         learned: Mapping[str, Sequence[int]] | None = None) -> list[Slot]:
    """Each platform's time, in the order they go out. ``mode`` defaults to the setting;
    ``start`` is a time the person asked for (the brief's publish_at): the cascade starts
    then, 'now' publishes everything then, 'best' takes each best hour after it."""
    mode = mode or settings.publish_schedule
    if mode not in MODES:
        raise ConfigError(f"ASSISTANT_PUBLISH_SCHEDULE={mode!r}: choose {', '.join(MODES)}")
    tz = zone(settings)
    names = list(dict.fromkeys(platforms))
    asked = start is not None and start > now
    if mode == "now":
        if asked:
            assert start is not None
            return [Slot(p, start, "the time you asked for") for p in names]
        return [Slot(p, now, "once approved") for p in names]
    after = start if asked and start is not None else now
    lead = timedelta(0) if asked else MIN_LEAD
    if mode == "best":
        slots = [Slot(p, next_hour(after, best_hours(settings, p, learned), tz, lead),
                      f"{label(p)}'s next best hour{_source(p, learned)}") for p in names]
        return sorted(slots, key=lambda s: (s.publish_at, s.platform))
    in_cascade = sorted((p for p in names if p in CASCADE_OFFSETS_MIN),
                        key=lambda p: CASCADE_OFFSETS_MIN[p])
    slots = []
    if in_cascade:
        first = in_cascade[0]
        if asked and start is not None:
            begin, first_why = start, "the time you asked for"
        else:
            begin = next_hour(now, best_hours(settings, first, learned), tz)
            first_why = f"{label(first)}'s peak hour{_source(first, learned)}"
        base = CASCADE_OFFSETS_MIN[first]
        for p in in_cascade:
            gap = CASCADE_OFFSETS_MIN[p] - base
            why = first_why if p == first else f"cascade: {label(first)} +{_minutes(gap)}"
            slots.append(Slot(p, begin + timedelta(minutes=gap), why))
    for p in names:  # a platform the cascade has no place for: its own best hour
        if p not in CASCADE_OFFSETS_MIN:
            slots.append(Slot(p, next_hour(after, best_hours(settings, p, learned), tz, lead),
                              f"{label(p)}'s next best hour{_source(p, learned)}"))
    return sorted(slots, key=lambda s: (s.publish_at, s.platform))


# --- the plan of one job, kept in its meta between the final review and publishing ----------
PLAN_KEY = "schedule"


def load_plan(meta: Mapping[str, object]) -> list[Slot]:
    """The plan kept in a job's meta (empty when it has none)."""
    kept = meta.get(PLAN_KEY)
    if not isinstance(kept, list):
        return []
    slots = []
    for item in kept:
        if isinstance(item, dict) and item.get("platform") and item.get("publish_at"):
            slots.append(Slot(str(item["platform"]),
                              datetime.fromisoformat(str(item["publish_at"])).astimezone(UTC),
                              str(item.get("reason", ""))))
    return slots


def save_plan(repo: JobRepository, job_id: str, slots: Sequence[Slot]) -> None:
    repo.update_job(job_id, meta={PLAN_KEY: [
        {"platform": s.platform, "publish_at": s.publish_at.astimezone(UTC).isoformat(),
         "reason": s.reason} for s in slots]})


def propose(settings: Settings, repo: JobRepository, job_id: str, platforms: Sequence[str],
            now: datetime, *, start: datetime | None = None,
            learned: Mapping[str, Sequence[int]] | None = None) -> list[Slot]:
    """The plan the final review shows, kept with the job so that publishing uses exactly
    what was approved (and what /schedule changed meanwhile). Kept times stay; platforms
    without one are planned now; a kept plan is proposed again when a platform it names is
    no longer targeted or one of its times passed while the review waited."""
    job = repo.get_job(job_id)
    if job is not None and job.meta.get(PLAN_KEY) == []:  # dropped with /unschedule
        return [Slot(p, now, "once approved (its times were cancelled)")
                for p in dict.fromkeys(platforms)]
    kept = load_plan(job.meta if job is not None else {})
    if not ({s.platform for s in kept} <= set(platforms)
            and all(s.publish_at > now for s in kept)):
        kept = []
    have = {s.platform for s in kept}
    if kept and have == set(platforms):
        return kept
    fresh = [s for s in plan(settings, platforms, now, start=start, learned=learned)
             if s.platform not in have]
    slots = sorted([*kept, *fresh], key=lambda s: (s.publish_at, s.platform))
    timed = [s for s in slots if s.publish_at > now]
    if job is not None and (timed or job.meta.get(PLAN_KEY)):
        save_plan(repo, job_id, timed)
    return slots


def review_schedule(settings: Settings, repo: JobRepository, db: Database, job_id: str,
                    brief: Brief, now: datetime) -> tuple[list[dict[str, str]], str]:
    """What the final review shows about when the piece goes out: the plan (proposed and
    kept, see :func:`propose`; best hours learned from the owner's analytics when there
    are enough) as data and as Markdown ('' when all goes out once approved: nothing to
    show)."""
    from assistant.tools.publishing.analytics import learned_hours
    from storage.analytics import AnalyticsRepository

    platforms = brief.platforms or settings.publish_platforms
    learned = learned_hours(AnalyticsRepository(db).pieces(username=brief.user), settings)
    slots = propose(settings, repo, job_id, platforms, now, start=brief.publish_at,
                    learned=learned)
    data = [{"platform": s.platform, "publish_at": s.publish_at.isoformat(), "reason": s.reason}
            for s in slots]
    if all(s.publish_at <= now for s in slots):
        return data, ""
    text = (f"### Schedule ({settings.timezone})\n{render(slots, settings, now)}\n\n"
            f"Approving approves these times; change one later with /schedule {job_id} "
            f"PLATFORM 2026-12-02T18:00, or cancel with /unschedule {job_id}.")
    return data, text


def planned_times(repo: JobRepository, job_id: str) -> dict[str, datetime]:
    """platform -> the approved time, for the publish step; {} publishes all at once."""
    job = repo.get_job(job_id)
    return {s.platform: s.publish_at for s in load_plan(job.meta if job is not None else {})}


def replan_one(repo: JobRepository, job_id: str, platform: str, when: datetime) -> list[Slot]:
    """Move one platform of a plan that has not been published yet (the job is still in
    review): the final review and the publish step then use the new time."""
    job = repo.get_job(job_id)
    kept = [s for s in load_plan(job.meta if job is not None else {}) if s.platform != platform]
    slots = sorted([*kept, Slot(platform, when, "moved by you")],
                   key=lambda s: (s.publish_at, s.platform))
    save_plan(repo, job_id, slots)
    return slots


def parse_local_time(text: str, settings: Settings, now: datetime) -> datetime:
    """``2026-12-02T18:00`` (in the person's timezone; ``now`` also works) -> aware UTC,
    refused when it is in the past."""
    text = text.strip()
    if text.lower() == "now":
        return now
    if not _LOCAL_TIME.match(text):
        raise InputError(f"{text!r} is not a time: write it as 2026-12-02T18:00 "
                         f"({settings.timezone} time), or now")
    try:
        local = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise InputError(f"{text!r} is not a date and time that exists") from None
    at = local.replace(tzinfo=zone(settings)).astimezone(UTC)
    if at < now - timedelta(minutes=1):
        raise InputError(f"{text} ({settings.timezone}) is in the past: give a later time")
    return at


def label(platform: str) -> str:
    return {"tiktok": "TikTok", "youtube": "YouTube", "x": "X", "wordpress": "WordPress",
            "telegram": "Telegram", "discord": "Discord", "outbox": "the outbox"}.get(
        platform, platform)


def local_text(at: datetime, settings: Settings) -> str:
    """``Wed 2 Dec 18:00 Europe/Paris``: how a time is shown to the person."""
    local = at.astimezone(zone(settings))
    return f"{local:%a} {local.day} {local:%b %H:%M} {settings.timezone}"


def render(slots: Sequence[Slot], settings: Settings, now: datetime) -> str:
    """The plan as Markdown lines, for the final review and /schedule."""
    if not slots:
        return "Nothing to publish."
    lines = []
    for slot in slots:
        when = "once approved" if slot.publish_at <= now else local_text(slot.publish_at, settings)
        lines.append(f"- **{label(slot.platform)}**: {when} — {slot.reason}")
    return "\n".join(lines)


def _source(platform: str, learned: Mapping[str, Sequence[int]] | None) -> str:
    return " (from your analytics)" if learned and learned.get(platform) else ""


def _minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"
