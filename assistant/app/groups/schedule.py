"""/schedule and /unschedule: see, move and cancel when a job goes out on each platform.

- ``/schedule JOB`` shows the plan: each platform's time (in ASSISTANT_TIMEZONE) and state;
- ``/schedule JOB PLATFORM 2026-12-02T18:00`` moves one (``now`` publishes it at the
  scheduler's next round);
- ``/unschedule JOB [PLATFORM]`` cancels all of the job's scheduled publications, or one.

Before the final approval the plan is the one the review shows (kept in the job's meta);
after it, the ``publications`` rows the scheduler publishes from. Only the job's owner or a
reviewer of its workspace may change it, as for every other decision about a job.
"""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.app.command_registry import CommandContext, register
from assistant.app.events import OutEvent, say
from assistant.app.identity import check_review
from assistant.errors import InputError, JobNotFound, JobStateError
from assistant.tools.publishing import PLATFORMS
from assistant.tools.publishing.schedule import (
    label,
    load_plan,
    local_text,
    parse_local_time,
    replan_one,
    save_plan,
)
from storage.errors import ConflictError, NotFoundError
from storage.records import JobRecord
from storage.schedule import ScheduleRepository

STATE_WORDS = {"scheduled": "scheduled", "pending": "publishing now", "published": "published",
               "failed": "failed", "cancelled": "cancelled"}


def _job(ctx: CommandContext, job_id: str) -> JobRecord:
    job = ctx.svc.repo.get_job(job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id}: /jobs lists yours")
    check_review(ctx.svc.db, ctx.svc.repo.ensure_user(ctx.username), job.id, job.user_id)
    return job


def show(ctx: CommandContext, job: JobRecord) -> str:
    settings = ctx.svc.settings
    rows = ctx.svc.repo.publications(job.id)
    lines = []
    if rows:
        for row in sorted(rows, key=lambda r: (r.publish_at or r.published_at, r.platform)):
            state = STATE_WORDS.get(row.status, row.status)
            if row.status == "published":
                when = f"published {local_text(row.published_at, settings)}"
            elif row.publish_at is not None:
                when = f"{state} for {local_text(row.publish_at, settings)}"
            else:
                when = state
            where = f" — {row.location}" if row.status == "published" and row.location else ""
            why = f" ({row.error})" if row.status == "failed" and row.error else ""
            lines.append(f"• {label(row.platform)}: {when}{where}{why}")
    else:
        slots = load_plan(job.meta)
        if not slots:
            return (f"{job.id} has no schedule: it is published on each platform once "
                    "approved. Set one with /schedule JOB PLATFORM 2026-12-02T18:00.")
        lines = [f"• {label(s.platform)}: {local_text(s.publish_at, settings)} — {s.reason}"
                 for s in slots]
        lines.append("(proposed: it applies once the final review is approved)")
    return f"Schedule of {job.id} (times in {settings.timezone}):\n" + "\n".join(lines)


@register("schedule", "/schedule JOB [PLATFORM TIME] — when JOB goes out on each platform; "
          "with a platform and a time (2026-12-02T18:00), move that one")
def schedule(ctx: CommandContext, args: str) -> list[OutEvent]:
    words = args.split()
    if not words:
        raise InputError("say which job: /schedule JOB, or /schedule JOB PLATFORM "
                         "2026-12-02T18:00")
    now = datetime.now(UTC)
    job = _job(ctx, words[0])
    if len(words) == 1:
        return [say(job.id, show(ctx, job))]
    if len(words) != 3:
        raise InputError("to move one: /schedule JOB PLATFORM 2026-12-02T18:00")
    platform = words[1].lower()
    if platform not in PLATFORMS:
        raise InputError(f"unknown platform {platform!r}: {', '.join(PLATFORMS)}")
    when = parse_local_time(words[2], ctx.svc.settings, now)
    try:
        if ctx.svc.repo.publication(job.id, platform) is not None:
            ScheduleRepository(ctx.svc.db).move(job.id, platform, when, now)
        elif job.status in ("published", "rejected", "cancelled", "failed"):
            raise JobStateError(f"{job.id} is {job.status} and has nothing on {label(platform)}")
        else:  # not approved yet: the plan the final review shows (and publishing uses)
            replan_one(ctx.svc.repo, job.id, platform, when)
    except NotFoundError as err:
        raise InputError(str(err)) from None
    except ConflictError as err:
        raise JobStateError(str(err)) from None
    moved = "now" if when <= now else local_text(when, ctx.svc.settings)
    return [say(job.id, f"{job.id} goes out on {label(platform)} {moved}.\n"
                        + show(ctx, ctx.svc.repo.get_job(job.id) or job))]


@register("unschedule", "/unschedule JOB [PLATFORM] — cancel JOB's scheduled publications "
          "(all, or one platform's)")
def unschedule(ctx: CommandContext, args: str) -> list[OutEvent]:
    words = args.split()
    if not words or len(words) > 2:
        raise InputError("say which job: /unschedule JOB, or /unschedule JOB PLATFORM")
    now = datetime.now(UTC)
    job = _job(ctx, words[0])
    platforms = [words[1].lower()] if len(words) == 2 else None
    if not ctx.svc.repo.publications(job.id) and load_plan(job.meta):
        kept = [s for s in load_plan(job.meta)
                if platforms is not None and s.platform not in platforms]
        save_plan(ctx.svc.repo, job.id, kept)
        return [say(job.id, f"{job.id}: the proposed times are dropped; once approved it "
                            "is published at once" + (" on the others' times" if kept else "")
                            + ".")]
    try:
        cancelled = ScheduleRepository(ctx.svc.db).cancel(job.id, platforms, now)
    except NotFoundError as err:
        raise InputError(str(err)) from None
    except ConflictError as err:
        raise JobStateError(str(err)) from None
    if not cancelled:
        return [say(job.id, f"{job.id} has nothing scheduled.")]
    names = ", ".join(label(p) for p in cancelled)
    return [say(job.id, f"Cancelled {job.id} on {names}: it will not be published there.")]
