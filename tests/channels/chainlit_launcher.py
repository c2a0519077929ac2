"""Runs the real web chat for the end-to-end tests, with the scripted chat model.

``python -m tests.channels.chainlit_launcher PORT``: settings come from the environment the
test sets (ASSISTANT_DATA_DIR ...); only the chat model is replaced, and the tides pages are
loaded into the knowledge base when it is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.app.studio import Services
from assistant.channels.web.app import serve
from assistant.config import Settings
from tests.fakes import FRAMING, scripted

# not imported from tests.conftest: importing it clears the ASSISTANT_* settings we need
SAMPLE_KB = Path(__file__).resolve().parents[2] / "assistant" / "data" / "sample_kb"
TIDES = [SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"]


def main(port: int) -> int:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    svc = Services.create(settings)
    svc.set_chat(scripted(FRAMING))
    kb = svc.kb()
    if kb.is_empty():
        results = kb.add(TIDES)
        assert all(r.status == "added" for r in results), results
    try:
        return serve(settings, "127.0.0.1", port, services=svc)
    finally:
        svc.close()


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1])))
