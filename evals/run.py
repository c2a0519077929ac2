"""Run the writing half of the pipeline on the evals set and measure how true each piece is.

    python -m evals.run                                # the configured model, every case
    python -m evals.run --cases tides-blog,'trap-*'    # some cases (ids or glob patterns)
    ASSISTANT_LLM_MODEL=qwen2.5-coder-1.5b python -m evals.run

Each case runs brief -> research -> write on a fresh data dir seeded with the sample
knowledge base (plus the case's own pages from evals/datasets/kb/), stops at the script
review (no media: these scores are about the writing), is scored with :mod:`evals.metrics`,
then rejected so the job ends cleanly. A case that expects a stop passes when research or
write stops with a reason (not a crash). Prints a table and writes JSON (default
data/evals/<timestamp>.json) with every score, every step's seconds and the summary.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.app.runner import Event, JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import ReviewDecision, Script
from assistant.errors import AssistantError
from assistant.llm import ChatModel
from assistant.tools.quality.topic import gate_stats
from evals.cases import DATASET, KB_DIR, Case, Result, load_cases
from evals.metrics import score
from evals.report import print_table, summary

__all__ = ["DATASET", "KB_DIR", "Case", "Result", "evaluate_case", "load_cases", "main",
           "run_cases", "select"]

# A step that died of an unexpected exception records "TypeName: message" (graph.build).
_CRASH = re.compile(r"^(\w+: )?[A-Z]\w*(Error|Exception):")


def select(cases: Sequence[Case], patterns: Sequence[str]) -> tuple[list[Case], list[str]]:
    """The cases whose id matches any pattern (an id or a glob), and patterns matching none."""
    wanted = [p.strip() for raw in patterns for p in raw.split(",") if p.strip()]
    unmatched = [p for p in wanted if not any(fnmatch.fnmatchcase(c.id, p) for c in cases)]
    chosen = [c for c in cases if any(fnmatch.fnmatchcase(c.id, p) for p in wanted)]
    return chosen, unmatched


class StepClock:
    """Seconds per step, from the runner's step events (a step run twice adds up)."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        if event.kind == "step" and event.data.get("seconds") is not None:
            seconds = float(event.data["seconds"])
            self.steps[event.step] = round(self.steps.get(event.step, 0.0) + seconds, 3)


def evaluate_case(case: Case, settings: Settings, chat: ChatModel | None = None) -> Result:
    """Run one case on ``settings`` (its data dir should be fresh) and score the script."""
    started = time.perf_counter()
    svc = Services.create(settings)
    if chat is not None:
        svc.set_chat(chat)
    runner = JobRunner(svc)
    clock = StepClock()
    result = Result(case.id, "failed", 0.0, case.expect, local_pages=bool(case.kb),
                    facts_listed=bool(case.facts))
    try:
        kb = svc.kb()
        kb.seed_sample_if_empty()
        if case.kb:
            added = kb.add([KB_DIR / name for name in case.kb])
            bad = [r for r in added if r.status == "error"]
            if bad:
                result.error = f"cannot add {bad[0].path}: {bad[0].message}"
                return result
        brief = case.brief()
        job_id = runner.create(brief)
        outcome = runner.start(job_id, brief, clock)
        result.steps = clock.steps
        if outcome.status != "review":
            result.error = outcome.error or outcome.status
            result.status = "stopped" if _honest_stop(svc, job_id, result.error) else "failed"
            return result
        state = runner.state(job_id)
        script: Script = state["script"]
        result.scores = score(script, state["research"], state["brief"],
                              case.expected_sources, case.facts, svc.embedder(),
                              gate_stats(brief.language))
        result.status, result.fallbacks, result.notes = "scored", len(script.notes), script.notes
        result.piece = script.model_dump(mode="json", include={
            "title", "hook", "sections", "call_to_action", "description", "writer"})
        runner.resume(job_id, ReviewDecision(action="reject", by="evals"))
        return result
    except AssistantError as exc:
        result.error = exc.user_message
        return result
    finally:
        result.seconds = _since(started)
        runner.close()
        svc.close()


def _honest_stop(svc: Services, job_id: str, error: str) -> bool:
    """A stop with a reason at research or write (no sources, too thin), not a crash."""
    failed = [s for s in svc.repo.list_steps(job_id) if s.status == "failed"]
    if not failed or failed[-1].name not in ("research", "write"):
        return False
    return not _CRASH.match(failed[-1].error_message or error)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 1)


def run_cases(cases: Sequence[Case], base: Settings, console: Any,
              chat: ChatModel | None = None) -> list[Result]:
    results = []
    for case in cases:
        console.print(f"[dim]{case.id}: {case.format} ({case.style}) about {case.topic!r} ...[/]")
        with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
            settings = base.model_copy(update={"data_dir": Path(tmp), "seed_sample_kb": True})
            results.append(evaluate_case(case, settings, chat))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--cases", action="append", default=[],
                        help="Case ids or glob patterns, comma-separated (repeatable).")
    parser.add_argument("--case", action="append", default=[], help="Same as --cases.")
    parser.add_argument("--out", type=Path, help="JSON results (default data/evals/<ts>.json).")
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal:  # a log file or CI: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=200)
    cases = load_cases(args.dataset)
    patterns = [*args.cases, *args.case]
    if patterns:
        cases, unmatched = select(cases, patterns)
        if unmatched:
            console.print(f"[red]error:[/] unknown case(s): {', '.join(unmatched)}")
            return 2
    base = Settings()
    llm = f"{base.llm_provider}:{base.llm_model or 'default'} ({base.effective_writer_mode})"
    console.print(f"[bold]evals[/]: {len(cases)} cases, model {llm}")
    results = run_cases(cases, base, console)
    print_table(results, console, title=f"evals — {llm}")
    out = args.out or Path("data/evals") / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "llm": llm, "providers": getattr(base, "research_providers", "kb"),
        "summary": summary(results), "results": [r.as_dict() for r in results],
    }, indent=2, default=str), encoding="utf-8")
    console.print(f"results: {out}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
