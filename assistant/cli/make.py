"""`assistant make` and `assistant resume`: run a job, show its progress, answer its reviews
in the terminal."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer
from pydantic import ValidationError
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from assistant.app.runner import Event, JobRunner, Outcome
from assistant.app.studio import Services
from assistant.cli.common import check_cli_user, console, err, services
from assistant.config import Settings
from assistant.content import DEPTHS, FORMATS, STYLES, Brief, ReviewDecision
from assistant.errors import InputError
from assistant.infra.preflight import check_services
from assistant.tools.research.terms import detect_language

# `make --yes` / `resume --yes` stopped at the final review because QA found errors.
QA_BLOCKED_EXIT = 3
YES_HELP = ("Approve every review automatically; never a final review whose QA found an error "
            "(the command then exits 3 and the job waits at review_final).")
FORCE_HELP = "With --yes: approve the final review even over QA errors (it says so)."


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


def make(
    topic: str = typer.Argument(..., help="What the content is about."),
    format: str = typer.Option("blog", "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    style: str = typer.Option("casual", "--style", "-s", help=f"One of: {', '.join(STYLES)}."),
    seconds: int | None = typer.Option(None, help="Length of speech, for spoken formats."),
    words: int | None = typer.Option(None, help="Length in words."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    user: str | None = typer.Option(None, help="Who asks (default: ASSISTANT_DEFAULT_USER)."),
    depth: str | None = typer.Option(None, "--depth", "-d", help="Research depth: "
                                     f"{', '.join(DEPTHS)} (2, 4 or 6 searches per provider"
                                     "); default: deep for blog, video and podcast, "
                                     "shallow for short and social."),
    lang: str | None = typer.Option(None, "--lang", help="Language of the content (en, es, "
                                    "fr, ...); default: detected from TOPIC, else en."),
    to: str | None = typer.Option(None, "--to", help="Where it is published, a comma list "
                                  "(outbox, wordpress, telegram, discord, youtube, tiktok); "
                                  "default: ASSISTANT_PUBLISH_TO."),
) -> None:
    """Research, write, review and publish a piece about TOPIC."""
    _check_force(yes, force)
    check_cli_user(Settings(), user)
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if depth is not None and depth not in DEPTHS:
        raise InputError(f"unknown depth {depth!r}; choose one of {', '.join(DEPTHS)}")
    check_services(Settings())
    with services() as svc:
        try:
            brief = Brief.create(
                topic, format, style,  # checked against FORMATS above
                seconds=seconds, words=words, user=user or svc.settings.default_user,
                depth=depth, language=lang or detect_language(topic))
        except ValidationError as exc:
            raise InputError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        if to is not None:
            brief = brief.model_copy(update={"platforms": _platforms(to)})
        seeded = svc.kb().seed_sample_if_empty()
        if seeded:
            console.print(f"[dim]knowledge base was empty: loaded {len(seeded)} bundled sample "
                          "pages (add your own with `assistant kb add`)[/]")
        runner = JobRunner(svc, operator=True)  # the operator's tool: no tier quotas
        job_id = runner.create(brief)
        console.print(f"[bold]{job_id}[/]: {brief.format} about {brief.topic!r} ({brief.style})")
        outcome = runner.start(job_id, brief, ProgressPrinter())
        _drive(runner, outcome, yes, force)


def resume(
    job_id: str = typer.Argument(..., help="The job to continue."),
    approve: bool = typer.Option(False, "--approve", help="Approve the pending review."),
    revise: str | None = typer.Option(None, "--revise", help="Ask for changes, with these notes."),
    reject: bool = typer.Option(False, "--reject", help="Reject the pending review."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Continue a job: answer its review, or re-run the step that failed or was interrupted."""
    _check_force(yes, force)
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
        _drive(runner, outcome, yes, force)


def _platforms(text: str) -> list[str]:
    from assistant.tools.publishing import PLATFORMS, parse_platforms, unknown_platforms

    names = parse_platforms(text)
    unknown = unknown_platforms(names)
    if unknown or not names:
        raise InputError(f"unknown platform {', '.join(unknown) or repr(text)} in --to; "
                         f"choose from {', '.join(PLATFORMS)}")
    return names


def _check_force(yes: bool, force: bool) -> None:
    if force and not yes:
        raise InputError("--force only changes what --yes approves: use --yes --force "
                         "(or approve the review yourself with `assistant resume JOB --approve`)")


def _who(svc: Services) -> str:
    return f"cli:{svc.settings.default_user}"


def _drive(runner: JobRunner, outcome: Outcome, yes: bool, force: bool = False) -> None:
    """Answer reviews until the job ends or the person steps away."""
    printer = ProgressPrinter()
    while outcome.status == "review" and outcome.review is not None:
        decision = _auto(outcome, runner, force) if yes else _ask(outcome)
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


def qa_errors(review: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The failed error-severity checks of a final review's QA report ([] for others)."""
    args = (review or {}).get("action_request", {}).get("args", {})
    qa = args.get("qa") or {}
    return [c for c in qa.get("checks", [])
            if not c.get("passed") and c.get("severity") == "error"]


def _auto(outcome: Outcome, runner: JobRunner, force: bool = False) -> ReviewDecision:
    """Approve automatically (--yes), but never a final review over a QA error unless
    --force says so: the job then waits at review_final and the command exits non-zero."""
    stage = outcome.review["action_request"]["action"] if outcome.review else ""
    by = f"cli:{runner.svc.settings.default_user} --yes"
    failed = qa_errors(outcome.review) if stage == "review_final" else []
    if failed:
        names = ", ".join(c["name"] for c in failed)
        if not force:
            _print_qa(outcome.review or {})
            err.print(f"[bold red]error:[/] {outcome.job_id} not published: QA failed ({names})."
                      f" Fix it and `assistant resume {outcome.job_id}`, approve it yourself "
                      f"with --approve, or publish anyway with --yes --force.", soft_wrap=True)
            raise SystemExit(QA_BLOCKED_EXIT)
        err.print(f"[bold yellow]warning:[/] {stage}: approved over failed QA checks ({names})"
                  " because of --force", soft_wrap=True)
        return ReviewDecision(action="approve", by=f"{by} --force",
                              notes=f"forced over failed QA checks: {names}")
    console.print(f"[dim]{stage}: approved automatically (--yes)[/]")
    return ReviewDecision(action="approve", by=by)


def _print_qa(review: dict[str, Any]) -> None:
    qa = review.get("action_request", {}).get("args", {}).get("qa")
    if not qa:
        return
    table = Table("check", "result", "detail", title="Quality checks")
    for check in qa["checks"]:
        mark = "[green]ok[/]" if check["passed"] else f"[red]{check['severity']}[/]"
        table.add_row(check["name"], mark, check["message"])
    console.print(table)


def _ask(outcome: Outcome) -> ReviewDecision | None:
    review = outcome.review or {}
    args = review.get("action_request", {}).get("args", {})
    console.print(Panel(Markdown(args.get("markdown", "")), title=review.get("description", ""),
                        subtitle=f"{args.get('words')} words · version {args.get('version')}"))
    _print_qa(review)
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
