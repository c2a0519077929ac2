"""The offline encyclopedia: finds the article a request is about, nothing for a made-up one."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.knowledge.embeddings import MiniLMEmbedder
from assistant.tools.research.encyclopedia import LICENSE, Encyclopedia, article_url
from assistant.tools.research.encyclopedia_index import (
    data_file,
    embedder_id,
    index_folders,
    index_ready,
    sha256_of,
)


def titles(encyclopedia: Encyclopedia, query: str, limit: int = 5, language: str = "en"
           ) -> list[str]:
    return [h.title for h in encyclopedia.search(query, limit, language=language)]


def test_the_article_named_by_the_subject_ranks_first(encyclopedia: Encyclopedia) -> None:
    hits = encyclopedia.search("how octopuses change colour", 5)
    assert hits[0].title == "Octopus"
    assert hits[0].url == "https://en.wikipedia.org/wiki/Octopus"
    assert titles(encyclopedia, "how tides work")[0] == "Tide"
    assert titles(encyclopedia, "how photosynthesis works")[0] == "Photosynthesis"


def test_a_made_up_name_finds_nothing(encyclopedia: Encyclopedia) -> None:
    assert encyclopedia.search("the Zorvath Institute's 2027 budget", 8) == []
    assert encyclopedia.search("why sourdough rises", 8) == []  # not among the vital articles


def test_heat_pump_finds_the_articles_that_mention_heat_pumps(encyclopedia: Encyclopedia) -> None:
    found = set(titles(encyclopedia, "how a heat pump works in winter", 6))
    assert {"Air conditioning", "Refrigeration", "Thermodynamic cycle"} <= found


def test_a_hit_is_fetched_as_an_attributed_document(encyclopedia: Encyclopedia) -> None:
    hits = encyclopedia.search("compound interest", 5)  # found by its last sentence
    hit = next(h for h in hits if h.title == "E (mathematical constant)")
    doc = encyclopedia.fetch(hit)
    assert doc.url == "https://en.wikipedia.org/wiki/E_(mathematical_constant)"
    assert doc.license == LICENSE == "CC BY-SA 4.0 (Wikipedia)"
    assert "compound interest" in doc.text
    assert json.loads(doc.raw)["title"] == "E (mathematical constant)"


def test_article_urls_are_wikipedias() -> None:
    assert article_url("en", "Black hole") == "https://en.wikipedia.org/wiki/Black_hole"
    assert article_url("fr", "Marée") == "https://fr.wikipedia.org/wiki/Mar%C3%A9e"


def test_spanish_and_french_read_their_own_edition(
    encyclopedia: Encyclopedia, embedder: MiniLMEmbedder
) -> None:
    root = encyclopedia.settings.encyclopedia_dir
    if not all(root and index_ready(root / lang, lang, embedder) for lang in ("es", "fr")):
        pytest.skip("es/fr indexes not built: python -m assistant.tools.research.encyclopedia "
                    "build --lang es,fr")
    assert titles(encyclopedia, "cómo funciona el café", 3, "es")[0] == "Café"
    hit = encyclopedia.search("comment fonctionnent les marées", 1, language="fr")[0]
    assert hit.url == "https://fr.wikipedia.org/wiki/Mar%C3%A9e"


def test_a_query_is_fast_once_loaded(encyclopedia: Encyclopedia) -> None:
    encyclopedia.search("octopus", 1)
    started = time.perf_counter()
    for query in ("how tides work", "how a heat pump works in winter", "why the sky is blue"):
        encyclopedia.search(query, 6)
    assert (time.perf_counter() - started) / 3 < 2.0  # ~0.2 s on a loaded 2-core machine


def test_the_index_is_memory_mapped_and_matches_its_data(encyclopedia: Encyclopedia) -> None:
    index = encyclopedia.index("en")
    assert isinstance(index.vectors, np.memmap)
    assert index.vectors.shape == (len(index.titles), 384)
    assert index.vectors.dtype == np.float32
    manifest = json.loads((index.folder / "manifest.json").read_text())
    assert manifest["data_sha256"] == sha256_of(data_file("en"))


def test_a_changed_manifest_is_not_ready(
    encyclopedia: Encyclopedia, tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    source = encyclopedia.index("en").folder
    copy = tmp_path / "en"
    copy.mkdir()
    manifest = json.loads((source / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert index_ready(copy, "en", embedder)
    (copy / "manifest.json").write_text(json.dumps({**manifest, "data_sha256": "0" * 64}))
    assert not index_ready(copy, "en", embedder)  # other data: rebuilt on first use
    (copy / "manifest.json").write_text(json.dumps({**manifest, "embedder": "other/256"}))
    assert not index_ready(copy, "en", embedder)
    assert embedder_id(embedder).endswith("/256")


def test_index_locations(tmp_path: Path) -> None:
    default = Settings(_env_file=None, data_dir=tmp_path / "d")
    installed, fallback = index_folders(default, "en")
    assert installed.parts[-4:] == ("share", "agenticai-lab", "encyclopedia", "en")
    assert fallback == tmp_path.resolve() / "d" / "encyclopedia" / "en"
    chosen = Settings(_env_file=None, data_dir=tmp_path / "d",
                      encyclopedia_dir=tmp_path / "enc")
    assert index_folders(chosen, "fr") == [tmp_path / "enc" / "fr"]


def test_an_unknown_edition_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        data_file("de")
    assert "en, es, fr" in caught.value.user_message
