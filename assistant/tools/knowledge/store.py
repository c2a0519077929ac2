"""The knowledge base: the user's documents, chunked, embedded and searchable in Qdrant.

Qdrant runs in local mode on disk by default (``<data_dir>/qdrant``) or as a server when
``Settings.qdrant_url`` is set. Each added file is copied under ``<data_dir>/kb/files`` so
citations point at a file that stays, and listed in ``<data_dir>/kb/sources.json`` (the
manifest, written atomically), the source of truth for what the knowledge base holds.

Every source has a scope (:mod:`.scopes`: shared, a person's, a workspace's), kept in its
manifest entry and its points' payload; reading with ``scopes`` sees only those, filtered in
Qdrant itself. A source's id comes from the file's sha256 (and its scope, unless shared),
and its points' ids from (source id, chunk index), so adding the same file again to the same
scope changes nothing, and two people adding one file get a copy each. A file whose name
matches a source already held in its scope, with different content, replaces that source.

Local mode locks its folder: one process at a time. Inside a process every KnowledgeBase
on the same folder shares one client, so instances may overlap; close them (or use
``with``) to release the lock. The Qdrant side (connecting, the shared client, the
collection, points) is :class:`storage.vectors.VectorStore`; this module keeps what makes
it a knowledge base: files, the manifest, chunking and embedding.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from assistant.content import Finding, Source
from assistant.errors import ConfigError, InputError
from assistant.tools.knowledge.embeddings import Embedder, get_embedder
from assistant.tools.knowledge.loaders import (
    SUPPORTED_SUFFIXES,
    Document,
    check_file,
    chunk_sections,
    parse_document,
    read_file,
)
from assistant.tools.knowledge.manifest import Manifest, atomic_write, entry_size, uri_path
from assistant.tools.knowledge.scopes import SHARED, scope_of
from storage.vectors import (
    VectorPoint,
    VectorSizeMismatch,
    VectorStore,
    VectorStoreLocked,
    VectorStoreUnavailable,
)

log = logging.getLogger(__name__)

SAMPLE_KB_DIR = Path(__file__).resolve().parents[2] / "data" / "sample_kb"
_POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "agenticai-lab/knowledge")

AddStatus = Literal["added", "unchanged", "updated", "error"]


@dataclass
class AddResult:
    path: Path
    source_id: str = ""
    title: str = ""
    chunks: int = 0
    status: AddStatus = "added"
    message: str = ""


def source_id_for(sha256: str, scope: str = SHARED) -> str:
    """Shared sources keep the ids they had before scopes; a scoped one's id names its
    scope too, so the same file in two scopes is two sources."""
    if scope == SHARED:
        return f"src-{sha256[:10]}"
    return f"src-{hashlib.sha256(f'{scope}:{sha256}'.encode()).hexdigest()[:10]}"


def point_id(source_id: str, chunk_index: int) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{source_id}:{chunk_index}"))


def _safe_name(name: str) -> str:
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "document"
    return f"{stem[:80]}{re.sub(r'[^A-Za-z0-9.]', '', suffix).lower()}"


class KnowledgeBase:
    """Add documents, search them, list and remove sources. Usable as a context manager."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder: Embedder = embedder or get_embedder()
        self.collection = settings.qdrant_collection
        self.files_dir = settings.kb_dir / "files"
        self.manifest_path = settings.kb_dir / "sources.json"
        self._manifest = Manifest(self.manifest_path)
        self._scopes_checked = False
        self._store = VectorStore(
            self.collection,
            self.embedder.dim,
            path=settings.resolved_data_dir / "qdrant",
            url=settings.qdrant_url,
        )

    # --- lifecycle --------------------------------------------------------------------------

    def connect(self) -> None:
        """Open Qdrant now (otherwise on first use); ConfigError if it is unusable."""
        self._open()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> VectorStore:
        """The shared store (connected on first use) with the collection ready."""
        store = self._store
        try:
            store.connect()
            with store.lock:
                created = store.ensure_collection()
                if created and self._read_manifest():
                    log.info("knowledge base: collection %s is new, re-indexing", self.collection)
                    self.reindex()
                if not self._scopes_checked:  # points from before scopes are shared ones
                    self._scopes_checked = True
                    store.mark_unscoped(SHARED)
        except VectorStoreUnavailable as exc:
            raise ConfigError(
                f"the Qdrant server at {exc.url} is unreachable: start it, or unset "
                "ASSISTANT_QDRANT_URL to use the local knowledge base",
                detail=exc.reason,
            ) from exc.__cause__
        except VectorStoreLocked as exc:
            raise ConfigError(
                f"the knowledge base at {exc.path} is in use by another process: stop it, or set "
                "ASSISTANT_QDRANT_URL to a Qdrant server for shared use",
                detail=exc.reason,
            ) from exc.__cause__
        except VectorSizeMismatch as exc:
            raise ConfigError(
                f"the Qdrant collection '{exc.collection}' holds {exc.stored}-d vectors but the "
                f"embedder makes {exc.expected}-d ones: set ASSISTANT_QDRANT_COLLECTION "
                "to a new name"
            ) from exc
        return store

    # --- manifest ---------------------------------------------------------------------------

    def _read_manifest(self) -> list[dict[str, Any]]:
        return self._manifest.read()

    def _write_manifest(self, entries: list[dict[str, Any]]) -> None:
        self._manifest.write(entries)

    def _entries(self, scopes: Collection[str] | None) -> list[dict[str, Any]]:
        """Manifest entries, all or those in ``scopes``."""
        entries = self._read_manifest()
        return entries if scopes is None else [e for e in entries if scope_of(e) in scopes]

    # --- reading ------------------------------------------------------------------------------

    def sources(self, scopes: Collection[str] | None = None) -> list[Source]:
        """Every source (the operator's view), or those in ``scopes`` (what a person sees)."""
        return [Source(id=e["id"], title=e["title"], uri=e["uri"]) for e in self._entries(scopes)]

    def names(self, scopes: Collection[str] | None = None) -> dict[str, str]:
        """Each source's original file name (its ``uri`` is our stored copy), by id."""
        return {e["id"]: str(e.get("name") or "") for e in self._entries(scopes)}

    def held_bytes(self, scope: str) -> int:
        """What the sources of one scope take, in bytes (their files as added)."""
        return sum(entry_size(e) for e in self._entries([scope]))

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources() if s.id == source_id), None)

    def entry(self, source_id: str) -> dict[str, Any] | None:
        """A copy of a source's manifest entry (name, kind, sha256, added_at, ...)."""
        found = next((e for e in self._read_manifest() if e["id"] == source_id), None)
        return dict(found) if found is not None else None

    def document(self, source_id: str) -> Document | None:
        """A source's text, parsed again from its stored copy (None if it is gone)."""
        entry = self.entry(source_id)
        stored = uri_path(entry["uri"]) if entry is not None else None
        if entry is None or stored is None or not stored.is_file():
            return None
        doc = parse_document(stored.read_bytes(), Path(entry.get("name") or stored.name))
        doc.title = entry["title"]
        return doc

    def is_empty(self) -> bool:
        return not self._read_manifest()

    def count_chunks(self, source_id: str | None = None) -> int:
        """Points stored in Qdrant, for one source or all."""
        return self._open().count(source_id)

    def search(
        self, query: str, k: int | None = None, min_score: float | None = None,
        *, scopes: Collection[str] | None = None,
    ) -> list[Finding]:  # fmt: skip
        """The passages closest to ``query``, best first, scoring at least ``min_score``;
        with ``scopes``, only from sources in them."""
        if not query.strip():
            return []
        k = self.settings.research_top_k if k is None else k
        min_score = self.settings.research_min_score if min_score is None else min_score
        vector = self.embedder.embed([query])[0]
        store = self._open()
        with store.lock:
            known = {e["id"] for e in self._entries(scopes)}
            if not known:
                return []
            hits = store.search(vector.tolist(), limit=k, min_score=min_score,
                                scopes=None if scopes is None else sorted(scopes))
        findings = []
        for hit in hits:
            payload = hit.payload
            if payload.get("source_id") not in known:  # left over from an interrupted change
                continue
            findings.append(
                Finding(
                    text=payload.get("text", ""),
                    source_id=payload["source_id"],
                    heading=payload.get("heading", ""),
                    score=float(hit.score),
                    chunk_index=int(payload.get("chunk_index", 0)),
                )
            )
        return findings

    # --- writing ------------------------------------------------------------------------------

    def add(self, paths: Iterable[Path | str], *, scope: str = SHARED) -> list[AddResult]:
        """Add files; a problem with one file is reported in its result, the rest go on."""
        return [self.add_file(Path(p), scope=scope) for p in paths]

    def add_file(self, path: Path, *, name: str | None = None, scope: str = SHARED) -> AddResult:
        """Add one file to ``scope``; ``name`` is its user-facing file name (default: the
        path's name)."""
        path = Path(path).expanduser()
        name = name or path.name
        try:
            kind = check_file(path, name)
            data = read_file(path)
            sha = hashlib.sha256(data).hexdigest()
            sid = source_id_for(sha, scope)
            existing = next((e for e in self._read_manifest() if e["id"] == sid), None)
            if existing is not None:
                self._repair(existing)
                return AddResult(
                    path, sid, existing["title"], existing["chunks"], "unchanged",
                    f"already in the knowledge base as '{existing['title']}'",
                )  # fmt: skip
            doc = parse_document(data, path.with_name(name), kind)
        except InputError as exc:
            return AddResult(path, status="error", message=exc.user_message)
        stored = self.files_dir / f"{sid}-{_safe_name(name)}"
        points = self._points(doc, sid, stored, scope)
        store = self._open()
        with store.lock:
            atomic_write(stored, data)
            try:
                store.upsert(points)
            except Exception:
                stored.unlink(missing_ok=True)
                raise
            entries = self._read_manifest()
            replaced = [e for e in entries if e.get("name") == name and e["id"] != sid
                        and scope_of(e) == scope]  # fmt: skip
            entries = [e for e in entries if e not in replaced and e["id"] != sid]
            entries.append(
                {
                    "id": sid,
                    "title": doc.title,
                    "uri": stored.as_uri(),
                    "original_path": str(path.resolve()),
                    "name": name,
                    "kind": doc.kind,
                    "sha256": sha,
                    "scope": scope,
                    "size": len(data),
                    "chunks": len(points),
                    "added_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
            self._write_manifest(entries)
            for old in replaced:
                self._drop(store, old)
        status: AddStatus = "updated" if replaced else "added"
        message = f"{len(points)} passage{'s' if len(points) != 1 else ''} from '{doc.title}'"
        if replaced:
            message += f" (replaces {', '.join(e['id'] for e in replaced)})"
        return AddResult(path, sid, doc.title, len(points), status, message)

    def remove(self, source_id: str) -> bool:
        """Forget a source: its passages, its stored copy and its manifest entry."""
        store = self._open()
        with store.lock:
            entries = self._read_manifest()
            entry = next((e for e in entries if e["id"] == source_id), None)
            if entry is None:
                return False
            self._write_manifest([e for e in entries if e["id"] != source_id])
            self._drop(store, entry)
        return True

    def reindex(self) -> int:
        """Embed every source again from its stored copy; returns the number of passages."""
        total = 0
        for entry in self._read_manifest():
            total += self._repair(entry, force=True)
        return total

    def seed_sample_if_empty(self) -> list[AddResult]:
        """Add the bundled sample pages when the knowledge base has no sources (if enabled)."""
        if not self.settings.seed_sample_kb or not self.is_empty() or not SAMPLE_KB_DIR.is_dir():
            return []
        files = sorted(
            p
            for p in SAMPLE_KB_DIR.iterdir()
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        )
        return self.add(files)

    # --- helpers ------------------------------------------------------------------------------

    def _points(self, doc: Document, sid: str, stored: Path, scope: str) -> list[VectorPoint]:
        chunks = chunk_sections(doc)
        # The heading gives a passage its context; the document title would make every
        # passage of a document score alike (measured: worse ranking inside a document).
        texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for c in chunks]
        vectors = self.embedder.embed(texts)
        return [
            VectorPoint(
                id=point_id(sid, chunk.index),
                vector=vector.tolist(),
                payload={
                    "source_id": sid,
                    "scope": scope,
                    "title": doc.title,
                    "uri": stored.as_uri(),
                    "heading": chunk.heading,
                    "text": chunk.text,
                    "chunk_index": chunk.index,
                },
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]

    def _repair(self, entry: dict[str, Any], *, force: bool = False) -> int:
        """Re-index a source from its stored copy when its points are missing (or ``force``)."""
        if not force and self.count_chunks(entry["id"]) == entry["chunks"]:
            return int(entry["chunks"])
        stored = uri_path(entry["uri"])
        if stored is None or not stored.is_file():
            log.warning("knowledge base: stored copy of %s is missing", entry["id"])
            return 0
        doc = parse_document(stored.read_bytes(), Path(entry.get("name") or stored.name))
        doc.title = entry["title"]
        points = self._points(doc, entry["id"], stored, scope_of(entry))
        store = self._open()
        with store.lock:
            store.delete_source(entry["id"])
            store.upsert(points)
            if len(points) != entry["chunks"]:  # the chunker changed since it was added
                entries = self._read_manifest()
                for e in entries:
                    if e["id"] == entry["id"]:
                        e["chunks"] = len(points)
                self._write_manifest(entries)
        return len(points)

    def _drop(self, store: VectorStore, entry: dict[str, Any]) -> None:
        store.delete_source(entry["id"])
        stored = uri_path(entry["uri"])
        if stored is not None and stored.parent == self.files_dir:
            stored.unlink(missing_ok=True)
