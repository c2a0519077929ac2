"""get_retrievers: the providers ASSISTANT_RESEARCH_PROVIDERS names, in its order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.research import (
    PROVIDERS,
    Retriever,
    close_all,
    get_retrievers,
    provider_names,
)
from assistant.tools.research.encyclopedia import Encyclopedia
from assistant.tools.research.kb import KnowledgeBaseRetriever


def settings_for(tmp_path: Path, providers: str | None = None, **extra: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path / "data", **extra}
    if providers is not None:
        values["research_providers"] = providers
    return Settings.model_validate(values)


def test_the_default_is_the_knowledge_base_then_the_encyclopedia(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert provider_names(settings) == ["kb", "encyclopedia"]
    retrievers = get_retrievers(settings)
    try:
        assert [type(r) for r in retrievers] == [KnowledgeBaseRetriever, Encyclopedia]
        assert all(isinstance(r, Retriever) for r in retrievers)
    finally:
        close_all(retrievers)
        retrievers[0].kb.close()  # type: ignore[attr-defined]


def test_order_is_priority_and_repeats_are_dropped(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, " Encyclopedia , kb,encyclopedia ")
    assert provider_names(settings) == ["encyclopedia", "kb"]


@pytest.mark.parametrize("value", ["kb,google", "", " , "])
def test_an_unknown_or_empty_list_is_one_error_naming_the_setting(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        provider_names(settings_for(tmp_path, value))
    message = caught.value.user_message
    assert "ASSISTANT_RESEARCH_PROVIDERS" in message and "\n" not in message
    assert all(name in message for name in PROVIDERS)
    if "google" in value:
        assert "'google'" in message


def test_online_providers_are_built_by_name(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "wikipedia,arxiv,searxng,ddg",
                            searxng_url="http://127.0.0.1:9/searxng")
    retrievers = get_retrievers(settings)
    try:
        assert [r.name for r in retrievers] == ["wikipedia", "arxiv", "searxng", "ddg"]
        assert all(isinstance(r, Retriever) for r in retrievers)
        fetchers = {id(getattr(r, "fetcher", None)) for r in retrievers[2:]}
        assert len(fetchers) == 1  # searxng and ddg share one fetcher (one robots cache)
    finally:
        close_all(retrievers)


def test_serper_without_a_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        get_retrievers(settings_for(tmp_path, "serper"))
    assert "SERPER" in caught.value.user_message.upper()


def test_a_provider_whose_package_is_missing_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    real = importlib.import_module

    def no_ddgs(name: str, package: str | None = None) -> object:
        if name == PROVIDERS["ddg"]:
            raise ModuleNotFoundError("No module named 'ddgs'", name="ddgs")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_ddgs)
    with pytest.raises(ConfigError) as caught:
        get_retrievers(settings_for(tmp_path, "ddg"))
    message = caught.value.user_message
    assert "pip install ddgs" in message and "ASSISTANT_RESEARCH_PROVIDERS" in message
