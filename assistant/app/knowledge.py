"""The knowledge base as a person sees it in a chat: `/kb` lists (and `/kb WORDS` searches)
only the sources they may read, and the files they send go into their own scope, within its
limits (:mod:`assistant.tools.knowledge.uploads`).

Scopes are :mod:`assistant.tools.knowledge.scopes`: shared (the operator's), the person's
own, and each workspace they are in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from assistant.app import commands as cmd
from assistant.graph.services import Services
from assistant.tools.knowledge import KnowledgeBase
from assistant.tools.knowledge.scopes import SHARED, user_scope, visible_scopes
from assistant.tools.knowledge.uploads import ScopedUploads
from storage.models import Organization

SEARCH_RESULTS = 5
SNIPPET_CHARS = 200


def scope_owner(svc: Services, scope: str) -> str:
    """Who a scope's limits belong to, for messages."""
    kind, _, ident = scope.partition(":")
    if kind == "org":
        with svc.db.session() as s:
            name = s.scalar(select(Organization.name).where(Organization.id == uuid.UUID(ident)))
        return f"workspace {name or ident}"
    return "the shared knowledge base" if scope == SHARED else "your knowledge base"


def add_files(kb: KnowledgeBase, svc: Services, username: str, paths: Iterable[Path]) -> str:
    """A person's files into their own knowledge base; one line per file."""
    scope = user_scope(svc.repo.ensure_user(username))
    uploads = ScopedUploads(kb, svc.db, svc.settings)
    return cmd.format_add_results(uploads.add(paths, scope, scope_owner(svc, scope)))


def kb_reply(kb: KnowledgeBase, svc: Services, username: str, words: str) -> str:
    """`/kb`: the sources this person may read; `/kb WORDS`: the passages nearest WORDS."""
    scopes = visible_scopes(svc.db, svc.repo.ensure_user(username))
    if not words.strip():
        return cmd.format_sources(kb.sources(scopes), kb.names(scopes))
    findings = kb.search(words, k=SEARCH_RESULTS, scopes=scopes)
    if not findings:
        return f"Nothing in your knowledge base is about “{words.strip()}”."
    titles = {s.id: s.title for s in kb.sources(scopes)}
    lines = []
    for f in findings:
        snippet = " ".join(f.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        heading = f" — {f.heading}" if f.heading else ""
        lines.append(f"• {titles.get(f.source_id, f.source_id)}{heading}: {snippet}")
    return f"Closest passages for “{words.strip()}”:\n" + "\n".join(lines)
