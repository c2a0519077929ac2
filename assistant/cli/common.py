"""What every command group shares: the consoles and the services a command opens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from assistant.app.studio import Services
from assistant.config import Settings
from assistant.errors import InputError

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def services() -> Iterator[Services]:
    svc = Services.create(Settings())
    try:
        yield svc
    finally:
        svc.close()


def is_local_admin(settings: Settings, uid: int | None = None) -> bool:
    """Whether the OS user running the CLI (``uid``, default: the effective one) administers
    this installation: root, the owner of the data dir (or the one about to create it), or
    anyone where ASSISTANT_CLI_ADMIN=true."""
    if settings.cli_admin:
        return True
    uid = os.geteuid() if uid is None else uid
    if uid == 0:
        return True
    try:
        return settings.resolved_data_dir.stat().st_uid == uid
    except FileNotFoundError:
        return True  # nothing there yet to act on: the first command makes it theirs
    except OSError:  # not even allowed to look at it
        return False


def check_cli_user(settings: Settings, user: str | None, uid: int | None = None) -> None:
    """``--user X`` acts as X only for a local admin: the CLI is the operator's tool, and
    anyone else on the machine would otherwise approve or read other people's jobs."""
    if user is not None and user != settings.default_user and not is_local_admin(
            settings, uid):
        raise InputError(f"--user {user}: only a local admin may act as another user (root, "
                         "the owner of the data dir, or ASSISTANT_CLI_ADMIN=true)")
