"""The long-running services: web chat, bots, workers.

Each returns an exit code; a missing token or an unreachable server is one clear line.
"""

from __future__ import annotations

import typer

from assistant.config import Settings


def _long_running() -> Settings:
    """Settings for a long-running process, its servers checked and /metrics served."""
    from assistant.infra.preflight import prepare_long_running

    settings = Settings()
    prepare_long_running(settings)
    return settings


def chat(
    host: str | None = typer.Option(None, help="Bind address (default: ASSISTANT_CHAT_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: ASSISTANT_CHAT_PORT, 8000)."),
) -> None:
    """Start the web chat (Chainlit): make, review and approve content in the browser."""
    from assistant.channels.web.app import serve

    raise SystemExit(serve(_long_running(), host=host, port=port))


def discord() -> None:
    """Start the Discord bot (needs ASSISTANT_DISCORD_TOKEN)."""
    from assistant.channels.discord import run_bot

    raise SystemExit(run_bot(_long_running()))


def telegram() -> None:
    """Start the Telegram bot (needs ASSISTANT_TELEGRAM_TOKEN)."""
    from assistant.channels.telegram import run_bot

    raise SystemExit(run_bot(_long_running()))


def worker(
    queues: str = typer.Option("gpu,cpu", help="Comma-separated queues: gpu, cpu."),
    concurrency: int | None = typer.Option(None, help="Tasks at once (default: settings)."),
    scheduler_loop: bool = typer.Option(True, "--scheduler/--no-scheduler",
                                        help="Also run the scheduler loop in this process."),
) -> None:
    """Start a media worker (Celery) that renders images, voice and video from the queue."""
    from assistant.infra.task_queue import run_worker

    names = [q.strip() for q in queues.split(",") if q.strip()]
    settings = _long_running()
    if scheduler_loop:  # due publications, metrics, weekly reports: safe beside any other
        from assistant.app.scheduler import start_in_thread

        start_in_thread(settings)
    raise SystemExit(run_worker(settings, names, concurrency))


def scheduler() -> None:
    """Run the scheduler alone: publish what is due, pull metrics, send weekly reports.

    Any number may run (each claims what it does in the database); `assistant worker` runs
    one too unless told --no-scheduler."""
    from assistant.app.scheduler import run_scheduler

    raise SystemExit(run_scheduler(_long_running()))
