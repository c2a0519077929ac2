"""The `assistant` command: make content, review it in the terminal, inspect jobs, manage the KB.

One module per command group: :mod:`.make` (make, resume), :mod:`.jobs` (jobs, show),
:mod:`.serve` (chat, discord, telegram, worker), :mod:`.kb`, :mod:`.users`, :mod:`.apikey`
(apikey, api); what they share is
in :mod:`.common`.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from assistant.cli import jobs as jobs_commands
from assistant.cli import make as make_commands
from assistant.cli import serve as serve_commands
from assistant.cli.apikey import api as api_command
from assistant.cli.apikey import apikey_app
from assistant.cli.common import console, err, services
from assistant.cli.connect import connect as connect_command
from assistant.cli.kb import kb_app
from assistant.cli.privacy import privacy_app
from assistant.cli.users import user_app
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.infra.observability import configure_logging
from storage.errors import StorageError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="AgenticAI Lab: turn a topic into researched, reviewed, published content.")
app.add_typer(kb_app, name="kb")
for command in (make_commands.make, make_commands.resume, jobs_commands.jobs,
                jobs_commands.show, serve_commands.chat, serve_commands.discord,
                serve_commands.telegram, serve_commands.worker, connect_command):
    app.command()(command)
app.command()(serve_commands.scheduler)  # due posts, metrics, reports
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(privacy_app, name="privacy")
app.command(name="api")(api_command)

__all__ = ["app", "console", "err", "main", "services"]


def main() -> None:
    """Entry point: run the app, turning every known error into one clear line."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ASSISTANT_" + "_".join(str(p) for p in first["loc"]).upper()
        err.print(f"[bold red]error:[/] invalid setting {name}: {first['msg']}")
        raise SystemExit(2) from None
    configure_logging(settings.log_json, settings.log_level, settings=settings)
    try:
        app(standalone_mode=False)
    except AssistantError as exc:
        err.print(f"[bold red]error:[/] {exc.user_message}")
        raise SystemExit(exc.exit_code) from None
    except StorageError as exc:  # database down, disk full, ...: already one line
        err.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
