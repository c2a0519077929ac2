"""What the web chat's callbacks and sessions share, built once by
:func:`assistant.channels.web.app.serve` (its own module, so a session needs nothing of the
app module that creates it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.app.conversation import Conversation
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services
    from assistant.config import Settings


@dataclass
class WebApp:
    """What the callbacks share: built once by :func:`~assistant.channels.web.app.serve`."""

    settings: Settings
    svc: Services
    runner: JobRunner
    conv: Conversation
