"""Progress events from inside a step, streamed to every channel (stream_mode "custom")."""

from __future__ import annotations

import logging
from typing import Any

from langgraph.config import get_stream_writer

log = logging.getLogger(__name__)


def emit(step: str, message: str, percent: float | None = None, **extra: Any) -> None:
    """Tell whoever is watching how far ``step`` has got. A no-op outside a graph run."""
    emit_event({"type": "progress", "step": step, "message": message, "percent": percent,
                **extra})


def emit_event(event: dict[str, Any]) -> None:
    """Stream ``event`` to the runner (stream_mode "custom"); logged outside a graph run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run (a node tested alone)
        log.debug("progress %s", event)
        return
    writer(event)
