"""The knowledge base: list what you may read, add a file (multipart), delete your own.

A file added here belongs to its user (their scope, :mod:`assistant.tools.knowledge.scopes`):
it grounds their jobs only. The shared documents (the operator's, `assistant kb add`) are
listed but cannot be deleted through the API.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, UploadFile

from assistant.api import schemas
from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, ApiError, ErrorBody
from assistant.api.keys import Principal
from assistant.errors import InputError
from assistant.tools.knowledge.scopes import SHARED, user_scope, visible_scopes
from assistant.tools.knowledge.uploads import ScopedUploads

router = APIRouter(prefix="/kb", tags=["knowledge base"], responses=COMMON_ERRORS)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what the web chat accepts too
_CHUNK = 1024 * 1024


def _scope_kind(scope: str, own: str) -> str:
    return "shared" if scope == SHARED else "personal" if scope == own else "workspace"


@router.get("", response_model=schemas.KbList, summary="List the knowledge base")
def list_sources(who: Principal = Depends(principal),
                 ctx: ApiContext = Depends(context)) -> schemas.KbList:
    """The documents your jobs may cite: shared, yours and your workspaces'."""
    kb = ctx.svc.kb()
    scopes = visible_scopes(ctx.svc.db, who.profile_id)
    own = user_scope(who.profile_id)
    names = kb.names(scopes)
    items = []
    for source in kb.sources(scopes):
        entry = kb.entry(source.id) or {}
        items.append(schemas.KbSource(
            id=source.id, title=source.title, name=names.get(source.id, ""),
            scope=_scope_kind(str(entry.get("scope") or SHARED), own),
            chunks=int(entry.get("chunks") or 0), added_at=entry.get("added_at")))
    return schemas.KbList(items=items)


@router.post("", response_model=schemas.KbAdded, status_code=201,
             responses={413: {"model": ErrorBody, "description": "The file is too big, or your "
                                                                  "knowledge base is full"},
                        429: {"model": ErrorBody, "description": "Too many uploads this hour"}},
             summary="Add a file")
def add_source(file: UploadFile = File(description="A .md, .txt, .html, .pdf or .docx file."),
               who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)) -> schemas.KbAdded:
    """Add one document to your own knowledge base (re-adding the same file changes
    nothing; a new file under a name you already used replaces it)."""
    name = Path(file.filename or "").name
    if not name:
        raise InputError("the upload has no file name: send it as a multipart file field")
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as tmp:
        path = Path(tmp) / "upload"
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ApiError(413, "too_large", f"{name[:100]} is over "
                                   f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
                out.write(chunk)
        # the same per-person limits as a chat upload (size per file, held, per hour)
        uploads = ScopedUploads(ctx.svc.kb(), ctx.svc.db, ctx.svc.settings)
        scope = user_scope(who.profile_id)
        refused = uploads.check(path, scope, "your knowledge base", name)
        if refused is not None:
            limit, why = refused
            if limit == "uploads_per_hour":
                raise ApiError(429, "rate_limited", why)
            raise ApiError(413, "too_large", why)
        result = uploads.add_file(path, scope, "your knowledge base", name=name)
    if result.status == "error":
        raise InputError(f"{name[:100]}: {result.message}")
    return schemas.KbAdded(id=result.source_id, title=result.title, name=name,
                           chunks=result.chunks, status=result.status, message=result.message)


@router.delete("/{source_id}", response_model=schemas.Deleted,
               responses={404: {"model": ErrorBody, "description": "No such document"},
                          403: {"model": ErrorBody, "description": "A shared document"}},
               summary="Delete a document")
def delete_source(source_id: str, who: Principal = Depends(principal),
                  ctx: ApiContext = Depends(context)) -> schemas.Deleted:
    """Delete one of your documents, or one of your workspaces'."""
    kb = ctx.svc.kb()
    entry = kb.entry(source_id) if len(source_id) <= 64 else None
    scopes = visible_scopes(ctx.svc.db, who.profile_id)
    scope = str((entry or {}).get("scope") or SHARED)
    if entry is None or scope not in scopes:
        raise ApiError(404, "not_found", f"no document {source_id[:64]}: GET /kb lists them")
    if scope == SHARED:
        raise ApiError(403, "forbidden", "a shared document is the operator's: "
                                         "`assistant kb remove` removes it")
    return schemas.Deleted(id=source_id, deleted=kb.remove(source_id))
