"""The vector store: one Qdrant collection of embedded passages, searchable by similarity.

``VectorStore(collection, vector_size, path=...)`` keeps Qdrant in local mode on disk (in
that folder); with ``url=...`` it talks to a Qdrant server instead. It connects on first use
(or at :meth:`VectorStore.connect`) and checks the collection then: it is created with
``vector_size``-d cosine vectors when missing, and one that holds vectors of another size
raises :class:`VectorSizeMismatch`. Every point's payload carries a ``source_id``, so the
points of one source can be counted and deleted together, and a ``scope`` (who may read it:
``shared``, ``user:<id>``, ``org:<id>``): a search given ``scopes`` is filtered inside Qdrant
(a payload filter, also in local mode), so a passage of another scope is never even scored.

Local mode locks its folder: one process at a time; a folder held by another process raises
:class:`VectorStoreLocked`, an unreachable server :class:`VectorStoreUnavailable`, each with
a one-line message. Inside a process every VectorStore on the same folder (or URL) shares one
client and one re-entrant lock, so instances may overlap; each is closed on its own (or with
``with``) and the client is closed, releasing the folder, with the last one. Callers hold
:attr:`VectorStore.lock` to make several steps (theirs and the store's) one change.

``qdrant_client`` is imported on first use only: importing this module stays cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.errors import StorageError

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

CONNECT_TIMEOUT_S = 5
UPSERT_BATCH = 128
SOURCE_KEY = "source_id"  # the payload field that names a point's source
SCOPE_KEY = "scope"  # the payload field that names who may read a point


class VectorStoreUnavailable(StorageError):
    """The configured Qdrant server cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"the Qdrant server at {url} is unreachable: {reason}")


class VectorStoreLocked(StorageError):
    """The local store's folder is held by another process."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"the vector store at {self.path} is in use by another process")


class VectorSizeMismatch(StorageError):
    """The collection exists and holds vectors of another size than the store's."""

    def __init__(self, collection: str, stored: int | None, expected: int) -> None:
        self.collection = collection
        self.stored = stored
        self.expected = expected
        super().__init__(
            f"the Qdrant collection '{collection}' holds {stored}-d vectors, not {expected}-d"
        )


@dataclass(frozen=True)
class VectorPoint:
    """One passage to store: its id (a UUID string), its vector and its payload."""

    id: str
    vector: Sequence[float]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    """One search result: the point's id, its similarity score and its payload."""

    id: str
    score: float
    payload: dict[str, Any]


class _Handle:
    """One Qdrant client shared by every VectorStore on the same storage in this process."""

    def __init__(self, client: QdrantClient) -> None:
        self.client = client
        self.lock = threading.RLock()
        self.refs = 0
        self.ready: set[str] = set()  # collections checked/created


_HANDLES: dict[str, _Handle] = {}
_HANDLES_LOCK = threading.Lock()


def _connect(path: Path | None, url: str | None, timeout_s: int) -> QdrantClient:
    from qdrant_client import QdrantClient

    if url:
        client = QdrantClient(url=url, timeout=timeout_s, check_compatibility=False)
        try:
            client.get_collections()
        except Exception as exc:
            client.close()
            raise VectorStoreUnavailable(url, repr(exc)) from exc
        return client
    if path is None:
        raise ValueError("VectorStore needs a local path or a server url")
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(path), force_disable_check_same_thread=True)
    except RuntimeError as exc:  # the folder is locked by another process
        raise VectorStoreLocked(path, str(exc)) from exc


class VectorStore:
    """One collection in Qdrant (local folder or server). Usable as a context manager."""

    def __init__(
        self,
        collection: str,
        vector_size: int,
        *,
        path: Path | str | None = None,
        url: str | None = None,
        timeout_s: int = CONNECT_TIMEOUT_S,
    ) -> None:
        if not url and path is None:
            raise ValueError("VectorStore needs a local path or a server url")
        self.collection = collection
        self.vector_size = vector_size
        self.url = url or None
        self.path = Path(path) if path is not None else None
        self.timeout_s = timeout_s
        # the storage this store shares a client with
        self.key = f"url:{self.url}" if self.url else f"path:{self.path}"
        self._handle: _Handle | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def is_server(self) -> bool:
        return self.url is not None

    def connect(self) -> None:
        """Open the shared client now (otherwise on first use).

        Raises VectorStoreUnavailable (server) or VectorStoreLocked (local folder)."""
        self._connected()

    @property
    def lock(self) -> threading.RLock:
        """The re-entrant lock shared by every store on this storage (connects on first use)."""
        return self._connected().lock

    def close(self) -> None:
        with _HANDLES_LOCK:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            handle.refs -= 1
            if handle.refs <= 0:
                _HANDLES.pop(self.key, None)
                handle.client.close()

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connected(self) -> _Handle:
        with _HANDLES_LOCK:
            if self._handle is None:
                handle = _HANDLES.get(self.key)
                if handle is None:
                    handle = _HANDLES[self.key] = _Handle(
                        _connect(self.path, self.url, self.timeout_s)
                    )
                handle.refs += 1
                self._handle = handle
            return self._handle

    def ensure_collection(self) -> bool:
        """Check the collection (create it when missing), once per process and storage.

        True when this call created it; VectorSizeMismatch when it holds other vectors."""
        from qdrant_client import models

        handle = self._connected()
        with handle.lock:
            if self.collection in handle.ready:
                return False
            client = handle.client
            created = False
            if client.collection_exists(self.collection):
                vectors = client.get_collection(self.collection).config.params.vectors
                size = vectors.size if isinstance(vectors, models.VectorParams) else None
                if size != self.vector_size:
                    raise VectorSizeMismatch(self.collection, size, self.vector_size)
            else:
                client.create_collection(
                    self.collection,
                    vectors_config=models.VectorParams(
                        size=self.vector_size, distance=models.Distance.COSINE
                    ),
                )
                if self.is_server:  # payload indexes do nothing in local mode
                    for key in (SOURCE_KEY, SCOPE_KEY):
                        client.create_payload_index(
                            self.collection, key, field_schema=models.PayloadSchemaType.KEYWORD
                        )
                created = True
            handle.ready.add(self.collection)
            return created

    def _ready(self) -> _Handle:
        self.ensure_collection()
        assert self._handle is not None
        return self._handle

    # --- points -------------------------------------------------------------------------------

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Store ``points`` (replacing any with the same id), in batches."""
        from qdrant_client import models

        handle = self._ready()
        structs = [
            models.PointStruct(id=p.id, vector=_floats(p.vector), payload=p.payload) for p in points
        ]
        with handle.lock:
            for start in range(0, len(structs), UPSERT_BATCH):
                handle.client.upsert(self.collection, structs[start : start + UPSERT_BATCH])

    def delete_source(self, source_id: str) -> None:
        """Delete every point whose payload names ``source_id``."""
        handle = self._ready()
        with handle.lock:
            handle.client.delete(self.collection, points_selector=_source_filter(source_id))

    def count(self, source_id: str | None = None) -> int:
        """Points stored, for one source or all."""
        handle = self._ready()
        with handle.lock:
            result = handle.client.count(self.collection, count_filter=_source_filter(source_id))
        return int(result.count)

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        min_score: float | None = None,
        *,
        scopes: Sequence[str] | None = None,
    ) -> list[VectorHit]:
        """The ``limit`` points nearest ``vector``, best first, scoring at least ``min_score``;
        with ``scopes``, only points whose payload ``scope`` is one of them."""
        handle = self._ready()
        with handle.lock:
            points = handle.client.query_points(
                self.collection,
                query=_floats(vector),
                query_filter=_scope_filter(scopes),
                limit=limit,
                score_threshold=min_score,
                with_payload=True,
            ).points
        return [VectorHit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]


    def mark_unscoped(self, scope: str) -> None:
        """Give every point without a ``scope`` payload this one (points stored before
        scopes existed)."""
        from qdrant_client import models

        handle = self._ready()
        with handle.lock:
            handle.client.set_payload(
                self.collection,
                payload={SCOPE_KEY: scope},
                points=models.Filter(
                    must=[models.IsEmptyCondition(is_empty=models.PayloadField(key=SCOPE_KEY))]
                ),
            )


def _scope_filter(scopes: Sequence[str] | None) -> Any:
    from qdrant_client import models

    if scopes is None:
        return None
    return models.Filter(
        must=[models.FieldCondition(key=SCOPE_KEY, match=models.MatchAny(any=list(scopes)))]
    )


def _source_filter(source_id: str | None) -> Any:
    from qdrant_client import models

    if source_id is None:
        return None
    return models.Filter(
        must=[models.FieldCondition(key=SOURCE_KEY, match=models.MatchValue(value=source_id))]
    )


def _floats(vector: Sequence[float]) -> list[float]:
    return [float(x) for x in vector]  # plain floats, also from a numpy array
