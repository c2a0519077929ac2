"""`assistant kb`: the knowledge base, the sources content cites."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from assistant.cli.common import console, err, services

kb_app = typer.Typer(no_args_is_help=True, help="Your knowledge base: the sources content cites.")


@kb_app.command("add")
def kb_add(paths: list[Path] = typer.Argument(..., help="Files: .md .txt .html .pdf")) -> None:
    """Add files to the knowledge base."""
    with services() as svc:
        results = svc.kb().add(paths)
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
    """List the sources in the knowledge base."""
    with services() as svc:
        sources = svc.kb().sources()
    table = Table("id", "title", "file")
    for s in sources:
        table.add_row(s.id, s.title, s.uri)
    console.print(table if sources else "the knowledge base is empty: `assistant kb add FILE`")


@kb_app.command("search")
def kb_search(query: str, k: int = typer.Option(5, help="How many passages.")) -> None:
    """Show the passages the research step would find for QUERY."""
    with services() as svc:
        kb = svc.kb()
        hits = kb.search(query, k=k)
        titles = {s.id: s.title for s in kb.sources()}
    if not hits:
        console.print("nothing relevant found")
    for hit in hits:
        console.print(f"[bold]{hit.score:.2f}[/] {titles.get(hit.source_id, hit.source_id)}"
                      f" — {hit.heading}\n   {hit.text[:300]}")
