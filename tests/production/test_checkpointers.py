"""One checkpointer suite, run against the SQLite default and the real PostgreSQL server.

A tiny graph with a human interrupt: its pydantic state parts round-trip through the saver,
a NEW saver (a process restart) sees the pending interrupt and resumes it with
``Command(resume=...)``, and nothing that finished runs again.
"""

from __future__ import annotations

import operator
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from sqlalchemy import make_url

from assistant.config import Settings
from assistant.content import Brief, ReviewDecision
from assistant.errors import ConfigError
from assistant.graph.checkpoint import (
    checkpoint_target,
    close_checkpointer,
    libpq_url,
    make_checkpointer,
    open_checkpointer,
    state_types,
)

BACKENDS = ["sqlite", "postgresql"]


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return _settings(tmp_path)
    # the production shape: only the SQLAlchemy database URL is set, the checkpointer follows
    return _settings(tmp_path, database_url=request.getfixturevalue("postgres_database_url"))


@pytest.fixture
def saver(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    with open_checkpointer(settings) as opened:
        yield opened


def _thread() -> RunnableConfig:
    return {"configurable": {"thread_id": f"job-{uuid.uuid4().hex[:8]}", "checkpoint_ns": ""}}


# --- the tiny graph ---------------------------------------------------------------------


class TinyState(TypedDict, total=False):
    brief: Brief
    drafts: Annotated[list[str], operator.add]
    decision: ReviewDecision


def build_tiny(saver: BaseCheckpointSaver[Any], runs: dict[str, int]) -> Any:
    def draft(state: TinyState) -> dict[str, Any]:
        runs["draft"] = runs.get("draft", 0) + 1
        return {"drafts": [f"draft about {state['brief'].topic}"]}

    def review(state: TinyState) -> dict[str, Any]:
        answer = interrupt({"stage": "review", "topic": state["brief"].topic})
        return {"decision": ReviewDecision.model_validate(answer)}

    builder: Any = StateGraph(TinyState)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=saver)


# --- the suite ----------------------------------------------------------------------------


def test_put_get_round_trips_pydantic_parts(saver: BaseCheckpointSaver[Any]) -> None:
    config = _thread()
    brief = Brief.create("why the sky is blue", "short")
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"brief": brief}
    checkpoint["channel_versions"] = {"brief": 1}
    stored = saver.put(config, checkpoint, {"source": "input", "step": -1}, {"brief": 1})

    got = saver.get_tuple(stored)
    assert got is not None
    assert got.checkpoint["id"] == checkpoint["id"]
    restored = got.checkpoint["channel_values"]["brief"]
    assert isinstance(restored, Brief)
    assert restored == brief


def test_interrupt_survives_a_restart_and_resumes(settings: Settings) -> None:
    config, runs = _thread(), dict[str, int]()
    brief = Brief.create("how tides work", "short", seconds=30)

    first = make_checkpointer(settings)
    try:
        result = build_tiny(first, runs).invoke({"brief": brief}, config)
        assert [i.value for i in result["__interrupt__"]] == [
            {"stage": "review", "topic": "how tides work"}
        ]
    finally:
        close_checkpointer(first)  # the process dies while the job waits for a person

    second = make_checkpointer(settings)  # a restart: a new saver on the same store
    try:
        graph = build_tiny(second, runs)
        snapshot = graph.get_state(config)
        assert snapshot.next == ("review",)
        assert [i.value["stage"] for t in snapshot.tasks for i in t.interrupts] == ["review"]
        assert isinstance(snapshot.values["brief"], Brief)
        assert snapshot.values["brief"] == brief

        decision = ReviewDecision(action="approve", notes="ship it", by="tester")
        final = graph.invoke(Command(resume=decision.model_dump()), config)
    finally:
        close_checkpointer(second)

    assert final["decision"] == decision
    assert final["drafts"] == ["draft about how tides work"]
    assert runs == {"draft": 1}  # nothing that finished ran again

    with open_checkpointer(settings) as third:
        after = build_tiny(third, runs).get_state(config)
        assert after.next == ()
        assert not [i for t in after.tasks for i in t.interrupts]
        assert isinstance(after.values["decision"], ReviewDecision)


@pytest.fixture
def fresh_settings(settings: Settings) -> Iterator[Settings]:
    """``settings`` pointing at a store nobody has set up yet (SQLite: a new file; PostgreSQL:
    a new schema, chosen with ``search_path`` in the URL's query)."""
    if settings.database_url is None:
        yield settings
        return
    url = make_url(settings.database_url)
    schema = f"cp_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield settings.model_copy(update={"database_url": url.update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)})
    finally:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_processes_starting_together_all_get_a_checkpointer(fresh_settings: Settings) -> None:
    with ThreadPoolExecutor(6) as pool:
        savers = list(pool.map(lambda _: make_checkpointer(fresh_settings), range(6)))
    try:
        config = _thread()
        build_tiny(savers[0], {}).invoke({"brief": Brief.create("tides")}, config)
        assert build_tiny(savers[-1], {}).get_state(config).next == ("review",)
    finally:
        for saver in savers:
            close_checkpointer(saver)


def test_the_serializer_allows_every_state_model() -> None:
    names = {name for _module, name in state_types()}
    assert {"Brief", "Research", "Script", "QAReport", "ReviewDecision"} <= names


# --- choosing the implementation ----------------------------------------------------------


def test_sqlite_is_the_default_in_wal_mode(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert checkpoint_target(settings) == ("sqlite", str(settings.checkpoint_path))
    with open_checkpointer(settings) as saver:
        assert isinstance(saver, SqliteSaver)
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert settings.checkpoint_path.exists()


def test_checkpoint_url_wins_and_sqlalchemy_urls_become_libpq(tmp_path: Path) -> None:
    url = "postgresql+psycopg://me:pw@db.example:5433/jobs?options=-csearch_path%3Dcp"
    settings = _settings(tmp_path, database_url="sqlite:///x.db", checkpoint_url=url)
    assert checkpoint_target(settings) == (
        "postgresql", "postgresql://me:pw@db.example:5433/jobs?options=-csearch_path%3Dcp")
    file = tmp_path / "cp" / "c.sqlite"
    settings = _settings(tmp_path, checkpoint_url=f"sqlite:///{file}")
    assert checkpoint_target(settings) == ("sqlite", str(file))


def test_unknown_scheme_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_CHECKPOINT_URL"):
        make_checkpointer(_settings(tmp_path, checkpoint_url="mysql://u:p@h/db"))


def test_unreachable_postgres_is_a_quick_config_error(tmp_path: Path) -> None:
    # port 9 (discard) on loopback: nothing listens, the connection is refused at once
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:9/jobs"
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        make_checkpointer(_settings(tmp_path, checkpoint_url=url))
    assert time.monotonic() - started < 10
    message = caught.value.user_message
    assert "127.0.0.1:9/jobs" in message
    assert "unreachable" in message
    assert "s3cret-pw" not in message
    assert "s3cret-pw" not in str(caught.value)
