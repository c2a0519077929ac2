"""visuals: one picture per scene and a thumbnail, for the format's frame size."""

from __future__ import annotations

import zlib

from assistant.graph.nodes.media_common import (
    current_media,
    media_failure,
    preset_for,
    work_dir,
)
from assistant.graph.progress import emit
from assistant.graph.state import PipelineState, SceneMedia
from assistant.services import Services
from media.errors import MediaError
from media.images import get_image_generator
from media.images.designer import render_thumbnail

STEP = "visuals"
CAPTION_SPACE = 0.12  # fraction of the frame above the safe zone's bottom kept for captions


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    preset = preset_for(brief.format, svc)
    width, height = preset.size
    out = work_dir(state, svc, STEP)
    seed = zlib.crc32(job.encode())
    designer = svc.settings.image_generator == "designer"
    options: dict[str, object] = {}
    if designer:
        # Keep the card's headline clear of the safe zone and of the burned-in captions.
        options = {"safe_zone": preset.safe_zone, "caption_space": CAPTION_SPACE}
    elif svc.settings.image_model:
        options = {"model": svc.settings.image_model}
    try:
        generator = get_image_generator(svc.settings.image_generator, **options)
        scenes = []
        for i, section in enumerate(script.sections, 1):
            # The designer sets the scene's headline as typography; a diffusion model
            # paints the scene's visual prompt.
            prompt = (section.heading or script.title) if designer else section.visual_prompt
            path = generator.generate(prompt, out / f"scene_{i:02d}.png", width=width,
                                      height=height, seed=seed + i)
            record = svc.objects.put(job, f"scene_{i:02d}.png", path, step=STEP, type="image",
                                     mime="image/png", version=script.version)
            scenes.append(SceneMedia(image=str(record.path)))
            emit(STEP, f"scene {i}/{len(script.sections)}: {prompt[:60]}",
                 90 * i / len(script.sections))
        thumb_size = (1080, 1920) if preset.is_vertical else (1280, 720)
        thumb = render_thumbnail(script.title, out / "thumbnail.png", size=thumb_size, seed=seed)
    except MediaError as exc:
        raise media_failure(STEP, exc) from exc
    thumb_record = svc.objects.put(job, "thumbnail.png", thumb, step=STEP, type="image",
                                   mime="image/png", version=script.version)
    emit(STEP, f"{len(scenes)} scenes and a {thumb_size[0]}x{thumb_size[1]} thumbnail", 100)
    media = current_media(state).model_copy(
        update={"scenes": scenes, "thumbnail": str(thumb_record.path), "preset": preset.name})
    return {"media": media}
