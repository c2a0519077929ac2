"""The Celery app and the heavy media tasks: images, TTS, ASR and render.

Every task takes one JSON envelope of plain values (paths, texts, engine and preset names)::

    {"root": ".../work/tasks", "job": "job-1a2b", "step": "assemble", "key": "<input hash>",
     "args": {...}, "retries": 3, "backoff_s": 1.0}

and writes its outputs to the folder :class:`media.taskdir.TaskDir` derives from (job, step,
task, key), so a redelivered or re-sent task finds its finished output and neither redoes nor
duplicates it. The result (file names relative to that folder, plus measurements) is stored
as ``result.json`` there and returned through the result backend too.

Delivery: ``acks_late`` with ``reject_on_worker_lost``, so a task whose worker dies goes back
to the queue, and a prefetch of one, so a worker holds only what it runs. Failures: a
transient error (I/O, timeouts, lost connections) is retried with exponential backoff up to
``retries`` times; a media error (bad input, missing tool or model) fails at once. A final
failure is written to the task's ``state.json`` with a message a person can act on.

Queues: ``gpu`` for images / TTS / ASR on a GPU engine, ``cpu`` for the rest and for render
(:func:`queue_for`). This module never imports ``assistant``; configuration comes in as
arguments to :func:`create_app`.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from celery.concurrency.thread import TaskPool as ThreadTaskPool
from kombu import Queue

from media.errors import MediaError
from media.taskdir import TaskDir

if TYPE_CHECKING:
    from media.asr.base import Transcript

log = logging.getLogger(__name__)

QUEUES = ("gpu", "cpu")
MEDIA_TASKS = ("images", "tts", "asr", "render")
GPU_ENGINES = frozenset({"diffusers", "xtts", "kokoro"})
DEFAULT_RETRIES = 3
MAX_BACKOFF_S = 60.0
# Redis gives an unacknowledged task to another worker after this long (a worker that died
# without a word); a redelivery of a task that is still running finds its lock and returns.
REDIS_VISIBILITY_TIMEOUT_S = 3600

Progress = Callable[[float, str], None]
Body = Callable[[dict[str, Any], Path, Progress], dict[str, Any]]


def queue_for(task: str, engine: str | None = None) -> str:
    """The queue a task goes to: images / TTS on a GPU engine (diffusers, xtts, kokoro) and
    ASR on a configured model (``engine`` = the model, e.g. large-v3) go to ``gpu``; the CPU
    engines (designer, piper, espeak, the packaged whisper tiny) and render go to ``cpu``."""
    if task not in (*MEDIA_TASKS, "ping"):
        raise ValueError(f"unknown media task {task!r}: {', '.join(MEDIA_TASKS)}")
    if task == "asr":
        return "gpu" if engine else "cpu"
    if task in ("images", "tts") and engine and engine.lower() in GPU_ENGINES:
        return "gpu"
    return "cpu"


# --- the task bodies: (args, scratch folder, progress) -> result with relative file names ----


def make_images(args: dict[str, Any], out: Path, progress: Progress) -> dict[str, Any]:
    """One picture per prompt at the preset's frame size, and a thumbnail with the title."""
    from media.images import get_image_generator
    from media.images.base import Brand
    from media.images.designer import render_thumbnail
    from media.presets import load_preset

    preset = load_preset(args["preset"])
    width, height = preset.size
    name = args["generator"]
    brand = Brand(font=Path(f) if (f := args.get("brand_font")) else None,
                  logo=Path(logo) if (logo := args.get("brand_logo")) else None)
    options: dict[str, Any] = {}
    if name == "designer":
        # keep the card's headline clear of the safe zone and of the burned-in captions
        options = {"brand": brand, "safe_zone": preset.safe_zone,
                   "caption_space": float(args.get("caption_space", 0.0))}
    elif args.get("model"):
        options = {"model": args["model"]}
    generator = get_image_generator(name, **options)
    seed = int(args.get("seed", 0))
    prompts: list[str] = list(args["prompts"])
    scenes = []
    for i, prompt in enumerate(prompts, 1):
        path = generator.generate(prompt, out / f"scene_{i:02d}.png", width=width,
                                  height=height, seed=seed + i)
        scenes.append(Path(path).name)
        progress(0.9 * i / len(prompts), f"scene {i}/{len(prompts)}: {prompt[:60]}")
    size = (1080, 1920) if preset.is_vertical else (1280, 720)
    thumb = render_thumbnail(args["title"], out / "thumbnail.png", size=size, brand=brand,
                             seed=seed)
    return {"scenes": scenes, "thumbnail": Path(thumb).name, "thumbnail_size": list(size)}


def speak(args: dict[str, Any], out: Path, progress: Progress) -> dict[str, Any]:
    """Speak each scene and join them: voiceover.wav and where each scene sits in it."""
    from media.tts import concat_scenes, get_tts, synthesize_scenes

    texts: list[str] = list(args["texts"])
    engine = get_tts(args["engine"])
    progress(0.05, f"speaking {len(texts)} scenes with {args['engine']}")
    clips = synthesize_scenes(engine, texts, out, voice=args.get("voice"),
                              rate=float(args.get("rate", 1.0)))
    voiceover = concat_scenes(clips, out / "voiceover.wav")
    return {
        "voiceover": "voiceover.wav",
        "duration_s": voiceover.clip.duration_s,
        "scenes": [{"start_s": s.start_s, "end_s": s.end_s} for s in voiceover.scenes],
    }


def transcribe(args: dict[str, Any], out: Path, progress: Progress) -> dict[str, Any]:
    """The audio's words with timings (transcript.json) for captions and the WER check."""
    import json

    from media.asr import get_transcriber

    options = {"model": args["model"]} if args.get("model") else {}
    progress(0.05, "transcribing")
    transcript = get_transcriber("faster_whisper", **options).transcribe(args["audio"])
    (out / "transcript.json").write_text(json.dumps(asdict(transcript)), encoding="utf-8")
    return {"transcript": "transcript.json", "text": transcript.text,
            "words": len(transcript.words)}


def load_transcript(path: str | Path) -> Transcript:
    """The transcript ``transcribe`` wrote (transcript.json) as a ``Transcript``."""
    import json

    from media.asr.base import Segment, Transcript, Word

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    segments = [
        Segment(text=s["text"], start=s["start"], end=s["end"],
                words=[Word(**w) for w in s.get("words", [])])
        for s in data.get("segments", [])
    ]
    return Transcript(text=data["text"], language=data["language"],
                      duration_s=data["duration_s"], segments=segments)


def render(args: dict[str, Any], out: Path, progress: Progress) -> dict[str, Any]:
    """One ffmpeg pass: the video (stills, voiceover, captions) or the podcast episode."""
    from media.audio import render_podcast
    from media.presets import load_preset
    from media.video import SceneInput, render_video

    preset = load_preset(args["preset"])

    def report(fraction: float) -> None:
        progress(fraction, f"rendering {preset.name}")

    if preset.kind == "video":
        scenes = [SceneInput(image=Path(s["image"]), duration_s=float(s["duration_s"]))
                  for s in args["scenes"]]
        path = render_video(scenes, args["voiceover"], out / "video.mp4", preset=preset,
                            captions_ass=args.get("captions_ass") or None, progress=report)
    else:
        path = render_podcast(args["voiceover"], out / "episode.mp3", preset=preset,
                              progress=report)
    return {"output": Path(path).name, "kind": preset.kind, "size": Path(path).stat().st_size}


# Looked up at call time, by name.
BODIES: dict[str, Body] = {"images": make_images, "tts": speak, "asr": transcribe,
                           "render": render}


# --- failures ------------------------------------------------------------------------------


class TaskFailed(Exception):
    """A task's final failure, as one line a person can act on (JSON-serialisable)."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message, transient)
        self.message = message
        self.transient = transient

    def __str__(self) -> str:
        return self.message


class TransientError(Exception):
    """Raise to ask for a retry with backoff."""


_TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EINTR,
                     errno.ENOMEM, errno.ECONNRESET, errno.ECONNREFUSED, errno.EPIPE,
                     errno.ESTALE}
_DISK_FULL = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def classify(exc: BaseException) -> tuple[str, bool]:
    """(message for the user, whether a retry may help)."""
    if isinstance(exc, MediaError):
        return exc.user_message, False
    if isinstance(exc, TaskFailed):
        return exc.message, exc.transient
    if isinstance(exc, TransientError | ConnectionError | TimeoutError | MemoryError):
        return f"{type(exc).__name__}: {exc}", True
    if isinstance(exc, OSError):
        if exc.errno in _DISK_FULL:
            return f"the disk is full ({exc}); free space and resume the job", False
        return f"{type(exc).__name__}: {exc}", exc.errno in _TRANSIENT_ERRNOS
    return f"{type(exc).__name__}: {exc}", False


def backoff_s(retries: int, base: float) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base ... at most a minute."""
    return min(base * 2 ** retries, MAX_BACKOFF_S) * random.uniform(0.8, 1.2)


# --- one attempt, without Celery -------------------------------------------------------------


def execute(task: str, envelope: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """Run ``task`` for ``envelope`` once, idempotently; the result (with ``dir``).

    A finished task returns its stored result; a task another attempt is running returns
    ``{"status": "running-elsewhere"}`` at once (that attempt's result will appear).
    """
    tdir = TaskDir.of(envelope["root"], envelope["job"], envelope["step"], task,
                      envelope["key"])
    done = tdir.result()
    if done is not None:
        tdir.log_run("cached", **info)
        return {**done, "status": "done"}
    with tdir.attempt(info) as attempt:
        if attempt is None:
            tdir.log_run("running-elsewhere", **info)
            return {"status": "running-elsewhere"}
        done = tdir.result()  # finished while we waited for the lock
        if done is not None:
            tdir.log_run("cached", **info)
            return {**done, "status": "done"}
        tdir.log_run("started", **info)
        started = time.perf_counter()
        result = BODIES[task](dict(envelope["args"]), attempt.work, attempt.progress)
        result["seconds"] = round(time.perf_counter() - started, 3)
        tdir.log_run("finished", seconds=result["seconds"], **info)
        stored = attempt.commit(result)
        tdir.write_state(status="done", **info)
        return {**stored, "status": "done"}


# --- the Celery app ------------------------------------------------------------------------


def _media_task(self: Task, envelope: dict[str, Any]) -> dict[str, Any]:
    task = str(self.name).split(".", 1)[1]
    req = self.request
    info = {"task_id": req.id, "attempt": int(req.retries or 0) + 1,
            "redelivered": bool((req.delivery_info or {}).get("redelivered")),
            "worker": req.hostname}
    try:
        return execute(task, envelope, info)
    except Exception as exc:
        message, transient = classify(exc)
        tdir = TaskDir.of(envelope["root"], envelope["job"], envelope["step"], task,
                          envelope["key"])
        allowed = int(envelope.get("retries", DEFAULT_RETRIES))
        retries = int(req.retries or 0)
        if transient and retries < allowed:
            delay = backoff_s(retries, float(envelope.get("backoff_s", 1.0)))
            log.warning("media.%s %s: %s; retry %d/%d in %.1f s", task, req.id, message,
                        retries + 1, allowed, delay)
            tdir.log_run("retry", error=message, delay_s=round(delay, 2), **info)
            tdir.write_state(status="retrying", error=message, retry_at=time.time() + delay,
                             **info)
            raise self.retry(countdown=delay, max_retries=allowed,
                             exc=TaskFailed(message, True)) from None
        if transient:
            message = f"{message} (failed {retries + 1} times)"
        log.error("media.%s %s failed: %s", task, req.id, message)
        tdir.log_run("failed", error=message, **info)
        tdir.write_state(status="failed", error=message, **info)
        raise TaskFailed(message) from None


class AppThreadPool(ThreadTaskPool):
    """Celery's thread pool, with the worker's app as each thread's current app (the stock
    pool leaves the default app current, which knows neither our tasks nor our backend)."""

    executor: ThreadPoolExecutor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.app is not None:
            self.executor.shutdown(wait=False)
            self.executor = ThreadPoolExecutor(max_workers=self.limit,
                                               initializer=self.app.set_current)


def _ping(t: float | None = None) -> dict[str, Any]:
    return {"pong": True, "sent": t, "pid": os.getpid()}


def transport_options(broker_url: str) -> dict[str, Any]:
    scheme = broker_url.split(":", 1)[0]
    if scheme in ("redis", "rediss"):
        return {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT_S, "socket_timeout": 10,
                "socket_connect_timeout": 3, "health_check_interval": 10}
    if scheme == "memory":
        return {"polling_interval": 0.005}
    return {}


def create_app(broker_url: str | None = None, backend_url: str | None = None) -> Celery:
    """The Celery app: ``broker_url`` None means in-process (memory transport + memory
    results), served by a worker thread in the same process."""
    broker = broker_url or "memory://"
    backend = backend_url or ("cache+memory://" if broker == "memory://" else "rpc://")
    app = Celery("agenticai_media", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_queues=[Queue(name) for name in QUEUES],
        result_expires=7 * 24 * 3600,
        broker_transport_options=transport_options(broker),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=3,
        redis_socket_timeout=10,
        redis_socket_connect_timeout=3,
        redis_retry_on_timeout=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    for name in MEDIA_TASKS:
        app.task(name=f"media.{name}", bind=True, acks_late=True, reject_on_worker_lost=True,
                 max_retries=None, shared=False)(_media_task)
    app.task(name="media.ping", acks_late=False, shared=False)(_ping)
    return app
