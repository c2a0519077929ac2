"""Linked identities and link codes, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Database
from storage.identities import IdentityStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_links_map_identities_to_users(database: Database) -> None:
    store = IdentityStore(database)
    assert store.linked_user("telegram", "42") is None
    store.link("telegram", "42", "alice")
    store.link("discord", "7", "alice")
    assert store.linked_user("telegram", "42") == "alice"
    assert store.linked_identities("alice") == [("discord", "7"), ("telegram", "42")]
    store.link("telegram", "42", "bob")  # a later link replaces the earlier one
    assert store.linked_user("telegram", "42") == "bob"
    assert store.linked_identities("alice") == [("discord", "7")]


def test_a_code_is_spent_once_and_expired_ones_are_purged(database: Database) -> None:
    store = IdentityStore(database)
    store.put_code("a" * 64, "telegram", "42", NOW + timedelta(minutes=10),
                   purge_expired_before=NOW)
    store.put_code("b" * 64, "discord", "7", NOW - timedelta(hours=1),
                   purge_expired_before=NOW - timedelta(hours=2))
    spent = store.take_code("a" * 64)
    assert spent is not None and (spent.channel, spent.external_id) == ("telegram", "42")
    assert spent.expires_at == NOW + timedelta(minutes=10)
    assert store.take_code("a" * 64) is None
    store.put_code("c" * 64, "web", "alice", NOW + timedelta(minutes=10),
                   purge_expired_before=NOW)
    assert store.take_code("b" * 64) is None  # purged by the later put
