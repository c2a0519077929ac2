"""The chat bots' routes (Discord channel per job, Telegram chat per user), on SQLite and on
the real PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from storage import Database, JobRepository
from storage.channels import ChannelStore, RouteRecord
from storage.models import DiscordRoute, Job

BIG = 1_234_567_890_123_456_789  # Discord snowflakes need 64 bits


def _job(db: Database, job_id: str) -> None:
    JobRepository(db).create_job(job_id, title="t", content_type="blog")


def test_a_route_follows_its_job(database: Database) -> None:
    store = ChannelStore(database)
    _job(database, "job-00000001")
    assert store.discord_route("job-00000001") is None
    assert store.set_discord_route("job-00000001", BIG, None) == RouteRecord(BIG, None)
    store.set_discord_progress("job-00000001", BIG + 1)
    assert store.discord_route("job-00000001") == RouteRecord(BIG, None, BIG + 1)
    # the same channel keeps the progress message; another channel starts afresh
    assert store.set_discord_route("job-00000001", BIG, None) == RouteRecord(BIG, None, BIG + 1)
    assert store.set_discord_route("job-00000001", 7, 8) == RouteRecord(7, 8)
    store.set_discord_progress("job-missing", 5)  # no route: nothing to update
    assert store.discord_route("job-missing") is None
    with database.session() as s:
        s.delete(s.get(Job, "job-00000001"))
    assert store.discord_route("job-00000001") is None  # deleted with its job


def test_old_routes_are_imported_for_jobs_that_exist(database: Database) -> None:
    store = ChannelStore(database)
    _job(database, "job-00000001")
    _job(database, "job-00000002")
    store.set_discord_route("job-00000002", 9, None)
    added = store.import_discord_routes({
        "job-00000001": RouteRecord(BIG, 3, 4),
        "job-00000002": RouteRecord(1, None),  # the table's row is newer: kept
        "job-gone": RouteRecord(2, None),  # its job was deleted: dropped
    })
    assert added == 1
    assert store.discord_route("job-00000001") == RouteRecord(BIG, 3, 4)
    assert store.discord_route("job-00000002") == RouteRecord(9, None)
    assert store.import_discord_routes({}) == 0
    with database.session() as s:
        assert sorted(s.scalars(select(DiscordRoute.job_id))) == ["job-00000001", "job-00000002"]


def test_telegram_chats_are_kept_and_imported(database: Database) -> None:
    store = ChannelStore(database)
    assert store.telegram_chat(42) is None
    store.set_telegram_chat(42, -1_001_234_567_890)
    store.set_telegram_chat(42, -1_001_234_567_890)  # unchanged: no new row
    assert store.telegram_chat(42) == -1_001_234_567_890
    assert store.import_telegram_chats({42: 1, 7: -5}) == 1
    assert (store.telegram_chat(42), store.telegram_chat(7)) == (-1_001_234_567_890, -5)


def test_two_writers_of_one_new_route_both_succeed(database: Database) -> None:
    _job(database, "job-00000001")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(channel: int) -> None:
        try:
            barrier.wait()
            ChannelStore(database).set_discord_route("job-00000001", channel, None)
            ChannelStore(database).set_telegram_chat(99, channel)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(c,)) for c in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    route = ChannelStore(database).discord_route("job-00000001")
    assert route is not None and route.channel_id in (1, 2)
    assert ChannelStore(database).telegram_chat(99) in (1, 2)


def test_a_damaged_old_file_imports_nothing_and_is_not_read_again(database: Database,
                                                                   tmp_path: Path) -> None:
    from storage.channels import import_json_once

    old = tmp_path / "telegram_chats.json"
    old.write_text('{"12": "not a number"', encoding="utf-8")  # cut off mid-write
    store = ChannelStore(database)
    added = import_json_once(old, lambda raw: {int(k): int(v) for k, v in raw.items()},
                             store.import_telegram_chats, "telegram chats")
    assert added == 0 and not old.exists()
    assert (tmp_path / "telegram_chats.json.imported").is_file()
    assert import_json_once(old, dict, store.import_telegram_chats, "chats") is None
