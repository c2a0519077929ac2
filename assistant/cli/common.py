"""What every command group shares: the consoles and the services a command opens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from assistant.app.studio import Services
from assistant.config import Settings

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def services() -> Iterator[Services]:
    svc = Services.create(Settings())
    try:
        yield svc
    finally:
        svc.close()
