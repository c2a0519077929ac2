"""Content: what was published, and each job's publications (the ``publications`` table)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from assistant.api import schemas, views
from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, NOT_FOUND
from assistant.api.keys import Principal

router = APIRouter(prefix="/content", tags=["content"], responses=COMMON_ERRORS)


@router.get("", response_model=schemas.ContentList, summary="Published content")
def published(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000),
              format: schemas.Format | None = None, who: Principal = Depends(principal),
              ctx: ApiContext = Depends(context)) -> schemas.ContentList:
    """Your published jobs, newest first, each with where it went."""
    jobs, more = views.list_jobs(ctx.svc.db, who, limit=limit, offset=offset,
                                 status="published", fmt=format)
    items = [schemas.ContentItem(job=views.summary(j), publications=[
        views.publication(p) for p in ctx.svc.repo.publications(j.id)]) for j in jobs]
    return schemas.ContentList(items=items, limit=limit, offset=offset,
                               next_offset=offset + limit if more else None)


@router.get("/{job_id}/publications", response_model=schemas.PublicationList,
            responses=NOT_FOUND, summary="A job's publications")
def publications(job_id: str, who: Principal = Depends(principal),
                 ctx: ApiContext = Depends(context)) -> schemas.PublicationList:
    job = views.visible_job(ctx.svc.db, ctx.svc.repo, who, job_id)
    return schemas.PublicationList(job_id=job.id, items=[
        views.publication(p) for p in ctx.svc.repo.publications(job.id)])
