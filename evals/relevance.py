"""Calibrate and check the relevance gate on its labelled set.

    python -m evals.relevance              # figures at the pinned thresholds, and a sweep
    python -m evals.relevance --errors     # also list every pair the gate gets wrong

Each pair of evals/datasets/relevance.yaml (topic, passage with its document title,
relevant: bool) is judged by :class:`assistant.tools.research.relevance.Gate` with the
encyclopedia's term statistics for the pair's language, as research judges passages.
Prints precision, recall and F1 at the thresholds pinned in relevance.py, then over a
grid of (SIM_MIN, COVER_MIN), so a change of the gate shows what it costs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.tools.knowledge.embeddings import get_embedder
from assistant.tools.research import relevance
from assistant.tools.research.encyclopedia import term_stats
from assistant.tools.research.relevance import Gate, Passage

DATASET = Path(__file__).parent / "datasets" / "relevance.yaml"
SIM_GRID = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
COVER_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


@dataclass
class Judged:
    pair: dict[str, Any]
    passage: Passage

    def kept(self, sim_min: float, cover_min: float) -> bool:
        p = self.passage
        return p.required_ok and p.similarity >= sim_min and p.coverage >= cover_min


def load(path: Path = DATASET) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["pairs"])


def judge(pairs: list[dict[str, Any]]) -> list[Judged]:
    embedder = get_embedder()
    out = []
    gates: dict[tuple[str, str], Gate] = {}
    for pair in pairs:
        key = (pair["topic"], pair["language"])
        if key not in gates:
            gates[key] = Gate(pair["topic"], embedder, term_stats(pair["language"]),
                              pair["language"])  # fmt: skip
        passage = Passage(pair["passage"], 0, 0, pair.get("title", ""))
        gates[key].judge([passage])  # as research decides: on the whole passage
        out.append(Judged(pair, passage))
    return out


def scores(judged: list[Judged], sim_min: float, cover_min: float) -> dict[str, float]:
    tp = sum(1 for j in judged if j.pair["relevant"] and j.kept(sim_min, cover_min))
    fp = sum(1 for j in judged if not j.pair["relevant"] and j.kept(sim_min, cover_min))
    fn = sum(1 for j in judged if j.pair["relevant"] and not j.kept(sim_min, cover_min))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def _line(label: str, s: dict[str, float]) -> str:
    return (f"{label:<22} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
            f"F1 {s['f1']:.3f}  (tp {s['tp']:.0f}, fp {s['fp']:.0f}, fn {s['fn']:.0f})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.relevance")
    parser.add_argument("--errors", action="store_true", help="list the pairs judged wrongly")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args(argv)
    pairs = load(args.dataset)
    judged = judge(pairs)
    positives = sum(1 for p in pairs if p["relevant"])
    print(f"{len(pairs)} pairs ({positives} relevant, {len(pairs) - positives} not), "
          f"{len({p['topic'] for p in pairs})} requests")
    pinned = scores(judged, relevance.SIM_MIN, relevance.COVER_MIN)
    print(_line(f"pinned {relevance.SIM_MIN:.2f}/{relevance.COVER_MIN:.2f}", pinned))
    for split in sorted({j.pair.get("split", "calibration") for j in judged}):
        part = [j for j in judged if j.pair.get("split", "calibration") == split]
        label = f"  {split} ({len(part)})"
        print(_line(label, scores(part, relevance.SIM_MIN, relevance.COVER_MIN)))
    print("words only (no sim)   ", _line("", scores(judged, -1.0, relevance.COVER_MIN)).strip())
    print("meaning only (no words)", _line("", scores(judged, relevance.SIM_MIN, 0.0)).strip())
    print("\nsweep: F1 (precision/recall) by SIM_MIN (rows) x COVER_MIN (columns)")
    print("      " + "".join(f"{c:>18.2f}" for c in COVER_GRID))
    for sim in SIM_GRID:
        cells = []
        for cover in COVER_GRID:
            s = scores(judged, sim, cover)
            cells.append(f"{s['f1']:.3f} ({s['precision']:.2f}/{s['recall']:.2f})")
        print(f"{sim:>6.2f}" + "".join(f"{c:>18}" for c in cells))
    if args.errors:
        print("\nwrong at the pinned thresholds:")
        for j in judged:
            kept = j.kept(relevance.SIM_MIN, relevance.COVER_MIN)
            if kept != j.pair["relevant"]:
                p = j.passage
                kind = "kept, not relevant" if kept else "dropped, relevant"
                print(f"- {kind}: [{j.pair['topic']}] {j.pair.get('title', '')}: "
                      f"sim {p.similarity:.2f} cover {p.coverage:.2f} "
                      f"required {'ok' if p.required_ok else 'MISSING'} -- {p.text[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
