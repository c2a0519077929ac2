"""The evals table and its summary: per case, then the figures the issue's "done when" names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.cases import Result

STEPS = ("research", "write")


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summary(results: Sequence[Result]) -> dict[str, Any]:
    """Headline figures: pass rate, the truth metrics over scored cases, stops, step times."""
    scored = [r for r in results if r.scores is not None]
    s = [r.scores for r in scored if r.scores is not None]
    with_facts = [r for r in scored if r.facts_listed]
    steps: dict[str, list[float]] = {}
    for r in results:
        for step, seconds in r.steps.items():
            steps.setdefault(step, []).append(seconds)
    return {
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "scored": len(scored),
        "stopped": sum(r.status == "stopped" for r in results),
        "failed": sum(r.status == "failed" for r in results),
        "wrong_stops": sum(r.status == "stopped" and r.expect == "content" for r in results),
        "missed_stops": sum(r.status == "scored" and r.expect == "stop" for r in results),
        "on_topic": _mean([x.on_topic for x in s]),
        "unsupported": _mean([x.unsupported for x in s]),
        "invented": sum(x.invented for x in s),
        "repeated_sentences": sum(x.repeated_sentences for x in s),
        "repeated_runs": sum(x.repeated_runs for x in s),
        "length_ok": _mean([float(x.length_ok) for x in s]),
        "thin_notes": sum(x.thin for x in s),
        "fact_recall": _mean([r.scores.fact_recall for r in with_facts if r.scores]),
        "fact_recall_local": _mean([r.scores.fact_recall for r in with_facts
                                 if r.scores and r.local_pages]),
        "seconds_per_step": {k: _mean(v) for k, v in sorted(steps.items())},
        "seconds_total": round(sum(r.seconds for r in results), 1),
    }


def print_table(results: Sequence[Result], console: Any, title: str = "evals") -> None:
    from rich.table import Table

    table = Table("case", "result", "on topic", "unsupp.", "invented", "repeats", "length",
                  "facts", "words", *(f"{s} s" for s in STEPS), "total s", title=title)
    for r in results:
        s = r.scores
        verdict = "[green]ok[/]" if r.passed else "[red]FAIL[/]"
        status = f"{verdict} {r.status}" + (f": {r.error[:50]}" if r.error else "")
        if s is None:
            cells = ["-"] * 7
        else:
            length = f"{s.length_ratio:.2f}" + (" thin" if s.thin else "") + (
                "" if s.length_ok else " ✗")
            cells = [f"{s.on_topic:.2f}", f"{s.unsupported:.2f}", str(s.invented),
                     f"{s.repeated_sentences}/{s.repeated_runs}", length,
                     f"{s.fact_recall:.2f}" if r.facts_listed else "-", str(s.words)]
        times = [f"{r.steps[k]:.1f}" if k in r.steps else "-" for k in STEPS]
        table.add_row(r.case, status, *cells, *times, f"{r.seconds:.1f}")
    console.print(table)
    m = summary(results)

    def show(value: Any, fmt: str = "{:.2f}") -> str:
        return "-" if value is None else fmt.format(value)

    console.print(
        f"[bold]{m['passed']}/{m['cases']} cases pass[/] · on topic {show(m['on_topic'])} · "
        f"unsupported {show(m['unsupported'])} · invented {m['invented']} · repeated "
        f"sentences {m['repeated_sentences']} (6-word runs {m['repeated_runs']}) · length ok "
        f"{show(m['length_ok'])} ({m['thin_notes']} 'too thin') · key facts "
        f"{show(m['fact_recall'])} (source-only, local pages {show(m['fact_recall_local'])}) · "
        f"stops {m['stopped']} (wrong {m['wrong_stops']}, missed {m['missed_stops']}) · "
        f"crashes {m['failed']}")
    per_step = ", ".join(f"{k} {v:.1f}" for k, v in m["seconds_per_step"].items() if v)
    console.print(f"mean seconds per step: {per_step or '-'}; total {m['seconds_total']} s")
