"""`assistant kb`: the knowledge base, the sources content cites.

The CLI is the operator's tool: `assistant kb add FILE` adds to the shared scope, which every
person's `/kb` and every job's research reads (reference pages for everyone). With
``--user NAME`` it adds to that person's own knowledge base instead, with ``--workspace SLUG``
to a workspace's; those count against that person's or workspace's upload limits, as if they
had sent the file themselves. `list` and `search` show everything, with each source's scope.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from assistant.app.knowledge import scope_owner
from assistant.cli.common import check_cli_user, console, err, services
from assistant.errors import InputError
from assistant.tools.knowledge.scopes import SHARED, scope_of, user_scope, workspace_scope
from assistant.tools.knowledge.uploads import ScopedUploads

kb_app = typer.Typer(no_args_is_help=True, help="Your knowledge base: the sources content cites.")


@kb_app.command("add")
def kb_add(
    paths: list[Path] = typer.Argument(..., help="Files: .md .txt .html .pdf"),
    user: str | None = typer.Option(None, "--user", help="Into this person's own knowledge "
                                    "base (default: the shared one, read by everyone)."),
    workspace: str | None = typer.Option(None, "--workspace", help="Into this workspace's "
                                         "knowledge base (its slug)."),
) -> None:
    """Add files to the knowledge base (shared by default)."""
    if user and workspace:
        raise InputError("--user and --workspace: give one of them (or neither, for shared)")
    with services() as svc:
        scope = SHARED
        if user:
            check_cli_user(svc.settings, user)
            scope = user_scope(svc.repo.ensure_user(user))
        elif workspace:
            found = workspace_scope(svc.db, workspace)
            if found is None:
                raise InputError(f"--workspace {workspace}: no workspace has that slug")
            scope = found
        uploads = ScopedUploads(svc.kb(), svc.db, svc.settings)
        owner = f"{user}'s knowledge base" if user else scope_owner(svc, scope)
        results = uploads.add(paths, scope, owner)
    failed = 0
    for r in results:
        if r.status == "error":
            failed += 1
            err.print(f"[red]✗[/] {r.path}: {r.message}")
        else:
            console.print(f"[green]✓[/] {r.path}: {r.status}, {r.chunks} chunks ({r.source_id})")
    if failed == len(results):
        raise SystemExit(1)


@kb_app.command("list")
def kb_list() -> None:
    """List the sources in the knowledge base, with whose they are."""
    with services() as svc:
        kb = svc.kb()
        sources = kb.sources()
        scopes = {s.id: scope_of(kb.entry(s.id) or {}) for s in sources}
    table = Table("id", "title", "file", "scope")
    for s in sources:
        table.add_row(s.id, s.title, s.uri, scopes[s.id])
    console.print(table if sources else "the knowledge base is empty: `assistant kb add FILE`")


@kb_app.command("search")
def kb_search(query: str, k: int = typer.Option(5, help="How many passages.")) -> None:
    """Show the passages the research step would find for QUERY (in every scope)."""
    with services() as svc:
        kb = svc.kb()
        hits = kb.search(query, k=k)
        titles = {s.id: s.title for s in kb.sources()}
    if not hits:
        console.print("nothing relevant found")
    for hit in hits:
        console.print(f"[bold]{hit.score:.2f}[/] {titles.get(hit.source_id, hit.source_id)}"
                      f" — {hit.heading}\n   {hit.text[:300]}")
