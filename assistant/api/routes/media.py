"""The signed download links artifact listings hand out (``/media/...``), for ``assistant
api`` alone; inside ``assistant chat`` the web app's own route serves the same links.

The same rules as the web app's: the link must be ours, unexpired, for one of the job's
files, and its viewer must still be allowed to see the job.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from assistant.api.context import ApiContext, context
from assistant.api.errors import ApiError, ErrorBody
from assistant.app.identity import may_review
from assistant.infra import media_links
from storage.objects import guess_mime

router = APIRouter(tags=["downloads"])


@router.get(media_links.ROUTE, response_class=FileResponse, summary="Download an artifact",
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "The file"},
                       404: {"model": ErrorBody, "description": "Unknown or expired link"}})
def download(tag: str, job_id: str, viewer: str, token: str, filename: str,
             ctx: ApiContext = Depends(context)) -> FileResponse:
    link = media_links.read_media_link(ctx.settings, tag, job_id, viewer, token, filename)
    job = ctx.svc.repo.get_job(job_id) if link is not None else None
    if link is None or job is None or job_id not in link.path.parts:
        raise ApiError(404, "not_found", "that link is unknown or expired")
    if link.viewer and not may_review(ctx.svc.db, ctx.svc.repo.ensure_user(link.viewer),
                                      job_id, job.user_id):
        raise ApiError(404, "not_found", "that link is unknown or expired")
    headers: dict[str, Any] = {"Cache-Control": "private, max-age=3600"}
    return FileResponse(link.path, media_type=guess_mime(str(link.path)), headers=headers)
