"""visuals: one picture per scene and a thumbnail, for the format's frame size.

The pictures are made by the ``images`` media task on a worker (``gpu`` for diffusers,
``cpu`` for the Pillow designer); this step stores them as the job's artifacts.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from assistant.content import SceneMedia
from assistant.graph.nodes.media_common import (
    current_media,
    preset_for,
    run_media_task,
)
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.rendering.tasks import TaskSpec

STEP = "visuals"
CAPTION_SPACE = 0.12  # fraction of the frame above the safe zone's bottom kept for captions


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    settings = svc.settings
    preset = preset_for(brief.format, svc)
    designer = settings.image_generator == "designer"
    # The designer sets the scene's headline as typography; a diffusion model paints the
    # scene's visual prompt.
    prompts = [(s.heading or script.title) if designer else s.visual_prompt
               for s in script.sections]
    args = {
        "generator": settings.image_generator,
        "model": settings.image_model,
        "preset": preset.name,
        "caption_space": CAPTION_SPACE,
        "prompts": prompts,
        "seed": zlib.crc32(job.encode()),
        "title": script.title,
        "brand_font": str(settings.brand_font) if settings.brand_font else None,
        "brand_logo": str(settings.brand_logo) if settings.brand_logo else None,
    }
    result = run_media_task(state, svc, STEP,
                            TaskSpec("images", args, engine=settings.image_generator),
                            span=(0, 95))
    out = Path(result["dir"])
    scenes = []
    for i, name in enumerate(result["scenes"], 1):
        record = svc.objects.put(job, f"scene_{i:02d}.png", out / name, step=STEP,
                                 type="image", mime="image/png", version=script.version)
        scenes.append(SceneMedia(image=str(record.path)))
    thumb = svc.objects.put(job, "thumbnail.png", out / result["thumbnail"], step=STEP,
                            type="image", mime="image/png", version=script.version)
    width, height = result["thumbnail_size"]
    emit(STEP, f"{len(scenes)} scenes and a {width}x{height} thumbnail", 100)
    media = current_media(state).model_copy(
        update={"scenes": scenes, "thumbnail": str(thumb.path), "preset": preset.name})
    return {"media": media}
