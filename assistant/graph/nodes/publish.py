"""publish: hand the approved piece to every chosen platform, each exactly once.

The platforms are the brief's own (chat, `--to`), else ASSISTANT_PUBLISH_TO. Each goes through
the ledger (assistant/tools/publishing/ledger.py), so a resumed node skips what went out and
continues an interrupted upload. One platform failing does not stop the others: the step fails
after trying them all, naming each that failed, and running it again retries only those. A
brief with a future ``publish_at`` is recorded as ``scheduled`` (the scheduler publishes it
when due); a publisher that schedules on its own side (WordPress's 'future') is handed it now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from assistant.content import Publication
from assistant.errors import AssistantError, StepError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.publishing import publishers_for
from assistant.tools.publishing.accounts import AccountStore, owners_of_job
from assistant.tools.publishing.base import PublishRequest, Role, media_files
from assistant.tools.publishing.ledger import publish_once, schedule
from assistant.tools.publishing.schedule import planned_times
from assistant.tools.quality.text import BrandRules
from assistant.tools.writing.templates import render_markdown
from media.images.base import Brand
from media.images.designer import render_thumbnail
from media.presets import load_preset

STEP = "publish"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job_id = state["brief"], state["script"], state["job_id"]
    rules = BrandRules.load(svc.settings.resolved_brand_rules)
    markdown = render_markdown(script, brief, rules.required_disclosure)
    final = svc.objects.put(job_id, "final.md", markdown, step=STEP, type="final",
                            mime="text/markdown", version=script.version, is_final=True)
    media = state.get("media")
    files: dict[Role, Path] = {"markdown": final.path, **media_files(media)}
    duration: float | None = None
    frame: tuple[int, int] | None = None
    if media is not None and media.output:
        duration = media.voiceover_seconds or None
        frame = _frame(media.preset)
    if "thumbnail" not in files:  # a text piece: a title card is its featured image
        files["thumbnail"] = _featured_image(svc, job_id, script.title)
    qa_report = svc.objects.get(job_id, "qa.json")
    if qa_report is not None:  # the checks it passed travel with it
        files["qa"] = qa_report.path

    targets = publishers_for(svc.settings, _accounts(svc, job_id), brief.platforms or None)
    published: list[Publication] = []
    failures: list[str] = []
    planned = planned_times(svc.repo, job_id)  # the times approved at the final review
    for i, target in enumerate(targets):
        emit(STEP, f"publishing to {target.name}", 10 + 80 * i // len(targets))
        publish_at = planned.get(target.name, brief.publish_at)
        later = publish_at is not None and publish_at > datetime.now(UTC)
        request = PublishRequest(job_id=job_id, brief=brief, script=script, files=files,
                                 credentials=target.credentials, publish_at=publish_at,
                                 duration_s=duration, frame=frame)
        try:
            if later and not getattr(target.publisher, "schedules_itself", False):
                publication = schedule(target.publisher, request, svc.repo)
            else:
                publication = publish_once(target.publisher, request, svc.repo)
        except AssistantError as err:  # recorded as failed; the others still go out
            failures.append(err.user_message)
            emit(STEP, f"not published: {err.user_message}", 10 + 80 * (i + 1) // len(targets))
            continue
        published.append(publication)
        where = publication.url or publication.location
        said = f"scheduled for {publication.publish_at:%Y-%m-%d %H:%M} UTC" \
            if publication.status == "scheduled" and publication.publish_at else "published"
        # what the platform did that the person should know (YouTube kept it private, the
        # TikTok upload waits in their inbox)
        notice = f" ({publication.meta['notice']})" if publication.meta.get("notice") else ""
        emit(STEP, f"{said} on {target.name}: {where}{notice}",
             10 + 80 * (i + 1) // len(targets))
    if failures:
        done = f" ({', '.join(p.platform for p in published)} went out)" if published else ""
        raise StepError(STEP, "; ".join(failures) + done + ": resume the job to try again")
    emit(STEP, "published", 100)
    return {"publication": published[0], "publications": published, "status": "published"}


def _accounts(svc: Services, job_id: str) -> dict[str, dict[str, object]]:
    """The connected accounts' credentials for the job; none when no secret key is set (the
    settings' own credentials then apply, and an unconnected platform says so)."""
    if svc.settings.secret_key is None:
        return {}
    store = AccountStore.from_settings(svc.settings, svc.db)
    return dict(store.credentials_for(owners_of_job(svc.db, job_id)))


def _featured_image(svc: Services, job_id: str, title: str) -> Path:
    """The job's featured.png (made once: a resumed step finds it), 1200x630, the size link
    previews and blog themes crop from."""
    found = svc.objects.get(job_id, "featured.png")
    if found is not None:
        return found.path
    work = svc.settings.work_dir / job_id
    work.mkdir(parents=True, exist_ok=True)
    brand = Brand(font=svc.settings.brand_font, logo=svc.settings.brand_logo)
    image = render_thumbnail(title, work / "featured.png", size=(1200, 630), brand=brand)
    return svc.objects.put(job_id, "featured.png", image, step=STEP, type="image",
                           mime="image/png").path


def _frame(preset: str) -> tuple[int, int] | None:
    if not preset:
        return None
    try:
        loaded = load_preset(preset)
    except (KeyError, ValueError, OSError):  # an unknown preset name measures nothing
        return None
    return (loaded.width, loaded.height) if loaded.width and loaded.height else None
