"""`assistant privacy`: a person's data, exported as a zip or deleted (PRD section 8.2).

The operator's tool for the requests people send by mail: `assistant privacy export USER`
writes the same zip `/export` gives in chat; `assistant privacy delete USER --yes` deletes
what `/delete-my-data` deletes. Acting on someone else is for a local admin only.
"""

from __future__ import annotations

import typer

from assistant.cli.common import check_cli_user, console, services
from assistant.errors import InputError

privacy_app = typer.Typer(no_args_is_help=True,
                          help="A person's data: export it or delete it (GDPR requests).")


@privacy_app.command("export")
def privacy_export(user: str = typer.Argument(..., help="The username (as `assistant jobs` "
                                              "shows it, e.g. alice or telegram:42).")) -> None:
    """Write a zip of USER's rows, job files and knowledge-base documents; print its path."""
    from assistant.app.data_rights import Privacy

    with services() as svc:
        check_cli_user(svc.settings, user)
        path = Privacy(svc).export(user)
    console.print(f"exported {user}'s data to:")
    console.print(str(path), soft_wrap=True, highlight=False)


@privacy_app.command("delete")
def privacy_delete(
    user: str = typer.Argument(..., help="The username whose data goes."),
    yes: bool = typer.Option(False, "--yes", help="Really delete: it cannot be undone."),
) -> None:
    """Delete everything of USER: rows, job files, documents and their vectors, checkpoints."""
    from assistant.app.data_rights import Privacy

    if not yes:
        raise InputError(f"this deletes all of {user}'s data for good: add --yes to go ahead "
                         f"(`assistant privacy export {user}` first keeps a copy)")
    with services() as svc:
        check_cli_user(svc.settings, user)
        done = Privacy(svc).delete(user)
    console.print(f"deleted {user}: {done.jobs} jobs, {done.files} files, "
                  f"{done.knowledge_sources} documents, {sum(done.rows.values())} rows")
