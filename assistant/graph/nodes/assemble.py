"""assemble: one ffmpeg pass renders the video (or the podcast episode) for the preset.

The render is the ``render`` media task on a ``cpu`` worker; it is idempotent by its inputs,
so a resumed step (or a restarted app) picks up a render that finished, or is still running,
instead of doing it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.graph.nodes.media_common import current_media, preset_for, run_media_task
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.rendering.tasks import TaskSpec

STEP = "assemble"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    preset = preset_for(brief.format, svc)
    media = current_media(state)
    args: dict[str, Any] = {"preset": preset.name, "voiceover": media.voiceover}
    inputs = [media.voiceover]
    if preset.kind == "video":
        args["scenes"] = [{"image": s.image, "duration_s": max(s.end_s - s.start_s, 0.5)}
                          for s in media.scenes]
        args["captions_ass"] = media.captions_ass or None
        inputs += [s.image for s in media.scenes]
        if media.captions_ass:
            inputs.append(media.captions_ass)
    result = run_media_task(state, svc, STEP, TaskSpec("render", args, inputs=inputs),
                            span=(0, 99))
    name = result["output"]
    mime = "video/mp4" if preset.kind == "video" else "audio/mpeg"
    record = svc.objects.put(job, name, Path(result["dir"]) / name, step=STEP,
                             type=preset.kind, mime=mime, version=script.version)
    emit(STEP, f"{name}: {record.size / 1e6:.1f} MB", 100)
    return {"media": media.model_copy(update={"output": str(record.path),
                                              "preset": preset.name})}
