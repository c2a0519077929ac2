"""The assistant's error hierarchy.

Each error carries a ``user_message``: one line a person can act on, shown by the
CLI and the chat channels. Details for logs go in the exception's args / cause,
never secrets.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: something the user can be told about in one line."""

    exit_code = 1

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class InputError(AssistantError):
    """The request itself is invalid (empty topic, unknown format, ...)."""

    exit_code = 2


class ConfigError(AssistantError):
    """A backend is configured but unusable (missing package, unreachable server)."""


class JobNotFound(AssistantError):
    """No job with that id."""


class JobStateError(AssistantError):
    """The job exists but cannot do what was asked (already finished, ...)."""


class StepError(AssistantError):
    """A pipeline step failed; the job keeps its state and can be resumed."""

    def __init__(self, step: str, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(f"{step}: {user_message}", detail=detail)
        self.step = step


class ModelOutputError(AssistantError):
    """The language model's output never validated against the expected schema."""


class NoSourcesError(AssistantError):
    """Research found nothing to ground the content in."""


class StorageFullError(AssistantError):
    """The disk is full while writing a file."""


class ResearchUnavailable(AssistantError):
    """A configured research service cannot be reached or answered with an error."""


class FetchRefused(AssistantError):
    """A page research must not or cannot read (private address, robots.txt, too big,
    not text)."""
