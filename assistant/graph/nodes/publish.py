"""publish: hand the approved piece to the configured publisher, exactly once."""

from __future__ import annotations

from pathlib import Path

from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.quality.text import BrandRules
from assistant.tools.writing.templates import render_markdown

STEP = "publish"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script = state["brief"], state["script"]
    rules = BrandRules.load(svc.settings.resolved_brand_rules)
    markdown = render_markdown(script, brief, rules.required_disclosure)
    final = svc.objects.put(state["job_id"], "final.md", markdown, step=STEP, type="final",
                            mime="text/markdown", version=script.version, is_final=True)
    publisher = svc.publisher()
    emit(STEP, f"publishing to {publisher.name}", 20)
    files = [final.path]
    media = state.get("media")
    if media is not None and media.output:
        files = [Path(media.output), final.path]
        files += [Path(p) for p in (media.thumbnail, media.captions_srt) if p]
    qa_report = svc.objects.get(state["job_id"], "qa.json")
    if qa_report is not None:  # the checks it passed travel with it
        files.append(qa_report.path)
    publication = publisher.publish(state["job_id"], brief, script, files)
    emit(STEP, f"published: {publication.location}", 100)
    return {"publication": publication, "status": "published"}
