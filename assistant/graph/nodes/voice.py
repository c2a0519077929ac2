"""voice: speak each scene, time it, transcribe the result and make captions from it.

Captions come from the real voiceover (faster-whisper word timings), not from the
script, so they stay in sync with what is heard; the same transcript gives QA the
voiceover's word error rate against the script. Speaking (``tts``) and transcribing
(``asr``) are media tasks on the workers; the captions are quick and made here.
"""

from __future__ import annotations

from pathlib import Path

from assistant.content import SceneMedia
from assistant.graph.nodes.media_common import (
    current_media,
    media_failure,
    preset_for,
    run_media_task,
    work_dir,
)
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.rendering.tasks import TaskSpec
from media.asr import word_error_rate
from media.captions import build_captions, write_ass, write_srt
from media.errors import MediaError
from media.worker import load_transcript

STEP = "voice"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    settings = svc.settings
    preset = preset_for(brief.format, svc)
    texts = script.spoken_scenes()
    spoken = run_media_task(state, svc, STEP, TaskSpec(
        "tts", {"engine": settings.tts_engine, "voice": settings.tts_voice,
                "rate": settings.tts_rate, "texts": texts},
        engine=settings.tts_engine), span=(0, 45))
    voiceover = Path(spoken["dir"]) / spoken["voiceover"]
    emit(STEP, f"voiceover {spoken['duration_s']:.1f} s; transcribing", 50)
    heard = run_media_task(state, svc, STEP, TaskSpec(
        "asr", {"model": settings.asr_model, "audio": str(voiceover)}, inputs=[voiceover],
        engine=settings.asr_model), span=(50, 90))
    transcript = load_transcript(Path(heard["dir"]) / heard["transcript"])
    wer = word_error_rate(" ".join(texts), transcript.text)
    version = script.version
    vo = svc.objects.put(job, "voiceover.wav", voiceover, step=STEP, type="audio",
                         mime="audio/wav", version=version)
    svc.objects.put(job, "transcript.txt", transcript.text, step=STEP, type="transcript",
                    mime="text/plain", version=version)
    update: dict[str, object] = {
        "voiceover": str(vo.path), "voiceover_seconds": round(spoken["duration_s"], 2),
        "transcript": transcript.text, "wer": round(wer, 3),
    }
    media = current_media(state)
    if preset.kind == "video":
        out = work_dir(state, svc, STEP)
        try:
            cues = build_captions(transcript.words)
            srt = write_srt(cues, out / "captions.srt")
            width, height = preset.size
            ass = write_ass(cues, out / "captions.ass", style=settings.caption_style,
                            width=width, height=height, safe_zone=preset.safe_zone)
        except MediaError as exc:
            raise media_failure(STEP, exc) from exc
        update["captions_srt"] = str(svc.objects.put(
            job, "captions.srt", srt, step=STEP, type="captions", mime="application/x-subrip",
            version=version).path)
        update["captions_ass"] = str(svc.objects.put(
            job, "captions.ass", ass, step=STEP, type="captions", mime="text/x-ssa",
            version=version).path)
        update["scenes"] = [
            SceneMedia(image=scene.image, start_s=span["start_s"], end_s=span["end_s"])
            for scene, span in zip(media.scenes, spoken["scenes"], strict=True)
        ]
    emit(STEP, f"{len(transcript.words)} words timed; voiceover WER {wer:.1%}", 100)
    return {"media": media.model_copy(update=update)}
