"""A reviewer role Discord granted belongs to the person: demoted in the guild, they are
refused when they decide from Telegram or the web through linked identities, not only in
Discord. With the bot in the process, Discord is asked through the bot's own client (the
harness records it); without one, through Discord's REST API with the bot token (a local
stand-in answering as Discord documents: GET /guilds/{guild}/members/{user} and
/guilds/{guild}/roles, 404 Unknown Member, 401 without the bot token)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.app.identity import Refused
from assistant.app.role_checks import (
    DiscordRest,
    RoleRechecks,
    role_memberships,
    sync_reviewer,
)
from assistant.app.studio import Services
from assistant.channels.discord.workspaces import guild_workspace
from assistant.config import Settings
from storage.models import Job
from tests.app.conftest import conversation_over
from tests.channels.discord_harness import GUILD_ID, REVIEWER_ROLE_ID, DiscordHarness, Person
from tests.conftest import SAMPLE_KB

ADA = Person(777, "ada")  # starts the job
RITA = Person(555, "rita", roles=(REVIEWER_ROLE_ID,))  # a guild reviewer, also on the web
RITA_WEB, RITA_TG = ChannelUser("web", "rita"), ChannelUser("telegram", "4242")


@pytest.fixture
def conv(settings: Settings) -> Iterator[Conversation]:
    svc = Services.create(settings)
    assert all(r.status == "added" for r in svc.kb().add([SAMPLE_KB / "how-tides-work.md"]))
    with conversation_over(svc) as conversation:
        yield conversation
    svc.close()


def stage(conv: Conversation, job_id: str) -> str:
    review = conv.runner.pending_review(job_id)
    return review["action_request"]["action"] if review else ""


def test_demoted_in_discord_refused_from_the_web_and_telegram(conv: Conversation) -> None:
    store = conv.identities.store
    store.link("discord", str(RITA.id), "rita")  # Rita's Discord and Telegram act as "rita"
    store.link("telegram", RITA_TG.external_id, "rita")
    with DiscordHarness(conv) as dc:
        started = dc.slash("create", ADA, topic="how tides work", format="blog")
        job_id = started.content.split()[1].rstrip(":")
        dc.settle(job_id)
        dc.slash("jobs", RITA)  # seen holding the reviewer role in the guild
        # still a reviewer: her web account decides the script
        assert [e.kind for e in conv.decide(RITA_WEB, job_id, "approve")] == ["text"]
        dc.settle(job_id)
        assert stage(conv, job_id) == "review_final"

        dc.recorder.members[RITA.id] = ()  # demoted, and no Discord interaction since
        mark = dc.recorder.mark()
        for who in (RITA_TG, RITA_WEB):
            [answer] = conv.decide(who, job_id, "approve")
            assert answer.kind == "error" and "is not yours" in answer.text, answer.text
        asked = [c.path for c in dc.recorder.since(mark)]
        assert f"/guilds/{GUILD_ID}/members/{RITA.id}" in asked
        assert stage(conv, job_id) == "review_final"
        svc = conv.svc
        assert role_memberships(svc.db, svc.repo.ensure_user("rita")) == []


# --- without a bot in the process: Discord's REST API ------------------------------------

TOKEN = "test-bot-token"


class FakeDiscord(BaseHTTPRequestHandler):
    members: dict[int, list[int]] = {}  # noqa: RUF012 -- user id -> role ids (the test sets it)
    roles = [{"id": str(GUILD_ID), "name": "@everyone"},
             {"id": str(REVIEWER_ROLE_ID), "name": "Reviewer"}]
    seen: list[str] = []  # noqa: RUF012

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.path)
        if self.headers.get("Authorization") != f"Bot {TOKEN}":
            self._send(401, {"message": "401: Unauthorized", "code": 0})
            return
        member = re.fullmatch(r"/api/v10/guilds/(\d+)/members/(\d+)", self.path)
        if member and int(member.group(1)) == GUILD_ID:
            roles = self.members.get(int(member.group(2)))
            if roles is None:
                self._send(404, {"message": "Unknown Member", "code": 10007})
                return
            self._send(200, {"user": {"id": member.group(2), "username": "rita"},
                             "roles": [str(r) for r in roles], "joined_at": "2026-01-01T00:00:00",
                             "deaf": False, "mute": False, "flags": 0})
            return
        if self.path == f"/api/v10/guilds/{GUILD_ID}/roles":
            self._send(200, [{**r, "color": 0, "hoist": False, "position": i,
                              "permissions": "0", "managed": False, "mentionable": False}
                             for i, r in enumerate(self.roles)])
            return
        self._send(404, {"message": "404: Not Found", "code": 0})


@pytest.fixture
def discord_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDiscord)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeDiscord.members, FakeDiscord.seen = {}, []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v10"
    finally:
        server.shutdown()
        server.server_close()


def test_discord_rest_reads_the_role(discord_api: str) -> None:
    FakeDiscord.members = {RITA.id: [REVIEWER_ROLE_ID]}
    by_name, by_id = DiscordRest(TOKEN, "reviewer", base_url=discord_api), DiscordRest(
        TOKEN, str(REVIEWER_ROLE_ID), base_url=discord_api)
    assert by_name(GUILD_ID, RITA.id) is True and by_id(GUILD_ID, RITA.id) is True
    FakeDiscord.members = {RITA.id: []}
    assert by_name(GUILD_ID, RITA.id) is False
    FakeDiscord.members = {}
    assert by_name(GUILD_ID, RITA.id) is False  # 404 Unknown Member: left the guild
    assert DiscordRest("wrong", "reviewer", base_url=discord_api)(GUILD_ID, RITA.id) is None
    assert DiscordRest(TOKEN, "reviewer", base_url="http://127.0.0.1:9")(GUILD_ID, 1) is None
    for check in (by_name, by_id):
        check.close()


def test_without_a_bot_here_the_rest_api_is_asked(conv: Conversation, discord_api: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    svc = conv.svc
    monkeypatch.setattr(RoleRechecks, "api_url", discord_api)
    monkeypatch.setattr(svc.settings, "discord_token", SecretStr(TOKEN))
    conv.identities.store.link("discord", str(RITA.id), "rita")
    org = guild_workspace(svc.db, svc.repo, GUILD_ID, "Tides")
    rita = svc.repo.ensure_user("rita")
    sync_reviewer(svc.db, org, rita, True)  # what the Discord bot (another process) recorded
    svc.repo.create_job("job-0a0a0a0a", title="tides", content_type="blog", user="ada")
    with svc.db.session() as s:
        row = s.get(Job, "job-0a0a0a0a")
        assert row is not None
        row.organization_id = uuid.UUID(str(org))
    job = conv.job("job-0a0a0a0a")

    FakeDiscord.members = {RITA.id: [REVIEWER_ROLE_ID]}
    conv.check_reviewer("rita", job)  # holds the role: may decide
    FakeDiscord.members = {RITA.id: []}
    with pytest.raises(Refused):
        conv.check_reviewer("rita", job)
    assert f"/api/v10/guilds/{GUILD_ID}/members/{RITA.id}" in FakeDiscord.seen
    assert role_memberships(svc.db, rita) == []
