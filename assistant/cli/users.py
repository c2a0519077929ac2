"""`assistant user`: web-chat accounts (the `assistant chat` login)."""

from __future__ import annotations

import sys

import typer

from assistant.cli.common import console, services
from assistant.errors import InputError

user_app = typer.Typer(no_args_is_help=True, help="Web-chat accounts (`assistant chat` login).")


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="The account name (what you type to log in)."),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the password from this environment variable "
        "(default: the first line of stdin, or a prompt on a terminal)."),
) -> None:
    """Create a web-chat account, or set the password of an existing one."""
    import os

    from assistant.channels.web.auth import check_username, set_password

    name = check_username(name)
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise InputError(f"the environment variable {password_env} is not set")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline()
    with services() as svc:
        created = set_password(svc.db, name, password)
    console.print(f"{'created' if created else 'updated'} {name}: log in at `assistant chat`")
