"""The `assistant` command: make content, review it in the terminal, inspect jobs, manage the KB."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from assistant.app.runner import Event, JobRunner, Outcome
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import FORMATS, STYLES, Brief, ReviewDecision
from assistant.errors import AssistantError, InputError
from assistant.infra.observability import configure_logging
from assistant.infra.preflight import check_services
from storage.errors import StorageError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="AgenticAI Lab: turn a topic into researched, reviewed, published content.")
kb_app = typer.Typer(no_args_is_help=True, help="Your knowledge base: the sources content cites.")
app.add_typer(kb_app, name="kb")

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def main() -> None:
    """Entry point: run the app, turning every known error into one clear line."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ASSISTANT_" + "_".join(str(p) for p in first["loc"]).upper()
        err.print(f"[bold red]error:[/] invalid setting {name}: {first['msg']}")
        raise SystemExit(2) from None
    configure_logging(settings.log_json, settings.log_level)
    try:
        app(standalone_mode=False)
    except AssistantError as exc:
        err.print(f"[bold red]error:[/] {exc.user_message}")
        raise SystemExit(exc.exit_code) from None
    except StorageError as exc:  # database down, disk full, ...: already one line
        err.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise


@contextmanager
def services() -> Iterator[Services]:
    svc = Services.create(Settings())
    try:
        yield svc
    finally:
        svc.close()


# --- progress display -----------------------------------------------------------------


class ProgressPrinter:
    """Prints each step as it starts and ends, with its duration and what it reported."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        if event.kind == "progress":
            if event.step not in self.started:
                self.started[event.step] = time.perf_counter()
                console.print(f"[cyan]▶ {event.step}[/]")
            pct = f"{event.percent:3.0f}% " if event.percent is not None else ""
            console.print(f"   [dim]{pct}{event.message}[/]")
        elif event.kind == "step":
            started = self.started.pop(event.step, None)
            took = event.data.get("seconds")
            if took is None and started is not None:
                took = time.perf_counter() - started
            console.print(f"[green]✓ {event.step}[/] [dim]({took or 0:.1f} s)[/]")
        elif event.kind == "error":
            err.print(f"[bold red]✗ {event.message}[/]")


# --- commands ---------------------------------------------------------------------------


@app.command()
def make(
    topic: str = typer.Argument(..., help="What the content is about."),
    format: str = typer.Option("blog", "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    style: str = typer.Option("casual", "--style", "-s", help=f"One of: {', '.join(STYLES)}."),
    seconds: int | None = typer.Option(None, help="Length of speech, for spoken formats."),
    words: int | None = typer.Option(None, help="Length in words."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every review automatically."),
    user: str | None = typer.Option(None, help="Who asks (default: ASSISTANT_DEFAULT_USER)."),
) -> None:
    """Research, write, review and publish a piece about TOPIC."""
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    check_services(Settings())
    with services() as svc:
        try:
            brief = Brief.create(
                topic, format, style,  # checked against FORMATS above
                seconds=seconds, words=words, user=user or svc.settings.default_user)
        except ValidationError as exc:
            raise InputError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        seeded = svc.kb().seed_sample_if_empty()
        if seeded:
            console.print(f"[dim]knowledge base was empty: loaded {len(seeded)} bundled sample "
                          "pages (add your own with `assistant kb add`)[/]")
        runner = JobRunner(svc)
        job_id = runner.create(brief)
        console.print(f"[bold]{job_id}[/]: {brief.format} about {brief.topic!r} ({brief.style})")
        outcome = runner.start(job_id, brief, ProgressPrinter())
        _drive(runner, outcome, yes)


@app.command()
def resume(
    job_id: str = typer.Argument(..., help="The job to continue."),
    approve: bool = typer.Option(False, "--approve", help="Approve the pending review."),
    revise: str | None = typer.Option(None, "--revise", help="Ask for changes, with these notes."),
    reject: bool = typer.Option(False, "--reject", help="Reject the pending review."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every review automatically."),
) -> None:
    """Continue a job: answer its review, or re-run the step that failed or was interrupted."""
    chosen = [a for a, on in (("approve", approve), ("revise", revise), ("reject", reject)) if on]
    if len(chosen) > 1:
        raise InputError("choose one of --approve, --revise NOTES, --reject")
    check_services(Settings())
    with services() as svc:
        runner = JobRunner(svc)
        decision = None
        if chosen:
            decision = ReviewDecision(action=chosen[0], notes=revise or "", by=_who(svc))
        outcome = runner.resume(job_id, decision, ProgressPrinter())
        _drive(runner, outcome, yes)


def _who(svc: Services) -> str:
    return f"cli:{svc.settings.default_user}"


def _drive(runner: JobRunner, outcome: Outcome, yes: bool) -> None:
    """Answer reviews until the job ends or the person steps away."""
    printer = ProgressPrinter()
    while outcome.status == "review" and outcome.review is not None:
        decision = _auto(outcome, runner) if yes else _ask(outcome)
        if decision is None:
            console.print(f"[yellow]{outcome.job_id} waits for review.[/] Decide later with "
                          f"`assistant resume {outcome.job_id}`.")
            return
        outcome = runner.resume(outcome.job_id, decision, printer)
    if outcome.status == "published":
        console.print(f"[bold green]Published[/] {outcome.job_id}: {outcome.publication}")
    elif outcome.status == "rejected":
        console.print(f"[yellow]Rejected[/] {outcome.job_id}: nothing was published.")
    elif outcome.status == "failed":
        err.print(f"[red]{outcome.job_id} stopped:[/] {outcome.error}")
        err.print(f"Fix the cause, then `assistant resume {outcome.job_id}`.")
        raise SystemExit(1)


def _auto(outcome: Outcome, runner: JobRunner) -> ReviewDecision:
    stage = outcome.review["action_request"]["action"] if outcome.review else ""
    console.print(f"[dim]{stage}: approved automatically (--yes)[/]")
    return ReviewDecision(action="approve", by=f"cli:{runner.svc.settings.default_user} --yes")


def _ask(outcome: Outcome) -> ReviewDecision | None:
    review = outcome.review or {}
    args = review.get("action_request", {}).get("args", {})
    console.print(Panel(Markdown(args.get("markdown", "")), title=review.get("description", ""),
                        subtitle=f"{args.get('words')} words · version {args.get('version')}"))
    qa = args.get("qa")
    if qa:
        table = Table("check", "result", "detail", title="Quality checks")
        for check in qa["checks"]:
            mark = "[green]ok[/]" if check["passed"] else f"[red]{check['severity']}[/]"
            table.add_row(check["name"], mark, check["message"])
        console.print(table)
    for note in args.get("writer_notes", []):
        console.print(f"[yellow]note:[/] {note}")
    if not sys.stdin.isatty() and sys.stdin.closed:
        return None
    try:
        answer = typer.prompt("[a]pprove, [r]evise, re[j]ect or [l]ater", default="a").strip()
    except (EOFError, typer.Abort):
        return None
    key = answer[:1].lower()
    if key == "a":
        return ReviewDecision(action="approve", by="cli")
    if key == "r":
        notes = typer.prompt("What should change?").strip()
        return ReviewDecision(action="revise", notes=notes or "improve it", by="cli")
    if key == "j":
        return ReviewDecision(action="reject", by="cli")
    return None


@app.command()
def jobs(limit: int = typer.Option(20, help="How many, newest first.")) -> None:
    """List jobs."""
    with services() as svc:
        rows = svc.repo.list_jobs(limit=limit)
        table = Table("job", "status", "format", "topic", "created")
        for job in rows:
            table.add_row(job.id, job.status, job.content_type, job.title[:60],
                          job.created_at.strftime("%Y-%m-%d %H:%M"))
        console.print(table if rows else "no jobs yet: try `assistant make \"how tides work\"`")


@app.command()
def show(
    job_id: str,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """A job's status, steps with durations, and artifacts."""
    with services() as svc:
        report = job_report(svc, job_id)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console.print(f"[bold]{report['id']}[/] {report['status']} — {report['format']}: "
                  f"{report['topic']}")
    if report["error"]:
        console.print(f"[red]error:[/] {report['error']}")
    steps = Table("step", "status", "seconds", "retries", title="Steps")
    for s in report["steps"]:
        steps.add_row(s["name"], s["status"], f"{s['duration_s'] or 0:.2f}", str(s["retries"]))
    console.print(steps)
    files = Table("artifact", "v", "bytes", "path", title="Artifacts")
    for a in report["artifacts"]:
        files.add_row(a["name"], str(a["version"]), str(a["size"]), a["path"])
    console.print(files)
    for p in report["publications"]:
        console.print(f"published to {p['platform']}: {p['location']}")


def job_report(svc: Services, job_id: str) -> dict[str, Any]:
    from assistant.errors import JobNotFound

    job = svc.repo.get_job(job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id!r}: `assistant jobs` lists them")
    return {
        "id": job.id,
        "status": job.status,
        "format": job.content_type,
        "topic": job.title,
        "error": job.error_message,
        "created_at": job.created_at,
        "completed_at": job.completed_at,
        "steps": [
            {"name": s.name, "status": s.status, "retries": s.retry_count,
             "duration_s": None if s.duration_ms is None else s.duration_ms / 1000,
             "started_at": s.started_at, "error": s.error_message}
            for s in svc.repo.list_steps(job_id)
        ],
        "artifacts": [
            {"name": a.name, "version": a.version, "type": a.type, "step": a.step,
             "size": a.size, "sha256": a.sha256, "mime": a.mime, "path": str(a.path)}
            for a in svc.objects.list(job_id)
        ],
        "publications": [
            {"platform": p.platform, "location": p.post_url, "published_at": p.published_at}
            for p in svc.repo.publications(job_id)
        ],
    }


# --- long-running services: web chat, bots, workers ----------------------------------------
# Each returns an exit code; a missing token or an unreachable server is one clear line.


def _long_running() -> Settings:
    """Settings for a long-running process, its servers checked and /metrics served."""
    from assistant.infra.preflight import prepare_long_running

    settings = Settings()
    prepare_long_running(settings)
    return settings


@app.command()
def chat(
    host: str | None = typer.Option(None, help="Bind address (default: ASSISTANT_CHAT_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: ASSISTANT_CHAT_PORT, 8000)."),
) -> None:
    """Start the web chat (Chainlit): make, review and approve content in the browser."""
    from assistant.channels.web.app import serve

    raise SystemExit(serve(_long_running(), host=host, port=port))


@app.command()
def discord() -> None:
    """Start the Discord bot (needs ASSISTANT_DISCORD_TOKEN)."""
    from assistant.channels.discord import run_bot

    raise SystemExit(run_bot(_long_running()))


@app.command()
def telegram() -> None:
    """Start the Telegram bot (needs ASSISTANT_TELEGRAM_TOKEN)."""
    from assistant.channels.telegram import run_bot

    raise SystemExit(run_bot(_long_running()))


@app.command()
def worker(
    queues: str = typer.Option("gpu,cpu", help="Comma-separated queues: gpu, cpu."),
    concurrency: int | None = typer.Option(None, help="Tasks at once (default: settings)."),
) -> None:
    """Start a media worker (Celery) that renders images, voice and video from the queue."""
    from assistant.infra.task_queue import run_worker

    names = [q.strip() for q in queues.split(",") if q.strip()]
    raise SystemExit(run_worker(_long_running(), names, concurrency))


# --- knowledge base ------------------------------------------------------------------------


@kb_app.command("add")
def kb_add(paths: list[Path] = typer.Argument(..., help="Files: .md .txt .html .pdf")) -> None:
    """Add files to the knowledge base."""
    with services() as svc:
        results = svc.kb().add(paths)
    failed = 0
    for r in results:
        if r.status == "error":
            failed += 1
            err.print(f"[red]✗[/] {r.path}: {r.message}")
        else:
            console.print(f"[green]✓[/] {r.path}: {r.status}, {r.chunks} chunks ({r.source_id})")
    if failed == len(results):
        raise SystemExit(1)


@kb_app.command("list")
def kb_list() -> None:
    """List the sources in the knowledge base."""
    with services() as svc:
        sources = svc.kb().sources()
    table = Table("id", "title", "file")
    for s in sources:
        table.add_row(s.id, s.title, s.uri)
    console.print(table if sources else "the knowledge base is empty: `assistant kb add FILE`")


@kb_app.command("search")
def kb_search(query: str, k: int = typer.Option(5, help="How many passages.")) -> None:
    """Show the passages the research step would find for QUERY."""
    with services() as svc:
        kb = svc.kb()
        hits = kb.search(query, k=k)
        titles = {s.id: s.title for s in kb.sources()}
    if not hits:
        console.print("nothing relevant found")
    for hit in hits:
        console.print(f"[bold]{hit.score:.2f}[/] {titles.get(hit.source_id, hit.source_id)}"
                      f" — {hit.heading}\n   {hit.text[:300]}")


# --- web-chat accounts ---------------------------------------------------------------------

user_app = typer.Typer(no_args_is_help=True, help="Web-chat accounts (`assistant chat` login).")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="The account name (what you type to log in)."),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the password from this environment variable "
        "(default: the first line of stdin, or a prompt on a terminal)."),
) -> None:
    """Create a web-chat account, or set the password of an existing one."""
    import os

    from assistant.channels.web.auth import check_username, set_password

    name = check_username(name)
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise InputError(f"the environment variable {password_env} is not set")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline()
    with services() as svc:
        created = set_password(svc.db, name, password)
    console.print(f"{'created' if created else 'updated'} {name}: log in at `assistant chat`")
