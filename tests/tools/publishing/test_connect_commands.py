"""Connecting accounts from the chat (/connect, /platforms, /disconnect) through the real
conversation, against the real WordPress and the Telegram/Discord stand-ins; the accounts
store (Fernet at rest, key from ASSISTANT_SECRET_KEY); and a job publishing with its owner's
connected account."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from channel_standins import DiscordStandIn, TelegramStandIn  # noqa: E402
from wp_server import WordPressSite  # noqa: E402

from assistant.app.conversation import Conversation  # noqa: E402
from assistant.app.events import ChannelUser, OutEvent  # noqa: E402
from assistant.app.runner import JobRunner  # noqa: E402
from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, Script, Section  # noqa: E402
from assistant.errors import ConfigError  # noqa: E402
from assistant.tools.publishing import publishers_for  # noqa: E402
from assistant.tools.publishing.accounts import (  # noqa: E402
    AccountStore,
    Owner,
    owners_of_job,
    register_refresher,
)
from assistant.tools.publishing.base import PublishRequest  # noqa: E402
from assistant.tools.publishing.ledger import publish_once  # noqa: E402
from storage.models import ConnectedAccount, Job, Organization  # noqa: E402

ADA = ChannelUser("telegram", "42", "Ada")
KEY = "a long random test key, not a real one: 5b0c9e"


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def discord_api() -> Iterator[DiscordStandIn]:
    with DiscordStandIn() as stand_in:
        yield stand_in


def _services(settings: Settings, **update: Any) -> Iterator[Services]:
    svc = Services.create(settings.model_copy(update=update))
    yield svc
    svc.close()


@pytest.fixture
def keyed(settings: Settings, telegram_api: TelegramStandIn) -> Iterator[Services]:
    yield from _services(settings, secret_key=SecretStr(KEY),
                         telegram_token=SecretStr(telegram_api.TOKEN),
                         telegram_api_url=telegram_api.url,
                         publish_allow_private=True)  # the test services are on 127.0.0.1


@pytest.fixture
def conv(keyed: Services) -> Iterator[Conversation]:
    runner = JobRunner(keyed)
    conversation = Conversation(keyed, runner)
    yield conversation
    conversation.close()
    runner.close()


def one(events: list[OutEvent]) -> OutEvent:
    assert len(events) == 1, events
    return events[0]


def _rows(svc: Services) -> list[ConnectedAccount]:
    with svc.db.session() as s:
        return list(s.scalars(select(ConnectedAccount)))


def test_wordpress_is_connected_with_a_password_asked_for_and_never_shown(
        conv: Conversation, keyed: Services, wordpress: WordPressSite) -> None:
    asked = one(conv.handle(ADA, f"/connect wordpress {wordpress.url} {wordpress.user}"))
    assert asked.kind == "text" and "application password" in asked.text
    wrong = one(conv.handle(ADA, "abcd efgh ijkl mnop qrst uvwx"))
    assert wrong.kind == "error" and "refused" in wrong.text and wrong.data["forget_message"]
    assert "abcd" not in wrong.text and _rows(keyed) == []

    one(conv.handle(ADA, f"/connect wordpress {wordpress.url} {wordpress.user}"))
    done = one(conv.handle(ADA, wordpress.app_password))
    assert done.kind == "text" and done.text.startswith("WordPress connected: editor on 127.0.0.1")
    assert done.data["forget_message"] is True
    assert wordpress.app_password not in done.text
    [row] = _rows(keyed)
    # at rest: ciphertext only; the store gives the password back with the key
    assert wordpress.app_password not in row.credentials_encrypted
    assert wordpress.app_password.replace(" ", "") not in row.credentials_encrypted
    owner = Owner.profile(keyed.repo.ensure_user("telegram:42"))
    account = AccountStore.from_settings(keyed.settings, keyed.db).get(owner, "wordpress")
    assert account is not None and account.credentials["app_password"] == wordpress.app_password
    assert wordpress.app_password not in repr(account)

    listed = one(conv.handle(ADA, "/platforms"))
    assert "WordPress: editor on 127.0.0.1" in listed.text
    assert wordpress.app_password not in listed.text
    gone = one(conv.handle(ADA, "/disconnect wordpress"))
    assert "disconnected" in gone.text and _rows(keyed) == []
    assert one(conv.handle(ADA, "/disconnect wordpress")).kind == "error"


def test_a_slash_command_instead_of_the_password_cancels_the_question(
        conv: Conversation, wordpress: WordPressSite) -> None:
    one(conv.handle(ADA, f"/connect wordpress {wordpress.url} {wordpress.user}"))
    assert "Nothing connected" in one(conv.handle(ADA, "/platforms")).text
    # the question is gone: the next text is not taken for a password
    assert one(conv.handle(ADA, "yes")).kind == "error"


def test_telegram_and_discord_are_checked_before_they_are_stored(
        conv: Conversation, keyed: Services, telegram_api: TelegramStandIn,
        discord_api: DiscordStandIn) -> None:
    assert one(conv.handle(ADA, "/connect telegram @nobody_here")).kind == "error"
    done = one(conv.handle(ADA, "/connect telegram @studio_channel"))
    assert done.text.startswith("Telegram channel connected: Studio channel (@studio_channel)")
    assert [c.path.split("/")[-1] for c in telegram_api.received][-2:] == [
        "getChat", "getChatMember"]
    bad = one(conv.handle(ADA, f"/connect discord {discord_api.url}/api/webhooks/1/nope"))
    assert bad.kind == "error" and "no longer exists" in bad.text
    hooked = one(conv.handle(ADA, f"/connect discord {discord_api.webhook_url}"))
    assert hooked.text.startswith("Discord webhook connected: webhook Studio")
    assert discord_api.TOKEN not in hooked.text + bad.text
    listed = one(conv.handle(ADA, "/platforms")).text
    assert "Telegram channel" in listed and "Discord webhook" in listed
    assert {r.platform for r in _rows(keyed)} == {"telegram", "discord"}


def test_without_a_secret_key_nothing_is_asked_or_stored(settings: Settings,
                                                         wordpress: WordPressSite) -> None:
    for svc in _services(settings):
        runner = JobRunner(svc)
        conv = Conversation(svc, runner)
        try:
            refused = one(conv.handle(ADA, f"/connect wordpress {wordpress.url} editor"))
            assert refused.kind == "error" and "ASSISTANT_SECRET_KEY is not set" in refused.text
            assert one(conv.handle(ADA, "/connect discord https://discord.com/api/webhooks/1/x")
                       ).kind == "error"
            assert _rows(svc) == []
        finally:
            conv.close()
            runner.close()


def test_the_store_refuses_another_key_and_refreshes_expired_tokens(keyed: Services) -> None:
    store = AccountStore.from_settings(keyed.settings, keyed.db)
    owner = Owner.profile(keyed.repo.ensure_user("ada"))
    store.store(owner, "wordpress", "blog", {"app_password": "secret-1"})
    with pytest.raises(ConfigError, match="cannot be read with this ASSISTANT_SECRET_KEY"):
        AccountStore(keyed.db, "another key").get(owner, "wordpress")

    refreshed: list[dict[str, Any]] = []

    def refresh(credentials: dict[str, Any]) -> tuple[dict[str, Any], datetime | None]:
        refreshed.append(credentials)
        return {"access_token": "new"}, datetime.now(UTC) + timedelta(hours=1)

    register_refresher("conformance-oauth", refresh)
    store.store(owner, "conformance-oauth", "oauth", {"access_token": "old"},
                expires_at=datetime.now(UTC) - timedelta(minutes=1))
    account = store.get(owner, "conformance-oauth")
    assert account is not None and account.credentials == {"access_token": "new"}
    assert refreshed == [{"access_token": "old"}]
    assert account.expires_at is not None and account.expires_at > datetime.now(UTC)
    assert store.get(owner, "conformance-oauth") is not None and len(refreshed) == 1


def test_a_job_publishes_with_its_workspace_account_first(
        keyed: Services, wordpress: WordPressSite, tmp_path: Path) -> None:
    store = AccountStore.from_settings(keyed.settings, keyed.db)
    ada = uuid.UUID(keyed.repo.ensure_user("ada"))
    with keyed.db.session() as s:
        org = Organization(name="Tides Inc", slug="tides-inc", owner_id=ada)
        s.add(org)
        s.flush()
        org_id = org.id
    good = {"url": wordpress.url, "user": wordpress.user, "app_password": wordpress.app_password}
    store.store(Owner.organization(org_id), "wordpress", "workspace blog", good)
    store.store(Owner.profile(ada), "wordpress", "own blog", {**good, "app_password": "wrong"})
    keyed.repo.create_job("job-0000c0de", title="tides", content_type="blog")
    with keyed.db.session() as s:
        job = s.get(Job, "job-0000c0de")
        assert job is not None
        job.user_id, job.organization_id = ada, org_id
    accounts = store.credentials_for(owners_of_job(keyed.db, "job-0000c0de"))
    [target] = publishers_for(keyed.settings, accounts, ["wordpress"])
    markdown = tmp_path / "final.md"
    markdown.write_text("# Tides at work\n\nThe Moon pulls the sea.\n", encoding="utf-8")
    script = Script(format="blog", title="Tides at work", hook="Why?",
                    sections=[Section(heading="Moon", text="The Moon pulls the sea.")])
    published = publish_once(target.publisher, PublishRequest(
        "job-0000c0de", Brief.create("tides", "blog"), script, files={"markdown": markdown},
        credentials=target.credentials), keyed.repo)
    assert published.url.startswith(wordpress.url) and published.post_id


def test_telegram_deletes_the_password_message(conv: Conversation, keyed: Services,
                                               wordpress: WordPressSite) -> None:
    from tests.channels.tg_harness import TgBot, tg_user

    ada = tg_user(42, "Ada")

    async def scenario() -> None:
        async with TgBot(conv, keyed.settings) as tg:
            await tg.text(ada, f"/connect wordpress {wordpress.url} {wordpress.user}")
            assert tg.api.find("sendMessage", chat_id=42, text="application password")
            assert not tg.api.find("deleteMessage")
            await tg.text(ada, wordpress.app_password)
            [deleted] = tg.api.find("deleteMessage", chat_id=42)
            assert tg.api.find("sendMessage", chat_id=42, text="WordPress connected")
            sent = [c for c in tg.api.calls if c.method == "sendMessage"]
            assert all(wordpress.app_password not in str(c.params) for c in sent)
            assert deleted.params["message_id"]

    asyncio.run(scenario())


def test_private_addresses_are_refused_unless_allowed(settings: Settings,
                                                     wordpress: WordPressSite) -> None:
    for svc in _services(settings, secret_key=SecretStr(KEY), publish_allow_private=False):
        runner = JobRunner(svc)
        conv = Conversation(svc, runner)
        try:
            asked_site = len(wordpress.requests())
            for url in (wordpress.url, "http://10.1.2.3", "http://[::1]:8080",
                        "http://169.254.169.254"):
                refused = one(conv.handle(ADA, f"/connect wordpress {url} editor"))
                assert refused.kind == "error" and "private or local address" in refused.text
            hook = one(conv.handle(ADA, "/connect discord http://127.0.0.1:9/api/webhooks/1/x"))
            assert hook.kind == "error" and "private or local address" in hook.text
            # nothing was asked: the next message is not taken for a password
            assert one(conv.handle(ADA, "yes")).kind == "error"
            assert _rows(svc) == [] and len(wordpress.requests()) == asked_site  # never called
        finally:
            conv.close()
            runner.close()


def test_a_plan_limits_how_many_platforms_may_be_connected(
        settings: Settings, telegram_api: TelegramStandIn, discord_api: DiscordStandIn) -> None:
    """Free holds 2 connected platforms (tiers.yaml): a third is refused with the upgrade
    line before anything is checked or stored; reconnecting one of the two still works."""
    for svc in _services(settings, secret_key=SecretStr(KEY), quotas=True,
                         telegram_token=SecretStr(telegram_api.TOKEN),
                         telegram_api_url=telegram_api.url, publish_allow_private=True):
        runner = JobRunner(svc)
        conv = Conversation(svc, runner)
        try:
            assert one(conv.handle(ADA, "/connect telegram @studio_channel")).kind == "text"
            assert one(conv.handle(ADA, f"/connect discord {discord_api.webhook_url}")
                       ).kind == "text"
            calls = len(telegram_api.received)
            refused = one(conv.handle(ADA, "/connect wordpress https://blog.example ada"))
            assert refused.kind == "error" and "2 connected platforms" in refused.text
            assert "upgrade" in refused.text.lower()
            assert {r.platform for r in _rows(svc)} == {"telegram", "discord"}
            again = one(conv.handle(ADA, "/connect telegram @studio_channel"))
            assert again.kind == "text" and len(telegram_api.received) > calls
        finally:
            conv.close()
            runner.close()


def test_a_workspace_owner_connects_the_workspaces_account(
        conv: Conversation, keyed: Services, telegram_api: TelegramStandIn) -> None:
    ada = uuid.UUID(keyed.repo.ensure_user(conv.username(ADA)))
    with keyed.db.session() as s:
        org = Organization(name="Tides Inc", slug="tides-inc", owner_id=ada)
        s.add(org)
        s.flush()
        org_id = org.id
    done = one(conv.handle(ADA, "/connect telegram @studio_channel --workspace tides-inc"))
    assert done.kind == "text" and "Workspace tides-inc's jobs" in done.text
    store = AccountStore.from_settings(keyed.settings, keyed.db)
    assert [a.platform for a in store.list(Owner.organization(org_id))] == ["telegram"]
    assert store.list(Owner.profile(ada)) == []  # not the person's own
    listed = one(conv.handle(ADA, "/platforms --workspace tides-inc")).text
    assert "Telegram channel" in listed
    assert "Telegram channel:" not in one(conv.handle(ADA, "/platforms")).text
    bob = ChannelUser("telegram", "43", "Bob")  # not the workspace's owner
    refused = one(conv.handle(bob, "/connect telegram @studio_channel --workspace tides-inc"))
    assert refused.kind == "error" and "you own no workspace 'tides-inc'" in refused.text
    assert one(conv.handle(bob, "/disconnect telegram --workspace tides-inc")).kind == "error"
    assert one(conv.handle(ADA, "/disconnect telegram --workspace tides-inc")).kind == "text"
    assert store.list(Owner.organization(org_id)) == []
