"""Embedded models side by side: load, speed and grounding (not a test).

    python benchmarks/llm_speed.py [--models NAME ...] [--threads 1 2] [--tokens 128]
                                   [--no-contention] [--no-speed] [--probe-runs 2] [--json FILE]

For each catalog model (assistant/llm/catalog.py) and thread count, on one loaded model:
load time; prefill rate; decode rate free and JSON-schema constrained (llama.cpp's grammar
sampling, which the writer uses); and one writer-sized call (a ~1000-token SOURCE prompt,
a constrained answer of ~150-250 tokens), from which a short's write step of 2-4 such calls
is estimated. Each figure is taken quiet and again while a background process keeps one
core busy ("busy" rows), side by side in the same run. Every call starts from an empty KV
cache (no prompt-prefix reuse between calls), so each pays its whole prefill.

Then a grounded-rewrite probe per model: a SOURCE of four numbered sentences, a request for
four short rephrasings in JSON, each with its source's index; counted: numbers and names of
the cited sentence kept, and sentences that bring a number or name found nowhere in SOURCE.

The load average is printed with the figures: other engineers' jobs share these machines,
so a "quiet" row is only as quiet as the machine was. The model files were just read or
assembled, so load times are warm page-cache figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.llm import catalog  # noqa: E402 - after the sys.path line above

SAMPLE_PAGE = ROOT / "assistant" / "data" / "sample_kb" / "how-tides-work.md"
SHORT_PROMPT = "Explain to a twelve-year-old how ocean tides work, in about 150 words."
SCENES_SCHEMA: dict[str, Any] = {  # the shape of a short, bounded as the writer bounds it
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 70},
        "hook": {"type": "string", "maxLength": 150},
        "scenes": {
            "type": "array", "minItems": 4, "maxItems": 6,
            "items": {"type": "object",
                      "properties": {"narration": {"type": "string", "maxLength": 220}},
                      "required": ["narration"]},
        },
    },
    "required": ["title", "hook", "scenes"],
}
WRITER_TOKENS = 250  # the writer's calls answer in ~150-250 tokens
SYSTEM = ("Use only facts from the SOURCE. Keep every number, date and name exactly as the "
          "SOURCE gives it. Do not add facts.")

PROBE_SOURCE = [
    "Tides are the rise and fall of sea levels caused by the combined effects of the "
    "gravitational forces exerted by the Moon and the Sun, and the rotation of the Earth.",
    "Most coastal areas experience two high tides and two low tides every lunar day, which "
    "lasts about 24 hours and 50 minutes.",
    "The Bay of Fundy in Canada has the largest tidal range in the world, reaching about "
    "16 metres.",
    "Spring tides happen about every 14 days, at new moon and full moon, when the Sun, the "
    "Moon and the Earth line up.",
]
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"sentences": {
        "type": "array", "minItems": 4, "maxItems": 4,
        "items": {"type": "object",
                  "properties": {"index": {"type": "integer"},
                                 "text": {"type": "string", "maxLength": 160}},
                  "required": ["index", "text"]},
    }},
    "required": ["sentences"],
}
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"])}


@dataclass
class Call:
    prompt_tokens: int
    prefill_tps: float
    out_tokens: int
    decode_tps: float
    seconds: float
    cpu_s: float  # this process's CPU time: with 1 thread, about the wall time on a quiet core
    text: str


@dataclass
class Row:
    model: str
    threads: int
    condition: str
    load_s: float | None
    free: Call
    constrained: Call
    writer: Call
    loadavg: tuple[float, float, float]


def _spin(parent: int) -> None:  # pragma: no cover - runs in the background process
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})  # one core, as one busy neighbour would
    # Until the benchmark ends, however it ends: a killed parent runs no cleanup, and an
    # orphaned spinner would keep loading the machine (and every later figure) for good.
    while os.getppid() == parent:
        for _ in range(1_000_000):
            pass


@contextlib.contextmanager
def busy_core(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    proc = multiprocessing.Process(target=_spin, args=(os.getpid(),), daemon=True)
    proc.start()
    time.sleep(0.5)  # let it take its core before the clock starts
    try:
        yield
    finally:
        proc.terminate()
        proc.join()


def call(llama: Any, messages: list[dict[str, str]], max_tokens: int,
         schema: dict[str, Any] | None = None, seed: int = 7) -> Call:
    import llama_cpp

    llama.reset()  # an empty KV cache: no prefix of the previous call is reused
    llama_cpp.llama_perf_context_reset(llama.ctx)
    extra = {"response_format": {"type": "json_object", "schema": schema}} if schema else {}
    cpu, started = time.process_time(), time.perf_counter()
    out = llama.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                       temperature=0.2, seed=seed, **extra)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    prefill = llama_cpp.llama_perf_context(llama.ctx).t_p_eval_ms / 1000
    usage = out["usage"]
    # Decode is timed by the wall clock, not llama.cpp's eval counter: grammar sampling
    # (the constrained figures' cost) happens outside llama.cpp's own timers.
    decode_s = max(seconds - prefill, 1e-9)
    return Call(usage["prompt_tokens"], usage["prompt_tokens"] / max(prefill, 1e-9),
                usage["completion_tokens"], usage["completion_tokens"] / decode_s, seconds, cpu,
                out["choices"][0]["message"].get("content") or "")


def load(path: Path, entry: catalog.CatalogModel, threads: int) -> tuple[Any, float]:
    from llama_cpp import Llama

    started = time.perf_counter()
    llama = Llama(model_path=str(path), n_ctx=entry.n_ctx, n_threads=threads,
                  chat_format=entry.chat_format, verbose=False, seed=7)
    return llama, time.perf_counter() - started


def writer_messages() -> list[dict[str, str]]:
    # About 1000 prompt tokens: the first ~650 words of the sample tides page.
    words = SAMPLE_PAGE.read_text(encoding="utf-8").split(" ")[:650]
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": "SOURCE:\n<<<\n" + " ".join(words) + "\n>>>\n"
             "Write a 120-word YouTube short about how tides work: a title, a hook and "
             "4-6 scenes of narration, as JSON."}]


def speed(model: str, threads: list[int], tokens: int, contention: bool) -> list[Row]:
    path, entry = catalog.resolve(model)
    assert entry is not None
    rows = []
    short = [{"role": "user", "content": SHORT_PROMPT}]
    for n in threads:
        llama, load_s = load(path, entry, n)
        for condition in ("quiet", "busy") if contention else ("quiet",):
            with busy_core(condition == "busy"):
                row = Row(model, n, condition, load_s if condition == "quiet" else None,
                          call(llama, short, tokens), call(llama, short, tokens, SCENES_SCHEMA),
                          call(llama, writer_messages(), WRITER_TOKENS, SCENES_SCHEMA),
                          os.getloadavg())
            rows.append(row)
            print_row(row)
        llama.close()
    return rows


def _numbers(text: str) -> set[str]:
    words = re.findall(r"[A-Za-z]+|\d+(?:\.\d+)?", text.replace(",", ""))
    return {_NUMBER_WORDS.get(w.lower(), w) for w in words
            if w.isdigit() or "." in w or w.lower() in _NUMBER_WORDS}


def _names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence: names, roughly (Moon, Fundy, Canada)."""
    names: set[str] = set()
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        names |= {w for w in re.findall(r"[A-Za-z]+", sentence)[1:] if w[0].isupper()}
    return names


def probe(model: str, runs: int) -> dict[str, Any]:
    path, entry = catalog.resolve(model)
    assert entry is not None
    llama, _ = load(path, entry, 1)  # quality does not depend on threads; 1 fares best busy
    source = "\n".join(f"[{i}] {s}" for i, s in enumerate(PROBE_SOURCE, 1))
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"SOURCE:\n{source}\n\nRewrite each SOURCE sentence "
                 "as one short sentence in your own words. Answer with JSON: a list of 4 "
                 "sentences, each with the index of the SOURCE sentence it rephrases."}]
    known = _numbers(" ".join(PROBE_SOURCE)) | {w.lower() for w in
                                                 re.findall(r"[A-Za-z]+", source)}
    kept = facts = invented = sentences = bad_index = copied = 0
    samples = []
    for run in range(runs):
        result = call(llama, messages, 400, PROBE_SCHEMA, seed=7 + run)
        print(f"probe {model} run {run + 1}: {result.out_tokens} tokens in "
              f"{result.seconds:.1f} s", file=sys.stderr, flush=True)
        try:
            items = json.loads(result.text)["sentences"]
        except (ValueError, KeyError, TypeError):
            bad_index += 4
            continue
        for item in items:
            sentences += 1
            index = item.get("index")
            text = re.sub(r"\[\d+\]", "", str(item.get("text", "")))  # a cited [n] marker
            if not isinstance(index, int) or not 1 <= index <= len(PROBE_SOURCE):
                bad_index += 1
                continue
            cited = PROBE_SOURCE[index - 1]
            # A copy is no rephrasing (SmolLM2's habit): near-identical to any source sentence.
            copied += any(SequenceMatcher(None, text.lower(), s.lower()).ratio() > 0.9
                          for s in PROBE_SOURCE)
            want = _numbers(cited) | {n.lower() for n in _names(cited)}
            got = _numbers(text) | {n.lower() for n in _names(text)}
            facts += len(want)
            kept += len(want & got)
            new = (_numbers(text) - _numbers(" ".join(PROBE_SOURCE))) | {
                n for n in _names(text) if n.lower() not in known}
            invented += bool(new)
            samples.append(f"[{index}] {text}" + (f"   <- invented {sorted(new)}" if new else ""))
    llama.close()
    return {"model": model, "facts_kept": kept, "facts": facts, "invented": invented,
            "copied": copied, "sentences": sentences, "bad": bad_index, "samples": samples}


def print_row(row: Row) -> None:
    w = row.writer
    load_s = f"{row.load_s:.2f}" if row.load_s is not None else "-"
    print(f"| {row.model} | {row.threads} | {row.condition} | {load_s} | "
          f"{row.writer.prefill_tps:.0f} | {row.free.decode_tps:.1f} | "
          f"{row.constrained.decode_tps:.1f} | {w.seconds:.1f} ({w.prompt_tokens}+{w.out_tokens}) "
          f"| {w.cpu_s:.1f} | {2 * w.seconds:.0f}-{4 * w.seconds:.0f} | "
          f"{' '.join(f'{x:.2f}' for x in row.loadavg)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(catalog.MODELS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--no-contention", action="store_true")
    parser.add_argument("--no-speed", action="store_true", help="the grounding probe only")
    parser.add_argument("--probe-runs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"start: {uptime}; {os.cpu_count()} CPUs; other jobs may share this machine\n")
    rows: list[Row] = []
    if not args.no_speed:
        print("| model | threads | load | load s | prefill tok/s | free tok/s | json tok/s | "
              "writer call s (prompt+out tokens) | its CPU s | write step s (2-4 calls) | "
              "load avg |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
        rows = [r for m in args.models
                for r in speed(m, args.threads, args.tokens, not args.no_contention)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (largest model): {rss:,.0f} MB\n")
    probes = [probe(m, args.probe_runs) for m in args.models] if args.probe_runs else []
    if probes:
        print("| model | facts kept (numbers+names of the cited sentence) | sentences with "
              "an invented number/name | copied verbatim | bad JSON or index |")
        print("| --- | --- | --- | --- | --- |")
    for p in probes:
        print(f"| {p['model']} | {p['facts_kept']}/{p['facts']} | {p['invented']}/"
              f"{p['sentences']} | {p['copied']}/{p['sentences']} | {p['bad']} |")
    for p in probes:
        print(f"\n{p['model']}:\n  " + "\n  ".join(p["samples"]))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nend: {uptime}")
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows], "probes": probes},
                                        indent=2))


if __name__ == "__main__":
    main()
