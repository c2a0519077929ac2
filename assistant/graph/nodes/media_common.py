"""Shared helpers for the media steps: presets per format, work dirs, media state, tasks.

The heavy work (images, TTS, ASR, render) runs as media tasks on the workers
(:mod:`assistant.tools.rendering.tasks`); a step builds the task's arguments, waits for it with
progress, and stores what it made as the job's artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.content import Format, MediaAssets
from assistant.errors import StepError
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.rendering.tasks import TaskSpec, progress_span, run_task
from media.errors import BackendUnavailable, MediaError, ToolMissing
from media.presets import Preset, load_preset


def preset_name_for(fmt: Format, svc: Services) -> str:
    names = {"short": svc.settings.short_preset, "video": svc.settings.video_preset,
             "podcast": svc.settings.podcast_preset}
    return names[fmt]


def preset_for(fmt: Format, svc: Services) -> Preset:
    return load_preset(preset_name_for(fmt, svc))


def run_media_task(
    state: PipelineState, svc: Services, step: str, spec: TaskSpec,
    span: tuple[float, float] = (0.0, 100.0),
) -> dict[str, Any]:
    """Run ``spec`` on the workers for this job's step, its progress shown within ``span``."""
    return run_task(svc.settings, state["job_id"], step, spec, progress_span(emit, step, *span))


def work_dir(state: PipelineState, svc: Services, step: str) -> Path:
    version = state["script"].version
    path = svc.settings.work_dir / state["job_id"] / f"v{version}" / step
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_media(state: PipelineState) -> MediaAssets:
    """The media made for the current script version (a revision starts afresh)."""
    media = state.get("media")
    version = state["script"].version
    if media is None or media.version != version:
        return MediaAssets(version=version)
    return media


def media_failure(step: str, exc: Exception) -> StepError:
    """A media library error as a step failure the user can act on."""
    if isinstance(exc, ToolMissing | BackendUnavailable | MediaError):
        message = getattr(exc, "user_message", str(exc))
        return StepError(step, f"{message}; fix it and resume the job", detail=str(exc))
    return StepError(step, f"{type(exc).__name__}: {exc}")
