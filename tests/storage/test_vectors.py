"""The vector store on real Qdrant local mode (a folder under tmp_path), small vectors."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import StorageError
from storage.vectors import (
    VectorPoint,
    VectorSizeMismatch,
    VectorStore,
    VectorStoreUnavailable,
)

DIM = 4


def _point(source: str, index: int, vector: list[float]) -> VectorPoint:
    return VectorPoint(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}:{index}")),
        vector=vector,
        payload={"source_id": source, "chunk_index": index},
    )


POINTS = [
    _point("a", 0, [1.0, 0.0, 0.0, 0.0]),
    _point("a", 1, [0.9, 0.1, 0.0, 0.0]),
    _point("b", 0, [0.0, 1.0, 0.0, 0.0]),
    _point("b", 1, [0.0, 0.0, 1.0, 0.0]),
    _point("b", 2, [0.0, 0.0, 0.0, 1.0]),
]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "qdrant"  # does not exist yet: the store creates it


@pytest.fixture
def store(path: Path) -> Iterator[VectorStore]:
    with VectorStore("passages", DIM, path=path) as vectors:
        yield vectors


def test_upsert_count_search_and_delete_by_source(store: VectorStore, path: Path) -> None:
    assert store.ensure_collection() is True and path.is_dir()
    assert store.ensure_collection() is False  # checked once per process
    assert store.count() == 0
    store.upsert(POINTS)
    store.upsert(POINTS[:2])  # same ids: replaced, not added
    assert store.count() == 5 and store.count("a") == 2 and store.count("b") == 3
    hits = store.search([1.0, 0.05, 0.0, 0.0], limit=3)
    assert [h.id for h in hits[:2]] == [POINTS[0].id, POINTS[1].id]
    assert hits[0].payload == {"source_id": "a", "chunk_index": 0}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [h.id for h in store.search([1.0, 0.0, 0.0, 0.0], limit=5, min_score=0.5)] == [
        POINTS[0].id,
        POINTS[1].id,
    ]
    store.delete_source("a")
    assert store.count("a") == 0 and store.count() == 3
    assert all(h.payload["source_id"] == "b" for h in store.search([1.0, 0, 0, 0], limit=5))
    store.delete_source("nothing")  # no points: nothing happens
    assert store.count() == 3


def test_many_points_go_in_batches(store: VectorStore) -> None:
    many = [_point("big", i, [1.0, float(i % 7), 0.5, 0.0]) for i in range(300)]
    store.upsert(many)
    assert store.count("big") == 300


def test_points_persist_and_the_vector_size_is_checked(path: Path) -> None:
    with VectorStore("passages", DIM, path=path) as first:
        first.upsert(POINTS)  # creates the collection on first use
    with VectorStore("passages", DIM, path=path) as again:
        assert again.ensure_collection() is False and again.count() == 5
    with (
        VectorStore("passages", DIM + 1, path=path) as other,
        pytest.raises(VectorSizeMismatch) as caught,
    ):
        other.count()
    assert caught.value.stored == DIM and caught.value.expected == DIM + 1
    assert isinstance(caught.value, StorageError)
    assert "'passages' holds 4-d vectors, not 5-d" in str(caught.value)


def test_stores_on_one_folder_share_the_client(store: VectorStore, path: Path) -> None:
    store.upsert(POINTS)
    with VectorStore("passages", DIM, path=path) as other:  # store is still open
        assert other.lock is store.lock
        assert other.count() == 5
    assert store.count("b") == 3  # still usable after the other one closed
    with VectorStore("elsewhere", DIM, path=path) as second_collection:
        assert second_collection.count() == 0 and second_collection.lock is store.lock


def test_close_is_idempotent_and_the_store_reopens(path: Path) -> None:
    vectors = VectorStore("passages", DIM, path=path)
    vectors.upsert(POINTS[:1])
    vectors.close()
    vectors.close()
    assert vectors.count() == 1  # opens again on use
    vectors.close()


def test_unreachable_server_is_a_quick_one_line_error(path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with (
        VectorStore("passages", DIM, url=url) as remote,
        pytest.raises(VectorStoreUnavailable) as caught,
    ):
        remote.connect()
    assert time.monotonic() - started < 10
    assert caught.value.url == url and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"the Qdrant server at {url} is unreachable: ")
    assert not path.exists()  # a server store never touches a local folder


def test_a_store_needs_a_path_or_a_url() -> None:
    with pytest.raises(ValueError):
        VectorStore("passages", DIM)
