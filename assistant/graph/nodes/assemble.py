"""assemble: one ffmpeg pass renders the video (or the podcast episode) for the preset."""

from __future__ import annotations

from pathlib import Path

from assistant.graph.nodes.media_common import current_media, media_failure, preset_for, work_dir
from assistant.graph.progress import emit
from assistant.graph.state import PipelineState
from assistant.services import Services
from media.audio import render_podcast
from media.errors import MediaError
from media.video import SceneInput, render_video

STEP = "assemble"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    preset = preset_for(brief.format, svc)
    media = current_media(state)
    out = work_dir(state, svc, STEP)

    def progress(fraction: float) -> None:
        emit(STEP, f"rendering {preset.name}", round(100 * fraction, 1))

    try:
        if preset.kind == "video":
            scenes = [SceneInput(image=Path(s.image), duration_s=max(s.end_s - s.start_s, 0.5))
                      for s in media.scenes]
            rendered = render_video(scenes, media.voiceover, out / "video.mp4", preset=preset,
                                    captions_ass=media.captions_ass or None, progress=progress)
            name, mime = "video.mp4", "video/mp4"
        else:
            rendered = render_podcast(media.voiceover, out / "episode.mp3", preset=preset,
                                      progress=progress)
            name, mime = "episode.mp3", "audio/mpeg"
    except MediaError as exc:
        raise media_failure(STEP, exc) from exc
    record = svc.objects.put(job, name, rendered, step=STEP, type=preset.kind, mime=mime,
                             version=script.version)
    emit(STEP, f"{name}: {record.size / 1e6:.1f} MB", 100)
    return {"media": media.model_copy(update={"output": str(record.path),
                                              "preset": preset.name})}
