"""``/users/me``: your data as a zip (``GET /users/me/export``) and its deletion
(``DELETE /users/me`` with ``{"confirm": "<your username>"}``), PRD section 8.2."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, ErrorBody
from assistant.api.keys import Principal
from assistant.app.data_rights import Privacy
from assistant.errors import InputError

router = APIRouter(prefix="/users", tags=["users"], responses=COMMON_ERRORS)


class DeleteRequest(BaseModel):
    confirm: str = Field(max_length=200, description="Your username, typed back: the deletion "
                                                     "cannot be undone.")


class DeleteResult(BaseModel):
    deleted: bool = True
    jobs: int
    files: int
    knowledge_sources: int
    rows: dict[str, int] = Field(description="Rows deleted, per table.")


@router.get("/me/export", response_class=FileResponse, summary="Your data, as a zip",
            responses={200: {"content": {"application/zip": {}},
                             "description": "rows/<table>.json, artifacts/, knowledge/"}})
async def export_me(who: Principal = Depends(principal),
                    ctx: ApiContext = Depends(context)) -> FileResponse:
    path = await asyncio.to_thread(Privacy(ctx.svc).export, who.username)
    return FileResponse(path, media_type="application/zip", filename=path.name)


@router.delete("/me", response_model=DeleteResult, summary="Delete all your data",
               responses={409: {"model": ErrorBody,
                                "description": "A running job or a shared workspace"}})
async def delete_me(body: DeleteRequest, who: Principal = Depends(principal),
                    ctx: ApiContext = Depends(context)) -> DeleteResult:
    if body.confirm != who.username:
        raise InputError(f'to delete your data, send {{"confirm": "{who.username}"}}')
    done = await asyncio.to_thread(Privacy(ctx.svc).delete, who.username)
    return DeleteResult(jobs=done.jobs, files=done.files,
                        knowledge_sources=done.knowledge_sources, rows=done.rows)
