"""The media library's errors: one small hierarchy, user message separate from log detail.

Every error carries ``user_message``: one line a person can act on (what is wrong and what to
do). ``detail`` holds the technical cause for logs and is never shown to the user by default.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any


class MediaError(Exception):
    """Base class of every error the media library raises on purpose."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        first_line = " ".join(message.split())
        super().__init__(first_line)
        self.user_message = first_line
        self.detail = detail

    def __str__(self) -> str:
        return self.user_message


class MediaInputError(MediaError, ValueError):
    """A bad input: a missing, empty, zero-length or corrupt file, or empty text to speak."""

    def __init__(
        self, problem: str, *, path: str | Path | None = None, detail: str | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        where = f" {self.path}" if self.path is not None else ""
        super().__init__(f"Bad media input{where}: {problem}", detail=detail)


class BackendUnavailable(MediaError):
    """A configured engine whose package, model files or hardware are missing here."""

    def __init__(self, backend: str, message: str, *, detail: str | None = None) -> None:
        self.backend = backend
        super().__init__(message, detail=detail)


class UnknownBackend(MediaError, ValueError):
    """A configured engine name that no provider registers."""

    def __init__(self, capability: str, name: str, known: list[str]) -> None:
        self.capability = capability
        self.name = name
        self.known = sorted(known)
        super().__init__(
            f"Unknown {capability} engine {name!r}: configure one of {', '.join(self.known)}"
        )


_DEBIAN_PACKAGES = {"ffprobe": "ffmpeg", "espeak-ng": "espeak-ng"}


class ToolMissing(MediaError):
    """An external program (ffmpeg, ffprobe, espeak-ng) is not on PATH."""

    def __init__(self, tool: str, *, install_hint: str | None = None) -> None:
        self.tool = tool
        package = _DEBIAN_PACKAGES.get(tool, tool)
        hint = install_hint or f"install it (Debian: apt-get install {package}) or put it on PATH"
        super().__init__(f"{tool} not found: {hint}")


def check_options(capability: str, name: str, provider: Any, options: dict[str, Any]) -> None:
    """Raise a clear error when a configured option is not one the provider takes."""
    try:
        inspect.signature(provider).bind(**options)
    except TypeError as exc:
        raise MediaError(
            f"{capability} engine {name!r} does not accept options {sorted(options)}: {exc}"
        ) from exc
