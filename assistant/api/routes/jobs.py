"""Jobs: list, create, read, cancel, decide reviews, logs and artifacts.

Starting, deciding and cancelling go through the conversation service, as a chat message
does: the same validation, the same background thread and event delivery (so the job's
progress reaches the owner's chat apps and the live event stream), and the same rule on who
may act on a job.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from assistant.api import schemas, views
from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, ApiError
from assistant.api.keys import Principal
from assistant.app.commands import RequestParse
from assistant.app.events import ChannelUser, OutEvent
from assistant.app.runner import FINISHED
from assistant.content import Brief, Depth
from assistant.errors import InputError, JobStateError
from assistant.infra.ratelimit import RateLimited
from assistant.tools.publishing import PLATFORMS, unknown_platforms

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=COMMON_ERRORS)


def as_channel_user(who: Principal) -> ChannelUser:
    """The identity the conversation knows this user by: a web identity *is* the account
    (:mod:`assistant.app.identity`), so a key's user acts as exactly that user."""
    return ChannelUser("web", who.username, "api")


@dataclass(frozen=True)
class ApiRequest(RequestParse):
    """A request as the API takes it: the chat request's fields and the API's own."""

    depth: Depth | None = None
    language: str = "en"
    publish_to: tuple[str, ...] = ()

    def brief(self, user: str) -> Brief:
        if not self.topic:
            raise InputError("say what it should be about")
        platforms = list(dict.fromkeys(p.strip().lower() for p in self.publish_to))
        unknown = unknown_platforms(platforms)
        if unknown:
            raise InputError(f"publish_to: unknown platform {', '.join(map(repr, unknown))}; "
                             f"available: {', '.join(PLATFORMS)}")
        try:
            brief = Brief.create(self.topic, self.format or "blog", self.style or "casual",
                                 seconds=self.seconds, words=self.words, user=user,
                                 depth=self.depth, language=self.language)
        except ValidationError as exc:
            raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return brief.model_copy(update={"platforms": platforms}) if platforms else brief


# The conversation answers a refusal as one line; its rate limit's line starts with this.
_RATE_LIMITED = RateLimited(1).user_message.split(":", 1)[0]


def _refused(events: list[OutEvent]) -> None:
    """A decision or cancel the conversation refused: over the user's rate limit (429), or
    a race the checks before it lost (409)."""
    for event in events:
        if event.kind == "error":
            if event.text.startswith(_RATE_LIMITED):
                raise ApiError(429, "rate_limited", event.text)
            raise JobStateError(event.text)


def _action(ctx: ApiContext, job_id: str, events: list[OutEvent]) -> schemas.JobAction:
    _refused(events)
    job = ctx.svc.repo.get_job(job_id)
    status = job.status if job else "failed"
    text = " ".join(e.text for e in events if e.kind == "text") or "done"
    return schemas.JobAction(job_id=job_id, status=status,
                             message=text)


@router.get("", response_model=schemas.JobPage, summary="List jobs")
def list_jobs(
    limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000),
    status: schemas.JobStatus | None = None, format: schemas.Format | None = None,
    who: Principal = Depends(principal), ctx: ApiContext = Depends(context),
) -> schemas.JobPage:
    """The jobs you own or review for, newest first."""
    jobs, more = views.list_jobs(ctx.svc.db, who, limit=limit, offset=offset, status=status,
                                 fmt=format)
    return schemas.JobPage(items=[views.summary(j) for j in jobs], limit=limit, offset=offset,
                           next_offset=offset + limit if more else None)


@router.post("", response_model=schemas.JobDetail, status_code=201, summary="Start a job")
def create_job(body: schemas.JobCreate, request: Request, who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)) -> schemas.JobDetail:
    """Start a job in the background; poll it (or listen to /events) until ``review``."""
    wait = ctx.limiter.acquire(who.username)
    if wait > 0:
        raise RateLimited(wait)
    parsed = ApiRequest(topic=body.topic, format=body.format, style=body.style,
                        seconds=body.seconds, words=body.words, depth=body.depth,
                        language=body.lang, publish_to=tuple(body.publish_to or ()))
    user = as_channel_user(who)
    # The conversation's own start (what `/new` runs): it creates the job, watches it for
    # this user and runs it on a background thread behind the process's job slots. There is
    # no public start-from-a-brief on Conversation yet; this is the one private call here.
    events = ctx.conv._start(user, parsed)
    _refused(events)
    job_id = next((e.job_id for e in events if e.job_id), None)
    if job_id is None:
        raise JobStateError("the job did not start: try again")
    ctx.hub.job_created(who.username, job_id)
    return job_detail(job_id, request, who, ctx)


@router.get("/{job_id}", response_model=schemas.JobDetail, responses=NOT_FOUND,
            summary="Read a job")
def job_detail(job_id: str, request: Request, who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)) -> schemas.JobDetail:
    """The job with its steps, artifacts and publications; in ``review``, the stage that
    waits and what it offers."""
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    pending = ctx.runner.pending_review(job.id) if job.status == "review" else None
    base = str(request.base_url)
    return schemas.JobDetail(
        **views.summary(job).model_dump(), brief=job.input_data,
        steps=[views.step(s) for s in ctx.svc.repo.list_steps(job.id)],
        artifacts=[views.artifact(ctx.settings, base, a, who.username)
                   for a in ctx.svc.objects.list(job.id, latest_only=True)],
        review=views.review(pending),
        publications=[views.publication(p) for p in ctx.svc.repo.publications(job.id)])


@router.post("/{job_id}/cancel", response_model=schemas.JobAction,
             responses={**NOT_FOUND, **CONFLICT}, summary="Cancel a job")
def cancel_job(job_id: str, who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)) -> schemas.JobAction:
    """Stop a job; a running one stops after the step it is on."""
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    if job.status in FINISHED:
        raise JobStateError(f"{job.id} is already {job.status}")
    result = _action(ctx, job.id, ctx.conv.cancel(as_channel_user(who), job.id))
    ctx.hub.job_settled(who.username, job.id)
    return result


@router.delete("/{job_id}", response_model=schemas.JobAction,
               responses={**NOT_FOUND, **CONFLICT}, summary="Cancel a job (DELETE)")
def delete_job(job_id: str, who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)) -> schemas.JobAction:
    """The same as ``POST /jobs/{id}/cancel`` (PRD §6.1: DELETE cancels)."""
    return cancel_job(job_id, who, ctx)


def _decide(ctx: ApiContext, who: Principal, job_id: str, action: str,
            notes: str = "") -> schemas.JobAction:
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    if job.status != "review":
        raise JobStateError(f"{job.id} is not waiting for a review (it is {job.status})")
    return _action(ctx, job.id, ctx.conv.decide(as_channel_user(who), job.id, action, notes))


@router.post("/{job_id}/approve", response_model=schemas.JobAction,
             responses={**NOT_FOUND, **CONFLICT}, summary="Approve the waiting review")
def approve(job_id: str, who: Principal = Depends(principal),
            ctx: ApiContext = Depends(context)) -> schemas.JobAction:
    return _decide(ctx, who, job_id, "approve")


@router.post("/{job_id}/revise", response_model=schemas.JobAction,
             responses={**NOT_FOUND, **CONFLICT}, summary="Ask for changes")
def revise(job_id: str, body: schemas.ReviseRequest, who: Principal = Depends(principal),
           ctx: ApiContext = Depends(context)) -> schemas.JobAction:
    if not body.notes.strip():
        raise InputError("notes: say what should change")
    return _decide(ctx, who, job_id, "revise", body.notes)


@router.post("/{job_id}/reject", response_model=schemas.JobAction,
             responses={**NOT_FOUND, **CONFLICT}, summary="Reject; nothing is published")
def reject(job_id: str, who: Principal = Depends(principal),
           ctx: ApiContext = Depends(context)) -> schemas.JobAction:
    return _decide(ctx, who, job_id, "reject")


@router.get("/{job_id}/logs", response_model=schemas.JobLogs, responses=NOT_FOUND,
            summary="The job's log lines")
def logs(job_id: str, limit: int = Query(200, ge=1, le=1000),
         who: Principal = Depends(principal), ctx: ApiContext = Depends(context)
         ) -> schemas.JobLogs:
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    items = [schemas.LogEntry(agent=r["agent"], level=r["level"], message=r["message"],
                              created_at=r["created_at"])
             for r in ctx.svc.repo.logs(job.id, limit=limit)]
    return schemas.JobLogs(job_id=job.id, items=items)


@router.get("/{job_id}/artifacts", response_model=schemas.ArtifactList, responses=NOT_FOUND,
            summary="The job's files, with signed download links")
def artifacts(job_id: str, request: Request, all_versions: bool = False,
              who: Principal = Depends(principal), ctx: ApiContext = Depends(context)
              ) -> schemas.ArtifactList:
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    base = str(request.base_url)
    items = [views.artifact(ctx.settings, base, a, who.username)
             for a in ctx.svc.objects.list(job.id, latest_only=not all_versions)]
    return schemas.ArtifactList(job_id=job.id, items=items)
