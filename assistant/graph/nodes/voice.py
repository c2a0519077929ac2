"""voice: speak each scene, time it, transcribe the result and make captions from it.

Captions come from the real voiceover (faster-whisper word timings), not from the
script, so they stay in sync with what is heard; the same transcript gives QA the
voiceover's word error rate against the script.
"""

from __future__ import annotations

from assistant.graph.nodes.media_common import current_media, media_failure, preset_for, work_dir
from assistant.graph.progress import emit
from assistant.graph.state import PipelineState, SceneMedia
from assistant.services import Services
from media.asr import get_transcriber, word_error_rate
from media.captions import build_captions, write_ass, write_srt
from media.errors import MediaError
from media.tts import concat_scenes, get_tts, synthesize_scenes

STEP = "voice"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, script, job = state["brief"], state["script"], state["job_id"]
    settings = svc.settings
    preset = preset_for(brief.format, svc)
    out = work_dir(state, svc, STEP)
    texts = script.spoken_scenes()
    try:
        engine = get_tts(settings.tts_engine)
        emit(STEP, f"speaking {len(texts)} scenes with {settings.tts_engine}", 5)
        clips = synthesize_scenes(engine, texts, out, voice=settings.tts_voice,
                                  rate=settings.tts_rate)
        voiceover = concat_scenes(clips, out / "voiceover.wav")
        emit(STEP, f"voiceover {voiceover.clip.duration_s:.1f} s; transcribing", 50)
        options = {"model": settings.asr_model} if settings.asr_model else {}
        transcript = get_transcriber("faster_whisper", **options).transcribe(voiceover.clip.path)
    except MediaError as exc:
        raise media_failure(STEP, exc) from exc
    wer = word_error_rate(" ".join(texts), transcript.text)
    version = script.version
    vo = svc.objects.put(job, "voiceover.wav", voiceover.clip.path, step=STEP, type="audio",
                         mime="audio/wav", version=version)
    svc.objects.put(job, "transcript.txt", transcript.text, step=STEP, type="transcript",
                    mime="text/plain", version=version)
    update: dict[str, object] = {
        "voiceover": str(vo.path), "voiceover_seconds": round(voiceover.clip.duration_s, 2),
        "transcript": transcript.text, "wer": round(wer, 3),
    }
    media = current_media(state)
    if preset.kind == "video":
        cues = build_captions(transcript.words)
        srt = write_srt(cues, out / "captions.srt")
        width, height = preset.size
        ass = write_ass(cues, out / "captions.ass", style=settings.caption_style, width=width,
                        height=height, safe_zone=preset.safe_zone)
        update["captions_srt"] = str(svc.objects.put(
            job, "captions.srt", srt, step=STEP, type="captions", mime="application/x-subrip",
            version=version).path)
        update["captions_ass"] = str(svc.objects.put(
            job, "captions.ass", ass, step=STEP, type="captions", mime="text/x-ssa",
            version=version).path)
        update["scenes"] = [
            SceneMedia(image=scene.image, start_s=span.start_s, end_s=span.end_s)
            for scene, span in zip(media.scenes, voiceover.scenes, strict=True)
        ]
    emit(STEP, f"{len(transcript.words)} words timed; voiceover WER {wer:.1%}", 100)
    return {"media": media.model_copy(update=update)}
