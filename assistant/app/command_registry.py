"""Slash commands beyond the core job commands, one module per area under
:mod:`assistant.app.groups` (publishing accounts, reports, billing, privacy, ...).

A group module registers its commands with :func:`register`; :mod:`assistant.app.commands`
parses them and lists them in /help, and :class:`~assistant.app.conversation.Conversation`
dispatches them with a :class:`CommandContext`. Keeping them here keeps the core parser and
the conversation small, and lets each area own its own module and tests.

A group module may import this module, :mod:`assistant.app.events`, :mod:`assistant.app.studio`
and anything below the app layer; never :mod:`assistant.app.commands` or the conversation
(they import the groups).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.app.events import ChannelUser, OutEvent

if TYPE_CHECKING:
    from assistant.app.identity import IdentityLinks
    from assistant.graph.services import Services


@dataclass(frozen=True)
class CommandContext:
    """What a group command is given: the services, who asked, and their identity links."""

    svc: Services
    user: ChannelUser
    username: str  # the profile the user acts as (linked identities share one)
    identities: IdentityLinks
    extras: dict[str, object] = field(default_factory=dict)  # channel-specific, e.g. a reply hook


Handler = Callable[[CommandContext, str], list[OutEvent]]


@dataclass(frozen=True)
class GroupCommand:
    name: str
    usage: str  # "/connect PLATFORM ... — connect an account", shown by /help
    run: Handler
    # True when the arguments are secret (an application password): channels ask for them in
    # a private message or a modal, and never echo or log the text
    secret_args: bool = False


REGISTRY: dict[str, GroupCommand] = {}


def register(name: str, usage: str, *, secret_args: bool = False) -> Callable[[Handler], Handler]:
    """Decorator: ``@register("platforms", "/platforms — your connected accounts")``."""

    def wrap(run: Handler) -> Handler:
        if name in REGISTRY:
            raise ValueError(f"command /{name} is registered twice")
        REGISTRY[name] = GroupCommand(name, usage, run, secret_args)
        return run

    return wrap


# --- secret answers ---------------------------------------------------------------------------
# A command whose argument is secret (secret_args: /connect wordpress's application password)
# asks for it with ask_secret(); the conversation gives the person's next message to the
# answer before anything else (a slash command instead cancels the question), and never
# echoes, logs or keeps it. The reply carries data["forget_message"] = True: a channel that
# can delete the person's message (Telegram, Discord) or keeps a history (the web chat) drops
# it. Questions live in this process for SECRET_TTL_S, like the other pending questions.
SECRET_TTL_S = 300.0
SecretAnswer = Callable[[str], list[OutEvent]]
_SECRETS: dict[ChannelUser, tuple[float, SecretAnswer]] = {}
_SECRETS_LOCK = threading.Lock()


def ask_secret(user: ChannelUser, answer: SecretAnswer) -> None:
    """Hand ``user``'s next message to ``answer`` (once, within SECRET_TTL_S)."""
    with _SECRETS_LOCK:
        _SECRETS[user] = (time.monotonic() + SECRET_TTL_S, answer)


def take_secret_answer(user: ChannelUser) -> SecretAnswer | None:
    """The question waiting for ``user``'s secret, removed; None when there is none."""
    with _SECRETS_LOCK:
        found = _SECRETS.pop(user, None)
    if found is None or found[0] < time.monotonic():
        return None
    return found[1]
