"""The knowledge base on real Qdrant local mode, the real embedder and real files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.config import Settings
from assistant.content import Finding, Source
from assistant.errors import ConfigError
from assistant.tools.knowledge import store as knowledge
from assistant.tools.knowledge.embeddings import MiniLMEmbedder
from assistant.tools.knowledge.store import KnowledgeBase, point_id, source_id_for


@pytest.fixture
def kb(kb_settings: Settings, embedder: MiniLMEmbedder) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(kb_settings, embedder) as base:
        yield base


@pytest.fixture
def filled(kb: KnowledgeBase, docs: dict[str, Path]) -> dict[str, str]:
    """The four sample documents added; maps kind -> source id."""
    results = kb.add(docs.values())
    assert [r.status for r in results] == ["added"] * 4, results
    return {kind: r.source_id for kind, r in zip(docs, results, strict=True)}


def test_add_reports_each_file_and_keeps_going(
    kb: KnowledgeBase, docs: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "report.docx"
    bad.write_bytes(b"PK")
    results = kb.add([docs["md"], bad, tmp_path / "missing.txt", docs["html"]])
    assert [r.status for r in results] == ["added", "error", "error", "added"]
    assert "not supported" in results[1].message and "no such file" in results[2].message
    sky = results[0]
    assert sky.title == "Why the Sky Is Blue" and sky.chunks == 3 and sky.path == docs["md"]
    assert sky.source_id.startswith("src-") and len(sky.source_id) == 14
    assert kb.count_chunks() == results[0].chunks + results[3].chunks


def test_stored_copy_and_manifest(
    kb: KnowledgeBase, filled: dict[str, str], docs: dict[str, Path], kb_settings: Settings
) -> None:
    manifest = json.loads((kb_settings.kb_dir / "sources.json").read_text("utf-8"))
    entries = {e["id"]: e for e in manifest["sources"]}
    assert set(entries) == set(filled.values())
    entry = entries[filled["pdf"]]
    stored = Path(urlparse(entry["uri"]).path)
    assert entry["uri"].startswith("file:///")
    assert stored.parent == kb_settings.kb_dir / "files"
    assert stored.name == f"{filled['pdf']}-volcanoes.pdf"
    assert stored.read_bytes() == docs["pdf"].read_bytes()
    assert entry["original_path"] == str(docs["pdf"].resolve())
    assert entry["title"] == "All About Volcanoes" and entry["chunks"] == 1
    assert len(entry["sha256"]) == 64 and source_id_for(entry["sha256"]) == filled["pdf"]
    assert entry["added_at"]
    assert kb.source(filled["pdf"]) == Source(
        id=filled["pdf"], title=entry["title"], uri=entry["uri"]
    )
    assert kb.source("src-nothing") is None
    assert {s.id for s in kb.sources()} == set(filled.values())


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("why is the sky blue", "md"),
        ("how to feed a sourdough starter", "txt"),
        ("how do bees turn nectar into honey", "html"),
        ("what makes a volcano erupt", "pdf"),
    ],
)
def test_search_returns_the_right_source_first(
    kb: KnowledgeBase, filled: dict[str, str], query: str, kind: str
) -> None:
    findings = kb.search(query)
    assert findings and all(isinstance(f, Finding) for f in findings)
    assert findings[0].source_id == filled[kind]
    assert findings[0].score > 0.5
    scores = [f.score for f in findings]
    assert scores == sorted(scores, reverse=True) and len(findings) <= 5


def test_search_finding_carries_heading_text_and_index(
    kb: KnowledgeBase, filled: dict[str, str]
) -> None:
    best = kb.search("why is the sunset orange and red", k=1)[0]
    assert best.source_id == filled["md"]
    assert best.heading == "Sunsets" and best.chunk_index == 2
    assert best.text.startswith("At sunset the light crosses much more air.")


def test_min_score_filters_unrelated_queries(kb: KnowledgeBase, filled: dict[str, str]) -> None:
    query = "How do I change a flat bicycle tyre?"
    assert kb.search(query) == []  # kb_settings.research_min_score = 0.25
    assert len(kb.search(query, k=3, min_score=-1.0)) == 3
    assert kb.search("   ") == []


def test_re_adding_is_unchanged_without_duplicates(
    kb: KnowledgeBase, filled: dict[str, str], docs: dict[str, Path], tmp_path: Path
) -> None:
    before = kb.count_chunks()
    again = kb.add(docs.values())
    assert [r.status for r in again] == ["unchanged"] * 4
    assert [r.source_id for r in again] == list(filled.values())
    assert kb.count_chunks() == before
    copy = tmp_path / "copy-of-sky.md"  # same content under another name: still one source
    copy.write_bytes(docs["md"].read_bytes())
    assert kb.add([copy])[0].status == "unchanged"
    assert kb.count_chunks() == before and len(kb.sources()) == 4


def test_a_changed_file_replaces_its_old_version(
    kb: KnowledgeBase, filled: dict[str, str], docs: dict[str, Path], kb_settings: Settings
) -> None:
    old_id = filled["txt"]
    old_copy = next((kb_settings.kb_dir / "files").glob(f"{old_id}-*"))
    docs["txt"].write_text(
        "Rye bread is dense and dark. It uses rye flour and a sour starter.\n", "utf-8"
    )
    result = kb.add([docs["txt"]])[0]
    assert result.status == "updated" and result.source_id != old_id
    assert old_id in result.message
    assert kb.count_chunks(old_id) == 0 and kb.count_chunks(result.source_id) == 1
    assert not old_copy.exists()
    assert old_id not in {s.id for s in kb.sources()} and len(kb.sources()) == 4
    best = kb.search("dense dark rye bread")[0]
    assert best.source_id == result.source_id and "rye flour" in best.text


def test_persistence_across_instances(
    kb_settings: Settings, embedder: MiniLMEmbedder, docs: dict[str, Path]
) -> None:
    with KnowledgeBase(kb_settings, embedder) as first:
        first.add(docs.values())
        ids = [s.id for s in first.sources()]
        count = first.count_chunks()
    with KnowledgeBase(kb_settings, embedder) as second:
        assert [s.id for s in second.sources()] == ids
        assert second.count_chunks() == count
        assert second.search("volcano lava magma")[0].source_id == ids[3]
        assert not second.is_empty()


def test_instances_in_one_process_share_the_local_store(
    kb: KnowledgeBase, filled: dict[str, str], kb_settings: Settings, embedder: MiniLMEmbedder
) -> None:
    with KnowledgeBase(kb_settings, embedder) as other:  # kb is still open
        assert other.search("honey bees")[0].source_id == filled["html"]
    assert kb.search("honey bees")[0].source_id == filled["html"]  # still usable


def test_use_from_other_threads(kb: KnowledgeBase, filled: dict[str, str]) -> None:
    queries = ["sky blue", "honey bees", "volcano lava", "sourdough bread"] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        firsts = list(pool.map(lambda q: kb.search(q, k=1)[0].source_id, queries))
    assert firsts == [filled[k] for k in ("md", "html", "pdf", "txt")] * 3


def test_remove(kb: KnowledgeBase, filled: dict[str, str], kb_settings: Settings) -> None:
    sid = filled["html"]
    assert kb.remove(sid) is True
    assert kb.count_chunks(sid) == 0 and kb.source(sid) is None
    assert not list((kb_settings.kb_dir / "files").glob(f"{sid}-*"))
    assert all(f.source_id != sid for f in kb.search("honey bees nectar", min_score=-1))
    assert kb.remove(sid) is False


def test_a_new_collection_is_rebuilt_from_the_stored_copies(
    kb_settings: Settings, embedder: MiniLMEmbedder, filled: dict[str, str], kb: KnowledgeBase
) -> None:
    kb.close()
    renamed = kb_settings.model_copy(update={"qdrant_collection": "rebuilt"})
    with KnowledgeBase(renamed, embedder) as rebuilt:
        assert rebuilt.search("what makes a volcano erupt")[0].source_id == filled["pdf"]
        manifest = json.loads((kb_settings.kb_dir / "sources.json").read_text("utf-8"))
        assert rebuilt.count_chunks() == sum(e["chunks"] for e in manifest["sources"])


def test_upload_saved_under_another_name(
    kb: KnowledgeBase, docs: dict[str, Path], tmp_path: Path
) -> None:
    upload = tmp_path / "9f1c2e7a"  # a chat upload: random file name, real name separate
    upload.write_bytes(docs["md"].read_bytes())
    result = kb.add_file(upload, name="Sky Notes.md")
    assert result.status == "added" and result.title == "Why the Sky Is Blue"
    stored = Path(urlparse(kb.sources()[0].uri).path)
    assert stored.name == f"{result.source_id}-Sky-Notes.md"
    assert point_id(result.source_id, 0) != point_id(result.source_id, 1)


def test_seed_sample_if_empty(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = tmp_path / "sample_kb"
    sample.mkdir()
    (sample / "tides.md").write_text("# Tides\n\nThe moon's gravity pulls the oceans.\n", "utf-8")
    (sample / "rainbows.md").write_text("# Rainbows\n\nRaindrops split sunlight.\n", "utf-8")
    (sample / "notes.docx").write_bytes(b"PK")  # not a document we read: skipped
    monkeypatch.setattr(knowledge, "SAMPLE_KB_DIR", sample)
    assert kb.is_empty()
    results = kb.seed_sample_if_empty()
    assert sorted(r.title for r in results) == ["Rainbows", "Tides"]
    assert all(r.status == "added" for r in results)
    assert kb.seed_sample_if_empty() == []  # no longer empty
    assert kb.search("ocean tides and the moon")[0].source_id == results[1].source_id


def test_seed_is_off_when_disabled_or_missing(
    kb_settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = kb_settings.model_copy(update={"seed_sample_kb": False})
    with KnowledgeBase(off, embedder) as base:
        assert base.seed_sample_if_empty() == []
    monkeypatch.setattr(knowledge, "SAMPLE_KB_DIR", tmp_path / "absent")
    with KnowledgeBase(kb_settings, embedder) as base:
        assert base.seed_sample_if_empty() == [] and base.is_empty()


def test_unreachable_server_is_a_quick_config_error(
    kb_settings: Settings, embedder: MiniLMEmbedder
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    remote = kb_settings.model_copy(update={"qdrant_url": url})
    started = time.monotonic()
    with KnowledgeBase(remote, embedder) as base, pytest.raises(ConfigError) as caught:
        base.search("anything")
    assert url in caught.value.user_message
    assert time.monotonic() - started < 10


def test_local_store_locked_by_another_process(
    kb_settings: Settings, embedder: MiniLMEmbedder
) -> None:
    path = kb_settings.resolved_data_dir / "qdrant"
    path.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from qdrant_client import QdrantClient\n"
            f"c = QdrantClient(path={str(path)!r}); print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with KnowledgeBase(kb_settings, embedder) as base, pytest.raises(ConfigError) as caught:
            base.connect()
        assert "in use by another process" in caught.value.user_message
    finally:
        holder.communicate("", timeout=30)


def test_damaged_manifest_is_a_config_error(kb: KnowledgeBase, kb_settings: Settings) -> None:
    kb_settings.kb_dir.mkdir(parents=True)
    (kb_settings.kb_dir / "sources.json").write_text("{not json", "utf-8")
    with pytest.raises(ConfigError) as caught:
        kb.sources()
    assert "sources.json is damaged" in caught.value.user_message
