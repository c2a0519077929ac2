"""`assistant apikey` (create, list, revoke REST API keys) and `assistant api` (serve the
REST API alone; `assistant chat` serves it too, at /api/v1)."""

from __future__ import annotations

import typer

from assistant.cli.common import check_cli_user, console, services
from assistant.config import Settings

apikey_app = typer.Typer(no_args_is_help=True,
                         help="REST API keys (`Authorization: Bearer KEY`).")

DEFAULT_API_PORT = 8001  # beside the web chat's 8000


@apikey_app.command("create")
def apikey_create(
    user: str = typer.Argument(..., help="The user the key acts as (created if new)."),
    name: str = typer.Option("", "--name", help="A label to tell your keys apart."),
) -> None:
    """Create a key for USER; it is printed once, on the last line, and never again."""
    from assistant.api.keys import ApiKeys

    check_cli_user(Settings(), user)
    with services() as svc:
        info, key = ApiKeys(svc.db).create(user, name)
    console.print(f"created API key {info.id} ({info.prefix}…) for {info.username}; "
                  "store it now, it is not shown again:")
    print(key, flush=True)  # plain print: no wrapping or markup around the key


@apikey_app.command("list")
def apikey_list(user: str = typer.Argument(..., help="Whose keys.")) -> None:
    """USER's keys: id, prefix, name, when made and last used, and whether revoked."""
    from assistant.api.keys import ApiKeys

    check_cli_user(Settings(), user)
    with services() as svc:
        keys = ApiKeys(svc.db).list_for(user)
    if not keys:
        console.print(f"{user} has no API keys: `assistant apikey create {user}` makes one")
        return
    for k in keys:
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never used"
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        label = f" {k.name!r}" if k.name else ""
        console.print(f"{k.id}  {k.prefix}…{label}  created {k.created_at:%Y-%m-%d %H:%M}  "
                      f"{used}  {state}")


@apikey_app.command("revoke")
def apikey_revoke(key_id: str = typer.Argument(..., help="The key's id (`apikey list`).")
                  ) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from assistant.api.keys import ApiKeys

    with services() as svc:
        keys = ApiKeys(svc.db)
        owner = keys.owner_of(key_id)
        check_cli_user(svc.settings, owner)
        info = keys.revoke(key_id)
    console.print(f"revoked {info.id} ({info.prefix}…) of {info.username}")


def api(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(DEFAULT_API_PORT, help="Port."),
) -> None:
    """Serve the REST API alone (uvicorn); `assistant chat` also serves it at /api/v1."""
    from assistant.api.serve import serve
    from assistant.infra.preflight import prepare_long_running

    settings = Settings()
    prepare_long_running(settings)
    raise SystemExit(serve(settings, host, port))
