"""Run the writing half of the pipeline on a dataset of topics and score each script.

    python -m evals.run                       # the embedded defaults, every case
    python -m evals.run --case tides-blog     # one case
    ASSISTANT_LLM_PROVIDER=ollama ASSISTANT_LLM_MODEL=llama3.1:8b python -m evals.run

Each case runs brief -> research -> write on a fresh data dir seeded with the sample
knowledge base, stops at the script review (no media is rendered: these scores are about
the writing), is scored with :mod:`evals.metrics`, then rejected so the job ends cleanly.
Prints a table and writes JSON (default data/evals/<timestamp>.json).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief, ReviewDecision, Script
from assistant.errors import AssistantError
from assistant.llm import ChatModel
from evals.metrics import Scores, score

DATASET = Path(__file__).parent / "datasets" / "topics.yaml"
METRICS = ("grounding", "citation_coverage", "source_recall", "fact_coverage", "length_fit")


@dataclass
class Case:
    id: str
    topic: str
    format: str = "blog"
    style: str = "casual"
    expected_sources: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)


@dataclass
class Result:
    case: str
    status: str
    seconds: float
    scores: Scores | None = None
    fallbacks: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "status": self.status, "seconds": self.seconds,
                "scores": self.scores.as_dict() if self.scores else None,
                "fallbacks": self.fallbacks, "error": self.error}


def load_cases(path: Path = DATASET) -> list[Case]:
    return [Case(**raw) for raw in yaml.safe_load(path.read_text(encoding="utf-8"))]


def evaluate_case(case: Case, settings: Settings, chat: ChatModel | None = None) -> Result:
    """Run one case on ``settings`` (its data dir should be fresh) and score the script."""
    started = time.perf_counter()
    svc = Services.create(settings)
    if chat is not None:
        svc.set_chat(chat)
    runner = JobRunner(svc)
    try:
        svc.kb().seed_sample_if_empty()
        brief = Brief.create(case.topic, case.format, case.style, user="evals")  # type: ignore[arg-type]
        job_id = runner.create(brief)
        outcome = runner.start(job_id, brief)
        if outcome.status != "review":
            return Result(case.id, outcome.status, _since(started), error=outcome.error or "")
        state = runner.state(job_id)
        script: Script = state["script"]
        scores = score(script, state["research"], state["brief"], case.expected_sources,
                       case.facts)
        runner.resume(job_id, ReviewDecision(action="reject", by="evals"))
        return Result(case.id, "scored", _since(started), scores, len(script.notes))
    except AssistantError as exc:
        return Result(case.id, "failed", _since(started), error=exc.user_message)
    finally:
        runner.close()
        svc.close()


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 1)


def summary(results: Sequence[Result]) -> dict[str, float]:
    scored = [r.scores for r in results if r.scores is not None]
    if not scored:
        return {}
    return {m: round(sum(getattr(s, m) for s in scored) / len(scored), 3) for m in METRICS}


def print_table(results: Sequence[Result], console: Console) -> None:
    table = Table("case", "status", *METRICS, "grade", "words", "fallbacks", "s")
    for r in results:
        s = r.scores
        cells = [f"{getattr(s, m):.2f}" for m in METRICS] if s else ["-"] * len(METRICS)
        table.add_row(r.case, r.status if not r.error else f"{r.status}: {r.error[:40]}",
                      *cells, f"{s.reading_grade:.1f}" if s else "-",
                      str(s.words) if s else "-", str(r.fallbacks), f"{r.seconds:.1f}")
    mean = summary(results)
    if mean:
        table.add_row("[bold]mean[/]", "", *(f"{mean[m]:.2f}" for m in METRICS), "", "", "", "")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--case", action="append", help="Run only these case ids.")
    parser.add_argument("--out", type=Path, help="JSON results (default data/evals/<ts>.json).")
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal:  # a log file or CI: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=160)
    cases = load_cases(args.dataset)
    if args.case:
        unknown = set(args.case) - {c.id for c in cases}
        if unknown:
            console.print(f"[red]error:[/] unknown case(s): {', '.join(sorted(unknown))}")
            return 2
        cases = [c for c in cases if c.id in args.case]
    base = Settings()
    results = []
    for case in cases:
        console.print(f"[dim]{case.id}: {case.format} about {case.topic!r} ...[/]")
        with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
            settings = base.model_copy(update={"data_dir": Path(tmp)})
            results.append(evaluate_case(case, settings))
    print_table(results, console)
    out = args.out or Path("data/evals") / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "llm": f"{base.llm_provider}:{base.llm_model or 'default'}",
        "summary": summary(results), "results": [r.as_dict() for r in results],
    }, indent=2), encoding="utf-8")
    console.print(f"results: {out}")
    return 0 if all(r.status == "scored" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
