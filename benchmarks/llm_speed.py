"""Embedded model speed: tokens per second, plain and JSON-schema constrained (not a test).

    python benchmarks/llm_speed.py [--tokens 160] [--threads 2]

Prints prompt and generation figures for the packaged SmolLM2-135M on llama.cpp, and
the machine's load average, so figures from a busy machine can be read as such.
"""

from __future__ import annotations

import argparse
import os
import time

from assistant.graph.nodes.write import Framing
from assistant.llm.embedded import _load_llama, packaged_model_path

PROMPT = (
    "Topic: how tides work.\nFacts:\n- The Moon's gravity pulls the oceans into two bulges.\n"
    "- Most coasts see two high tides a day, about 12 hours 25 minutes apart.\n"
    "Write JSON with a title, a hook question, a call_to_action and a description."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    llama = _load_llama(str(packaged_model_path()), 4096, args.threads)
    print(f"load: {time.perf_counter() - started:.2f} s   load average {os.getloadavg()}")
    messages = [{"role": "user", "content": PROMPT}]
    schema = {"type": "json_object", "schema": Framing.model_json_schema()}
    for label, extra in (("plain", {}), ("schema-constrained", {"response_format": schema})):
        started = time.perf_counter()
        out = llama.create_chat_completion(messages=messages, max_tokens=args.tokens,
                                           temperature=0.2, **extra)
        took = time.perf_counter() - started
        usage = out["usage"]
        print(f"{label:>20}: {usage['completion_tokens']} tokens in {took:.1f} s = "
              f"{usage['completion_tokens'] / took:.1f} tok/s "
              f"(prompt {usage['prompt_tokens']} tokens)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
