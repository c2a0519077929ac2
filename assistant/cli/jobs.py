"""`assistant jobs` and `assistant show`: what jobs there are, and one job in detail.

`show` names each artifact by what a person knows it by (its name, type, size, sha256) and,
where the web app serves files (``ASSISTANT_PUBLIC_BASE_URL``), a signed link that expires;
never the server path under the data dir (a program that needs the bytes asks the object
store: ``ObjectStore.read(job_id, name)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from assistant.app.studio import Services
from assistant.cli.common import console, services
from assistant.infra.media_links import public_media_url


def jobs(limit: int = typer.Option(20, help="How many, newest first.")) -> None:
    """List jobs."""
    with services() as svc:
        rows = svc.repo.list_jobs(limit=limit)
        table = Table("job", "status", "format", "topic", "created")
        for job in rows:
            table.add_row(job.id, job.status, job.content_type, job.title[:60],
                          job.created_at.strftime("%Y-%m-%d %H:%M"))
        console.print(table if rows else "no jobs yet: try `assistant make \"how tides work\"`")


def show(
    job_id: str,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """A job's status, steps with durations, and artifacts."""
    with services() as svc:
        report = job_report(svc, job_id)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console.print(f"[bold]{report['id']}[/] {report['status']} — {report['format']}: "
                  f"{report['topic']}")
    if report["error"]:
        console.print(f"[red]error:[/] {report['error']}")
    steps = Table("step", "status", "seconds", "retries", title="Steps")
    for s in report["steps"]:
        steps.add_row(s["name"], s["status"], f"{s['duration_s'] or 0:.2f}", str(s["retries"]))
    console.print(steps)
    files = Table("artifact", "v", "type", "bytes", "link", title="Artifacts")
    for a in report["artifacts"]:
        files.add_row(a["name"], str(a["version"]), a["type"], str(a["size"]), a["link"] or "-")
    console.print(files)
    for p in report["publications"]:
        said = {"published": "published to", "scheduled": "scheduled on",
                "pending": "publishing to", "failed": "not published to"}.get(p["status"], "on")
        when = f" at {p['publish_at']:%Y-%m-%d %H:%M} UTC" if p["status"] == "scheduled" \
            and p["publish_at"] else ""
        console.print(f"{said} {p['platform']}{when}: {p['error'] or p['url'] or p['location']}"
                      + (f" (id {p['id']})" if p["id"] else ""), soft_wrap=True)


def job_report(svc: Services, job_id: str) -> dict[str, Any]:
    from assistant.errors import JobNotFound

    job = svc.repo.get_job(job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id!r}: `assistant jobs` lists them")
    return {
        "id": job.id,
        "status": job.status,
        "format": job.content_type,
        "topic": job.title,
        "error": job.error_message,
        "created_at": job.created_at,
        "completed_at": job.completed_at,
        "steps": [
            {"name": s.name, "status": s.status, "retries": s.retry_count,
             "duration_s": None if s.duration_ms is None else s.duration_ms / 1000,
             "started_at": s.started_at, "error": s.error_message}
            for s in svc.repo.list_steps(job_id)
        ],
        "artifacts": [
            {"name": a.name, "version": a.version, "type": a.type, "step": a.step,
             "size": a.size, "sha256": a.sha256, "mime": a.mime,
             "link": public_media_url(svc.settings, job_id, a.path)}
            for a in svc.objects.list(job_id)
        ],
        "publications": [
            {"platform": p.platform, "status": p.status, "id": p.platform_post_id,
             "url": str(p.meta.get("url") or p.post_url or ""),
             "location": _data_relative(svc.settings.resolved_data_dir, p.post_url),
             "published_at": p.published_at if p.status == "published" else None,
             "publish_at": p.publish_at, "error": p.error}
            for p in svc.repo.publications(job_id)
        ],
    }


def _data_relative(root: Path, location: str | None) -> str | None:
    """A local publication's place (the outbox's file) relative to the data dir, so the
    report never shows where the server keeps its files; URLs as they are."""
    if not location or "://" in location:
        return location
    path = Path(location)
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
