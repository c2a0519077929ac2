"""Exactly once per (job, platform): the ``publications`` table decides whether a publisher
runs, keeps its upload session while it runs, and records what the platform answered.

Rows move ``pending`` (an upload under way; ``meta["session"]`` is what the publisher saved)
-> ``published`` | ``failed`` (``error_message``; running again resumes the saved session), or
start as ``scheduled`` (``publish_at``): the scheduler calls :func:`publish_once` for each row
that is due, which publishes it like any other and never twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from assistant.content import Publication
from assistant.errors import AssistantError
from assistant.tools.publishing.base import Publisher, PublishError, PublishRequest
from storage.jobs import JobRepository
from storage.records import PublicationRecord

log = logging.getLogger(__name__)


def publication_of(row: PublicationRecord) -> Publication:
    """The pipeline's Publication for a recorded row."""
    meta = dict(row.meta)
    status = row.status if row.status in ("published", "scheduled", "failed") else "failed"
    return Publication(
        platform=row.platform, location=row.location or "",
        url=str(meta.get("url") or row.location or ""),
        files=list(meta.get("files", [])), post_id=row.platform_post_id or "",
        status=status, publish_at=row.publish_at, error=row.error or "", meta=meta)


def check(publisher: Publisher, request: PublishRequest, repo: JobRepository) -> list[str]:
    """The publisher's problems with ``request``; recorded as the row's error when any."""
    problems = publisher.check(request)
    if problems:
        repo.save_publication(request.job_id, publisher.name, status="failed",
                              error="; ".join(problems))
    return problems


def schedule(publisher: Publisher, request: PublishRequest, repo: JobRepository) -> Publication:
    """Record that (job, platform) goes out at ``request.publish_at``; what already went out
    stays as it is. Limits are checked now, so a schedule never holds a piece that cannot go."""
    if request.publish_at is None:
        raise ValueError("schedule() needs request.publish_at")
    row = repo.publication(request.job_id, publisher.name)
    if row is not None and row.status == "published":
        return publication_of(row)
    problems = check(publisher, request, repo)
    if problems:
        raise PublishError(publisher.name, "; ".join(problems))
    saved = repo.save_publication(request.job_id, publisher.name, status="scheduled",
                                  publish_at=request.publish_at.astimezone(UTC))
    return publication_of(saved)


def publish_once(publisher: Publisher, request: PublishRequest, repo: JobRepository
                 ) -> Publication:
    """Publish ``request`` on ``publisher`` unless the table says it is already there.

    A retry or a restart after kill -9 gives the publisher the session it saved, so an upload
    continues and a created post is found rather than made again. Raises PublishError (the
    row says ``failed`` with the reason) when the platform refuses or cannot be reached.
    """
    job_id, name = request.job_id, publisher.name
    row = repo.publication(job_id, name)
    if row is not None and row.status == "published":
        return publication_of(row)
    request.resume = dict((row.meta if row is not None else {}).get("session", {}))
    problems = check(publisher, request, repo)
    if problems:
        raise PublishError(name, "; ".join(problems))

    def save_progress(progress: dict[str, Any]) -> None:
        repo.save_publication(job_id, name, status="pending", meta={"session": progress})

    request.save_progress = save_progress
    repo.save_publication(job_id, name, status="pending", publish_at=request.publish_at)
    try:
        published = publisher.publish(request)
    except AssistantError as err:
        repo.save_publication(job_id, name, status="failed", error=err.user_message)
        raise
    except Exception as err:  # a bug or an unexpected answer: one line, detail in the log
        log.exception("publishing %s to %s failed", job_id, name)
        message = f"{name}: publishing failed unexpectedly ({type(err).__name__})"
        repo.save_publication(job_id, name, status="failed", error=message)
        raise PublishError(name, f"publishing failed unexpectedly ({type(err).__name__})",
                           detail=repr(err)) from err
    meta = {**published.meta, "files": published.files, "title": request.script.title,
            "url": published.url, "published_at": datetime.now(UTC).isoformat()}
    # location: the post's URL; the outbox's is the folder's main file (a path)
    saved = repo.save_publication(
        job_id, name, status=published.status, location=published.location or published.url,
        post_id=published.post_id, meta=meta, publish_at=published.publish_at)
    return publication_of(saved)
