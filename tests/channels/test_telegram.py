"""The Telegram bot through python-telegram-bot's real dispatch, offline.

Updates are the library's own ``Update.de_json`` objects fed to ``Application.process_update``;
the HTTP layer is replaced at the library's seam (a ``BaseRequest`` subclass, see
tests/channels/tg_harness.py) and the tests assert on the Bot API calls the bot makes. The
conversation, runner, storage, knowledge base, piper voice and whisper model are real; only
the chat model is scripted.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.error import NetworkError
from telegram.ext import Application

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent, artifact, progress
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.channels.telegram import build_application, check_telegram
from assistant.channels.telegram.chats import ChatDirectory
from assistant.channels.telegram.payloads import button_data, read_button
from assistant.channels.telegram.render import Renderer
from assistant.config import Settings
from assistant.errors import ConfigError
from tests.channels.tg_harness import (
    FILE_URL,
    TOKEN,
    Call,
    FakeTelegram,
    TgBot,
    make_voice_note,
    message,
    settings_with_token,
    tg_user,
)
from tests.conftest import SAMPLE_KB
from tests.fakes import FRAMING, scripted

ADA = tg_user(42, "Ada")
EVE = tg_user(666, "Eve")
BLOG = "write a blog post about how tides work"
REPO = Path(__file__).resolve().parents[2]


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def started_job(api: FakeTelegram, chat_id: int = 42) -> str | None:
    return api.started_job(chat_id)


def last_approval(api: FakeTelegram, job_id: str, stage: str) -> Call | None:
    found = api.approvals(42, job_id, stage)
    return found[-1] if found else None


# --- fast: payloads, chats, rendering ------------------------------------------------------


def test_button_data_is_signed_and_bound_to_job_action_and_stage(settings: Settings) -> None:
    data = button_data(settings, "approve", "job-1a2b3c4d", "review_script")
    assert len(data.encode()) <= 64
    press = read_button(settings, data)
    assert press is not None and (press.action, press.job_id, press.stage) == (
        "approve", "job-1a2b3c4d", "review_script")
    code, job, stage, tag = data.split("|")
    forged = [f"r|{job}|{stage}|{tag}", f"{code}|job-ffffffff|{stage}|{tag}",
              f"{code}|{job}|review_final|{tag}", f"{code}|{job}|{stage}|{'0' * 16}",
              f"{code}|{job}|{stage}|{tag[:8]}", "a|job-1a2b3c4d|review_script", "", "x" * 64]
    assert all(read_button(settings, f) is None for f in forged)


def test_no_token_is_one_config_error(settings: Settings, svc: Services) -> None:
    conv = Conversation(svc, JobRunner(svc))
    with pytest.raises(ConfigError) as missing:
        build_application(conv, settings)
    assert missing.value.user_message == ("no Telegram bot token: set "
                                          "ASSISTANT_TELEGRAM_TOKEN (from @BotFather)")
    bad = settings.model_copy(update={"telegram_token": SecretStr("not-a-token")})
    with pytest.raises(ConfigError, match="does not look like a bot token"):
        build_application(conv, bad)
    conv.runner.close()


def test_the_preflight_asks_telegram_who_the_bot_is() -> None:
    api = FakeTelegram()
    assert asyncio.run(check_telegram(TOKEN, api)) == "studio_test_bot"
    assert [c.method for c in api.calls] == ["getMe"]
    api.token_rejected = True
    with pytest.raises(ConfigError) as rejected:
        asyncio.run(check_telegram(TOKEN, api))
    assert rejected.value.user_message.startswith("Telegram rejected ASSISTANT_TELEGRAM_TOKEN")
    assert TOKEN not in str(rejected.value)  # the detail that gets logged has no secret

    class Offline(FakeTelegram):
        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            raise NetworkError("httpx.ConnectError: [Errno -2] Name or service not known")

    with pytest.raises(ConfigError) as offline:
        asyncio.run(check_telegram(TOKEN, Offline()))
    assert offline.value.user_message.startswith("cannot reach Telegram (api.telegram.org)")


def test_chat_ids_are_learned_and_kept(svc: Services) -> None:
    chats = ChatDirectory(svc.db)
    assert chats.chat_for(ChannelUser("telegram", "42")) == 42  # private chat id == user id
    chats.learn(42, -100777)
    assert ChatDirectory(svc.db).chat_for(ChannelUser("telegram", "42")) == -100777
    assert chats.chat_for(ChannelUser("discord", "42")) is None


def test_the_old_chats_file_is_imported_once(svc: Services, tmp_path: Path) -> None:
    old = tmp_path / "telegram_chats.json"
    old.write_text('{"42": -100777, "7": 7}', encoding="utf-8")
    ChatDirectory(svc.db).learn(7, -200)  # a row the database has already wins
    chats = ChatDirectory(svc.db, old)
    assert not old.exists() and (tmp_path / "telegram_chats.json.imported").is_file()
    assert chats.chat_for(ChannelUser("telegram", "42")) == -100777
    assert chats.chat_for(ChannelUser("telegram", "7")) == -200
    damaged = tmp_path / "damaged.json"
    damaged.write_text("{not json", encoding="utf-8")
    assert ChatDirectory(svc.db, damaged).chat_for(ChannelUser("telegram", "5")) == 5


@pytest.fixture
def renderer_app(settings: Settings) -> Iterator[tuple[Application, FakeTelegram]]:
    api = FakeTelegram()
    svc = Services.create(settings)
    conv = Conversation(svc, JobRunner(svc))
    app, _ = build_application(conv, settings_with_token(settings), request=api,
                               get_updates_request=FakeTelegram())
    yield app, api
    conv.runner.close()
    svc.close()


def test_progress_is_edited_in_place_and_throttled(renderer_app: tuple[Application, FakeTelegram],
                                                    settings: Settings) -> None:
    app, api = renderer_app

    async def scenario() -> None:
        await app.initialize()
        renderer = Renderer(app.bot, settings, edit_interval_s=0.5)
        for i in range(20):  # a burst: one message, then at most one edit per interval
            await renderer.show(42, progress("job-1a2b3c4d", "write", i * 5, f"section {i}"))
        sends = api.find("sendMessage", chat_id=42, text="⏳ job-1a2b3c4d")
        assert len(sends) == 1 and len(api.find("editMessageText")) == 0
        await renderer.drain()  # the throttled edit shows the latest state
        edits = api.find("editMessageText", chat_id=42)
        assert len(edits) == 1 and "section 19" in edits[0].params["text"]
        assert edits[0].params["message_id"] == sends[0].result["message_id"]
        await renderer.show(42, progress("job-1a2b3c4d", "write", 100.0, "done"))
        await renderer.show(42, OutEvent("text", "job-1a2b3c4d", "next"))  # flushes at once
        edits = api.find("editMessageText", chat_id=42)
        assert len(edits) == 2 and "✓ write" in edits[-1].params["text"]
        assert len(api.find("sendMessage", text="⏳")) == 1
        await app.shutdown()

    run(scenario())


def test_results_go_as_video_audio_photo_document_or_a_link(
        renderer_app: tuple[Application, FakeTelegram], settings: Settings,
        tmp_path: Path) -> None:
    app, api = renderer_app
    files = tmp_path / "out"
    files.mkdir()
    ff = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    subprocess.run([*ff, "-i", "color=c=blue:s=64x64:d=1", "-pix_fmt", "yuv420p",
                    str(files / "short.mp4")], check=True)
    subprocess.run([*ff, "-i", "sine=d=1", str(files / "episode.mp3")], check=True)
    subprocess.run([*ff, "-i", "color=c=red:s=64x64", "-frames:v", "1",
                    str(files / "cover.png")], check=True)
    (files / "post.md").write_text("# Tides\n", encoding="utf-8")
    big = settings.resolved_data_dir / "outbox" / "job-1a2b3c4d" / "long video.mp4"
    big.parent.mkdir(parents=True)
    with big.open("wb") as out:  # sparse: 51 MB on paper, over the 50 MB bot limit
        out.truncate(51_000_000)
    linked = settings.model_copy(update={"public_base_url": "https://studio.example/files"})

    async def scenario() -> None:
        await app.initialize()
        renderer = Renderer(app.bot, linked)
        for name in ("short.mp4", "episode.mp3", "cover.png", "post.md"):
            await renderer.show(42, artifact("job-1a2b3c4d", files / name))
        await renderer.show(42, artifact("job-1a2b3c4d", big))
        await Renderer(app.bot, settings).show(42, artifact("job-1a2b3c4d", big))
        await app.shutdown()

    run(scenario())
    sent = [(c.method, next(iter(c.files))) for c in api.calls if c.files]
    assert sent == [("sendVideo", "video"), ("sendAudio", "audio"), ("sendPhoto", "photo"),
                    ("sendDocument", "document")]
    video = api.find("sendVideo", chat_id=42)[0]
    filename, content, _ = video.files["video"]
    assert filename == "short.mp4" and content == (files / "short.mp4").read_bytes()
    assert video.params["caption"] == "job-1a2b3c4d: short.mp4"
    link = api.find("sendMessage", chat_id=42, text="over Telegram's 50 MB limit")
    url = link[0].params["text"].rsplit(" ", 1)[-1]  # the web app's signed link
    assert url.startswith("https://studio.example/files/media/"), url
    assert "/job-1a2b3c4d/" in url and url.endswith("/long%20video.mp4"), url
    data_dir = str(settings.resolved_data_dir)
    assert all(data_dir not in c.params.get("text", "") for c in api.calls)  # no server path
    assert "long video.mp4" in link[1].params["text"]  # no public URL: the name only


# --- the bot over a real conversation ------------------------------------------------------


def _texts(api: FakeTelegram, chat_id: int = 42) -> list[str]:
    return [str(c.params["text"]) for c in api.find("sendMessage", chat_id=chat_id)]


def test_commands_reply_texts(conv: Conversation, settings: Settings) -> None:
    async def scenario() -> FakeTelegram:
        async with TgBot(conv, settings) as tg:
            commands = tg.api.find("setMyCommands")[0].params["commands"]
            assert {c["command"] for c in commands} >= {"new", "status", "jobs", "help",
                                                         "approve", "revise", "link"}
            for text in ("/start", "/help", "/jobs", "/frobnicate", "/approve", "/link", "/kb",
                         "/status@studio_test_bot", "/new"):
                await tg.text(ADA, text)
            return tg.api

    api = asyncio.run(scenario())
    texts = _texts(api)
    assert texts[0].startswith("Ask in your own words") and texts[1] == texts[0]
    assert "/new TOPIC" in texts[1]
    assert texts[2].startswith("No jobs yet")
    assert texts[3] == "⚠️ unknown command /frobnicate: /help lists the commands"
    assert texts[4].startswith("⚠️ you have no job waiting for review")
    assert texts[5].startswith("Your link code is ")
    assert texts[6].startswith("Knowledge base (2 sources)")
    assert texts[7].startswith("No jobs yet")
    assert texts[8].startswith("⚠️ say what it should be about")
    assert len(texts) == 9


def test_files_sent_to_the_bot_go_into_the_knowledge_base(conv: Conversation,
                                                          settings: Settings) -> None:
    page = ("# Rip currents\n\nRip currents are narrow channels of fast water flowing away "
            "from the beach, strongest around low tide.\n")

    async def scenario() -> FakeTelegram:
        async with TgBot(conv, settings) as tg:
            await tg.document(ADA, "rip-currents.md", page.encode())
            await tg.text(ADA, "/kb")
            return tg.api

    api = asyncio.run(scenario())
    assert api.downloads == [f"{FILE_URL}documents/rip-currents.md"]
    texts = _texts(api)
    assert texts[0].startswith("✓ rip-currents.md: added"), texts
    assert texts[1].startswith("Knowledge base (3 sources)")


def test_group_chats_and_edits(conv: Conversation, settings: Settings) -> None:
    group = -100123

    async def scenario() -> FakeTelegram:
        async with TgBot(conv, settings) as tg:
            await tg.text(ADA, "/jobs", chat_id=group)
            edited = message(ADA, "/help")
            edited["edited_message"] = edited.pop("message")
            await tg.feed(edited)  # an edited message is not a new request
            await tg.text(ADA, "nice weather today", chat_id=group)  # not for the bot
            await tg.text(ADA, f"@studio_test_bot {BLOG}", chat_id=group)
            job_id = started_job(tg.api, group)
            assert job_id
            await tg.settle(job_id)
            assert tg.api.approvals(group, job_id)  # the job's events follow Ada to the group
            return tg.api

    api = asyncio.run(scenario())
    assert not api.find("sendMessage", chat_id=42)
    assert [c.method for c in api.calls if c.params.get("text", "").startswith("Ask in")] == []
    assert not api.find("sendMessage", text="what should it be about")
    texts = _texts(api, group)
    assert texts[0].startswith("No jobs yet") and texts[1].startswith("Started job-")
    chats = ChatDirectory(conv.svc.db)
    assert chats.chat_for(ChannelUser("telegram", "42")) == group


def test_a_jobs_events_stay_in_the_chat_it_was_asked_in(conv: Conversation,
                                                          settings: Settings) -> None:
    """Ada asks in private, then writes in a group while the job runs: the job's review
    must not be shown to the group (it used to follow her to the chat she last wrote in)."""
    group = -100555

    async def scenario() -> FakeTelegram:
        async with TgBot(conv, settings) as tg:
            await tg.text(ADA, BLOG)
            job_id = started_job(tg.api)
            assert job_id
            await tg.text(ADA, "/jobs", chat_id=group)
            await tg.settle(job_id)
            assert tg.api.approvals(42, job_id)
            assert not tg.api.approvals(group, job_id)
            chats = ChatDirectory(conv.svc.db)  # a restarted bot knows too
            assert chats.chat_for_job(ChannelUser("telegram", "42"), job_id) == 42
            assert chats.chat_for_job(ChannelUser("telegram", "666"), job_id) == 666
            return tg.api

    api = asyncio.run(scenario())
    texts = _texts(api, group)  # the group hears only the answer to what was asked there
    assert len(texts) == 1 and texts[0].startswith("Your jobs"), texts
    assert not [c for c in api.calls if c.params.get("chat_id") == group
                and c.method != "sendMessage"]


def test_a_blog_goes_through_buttons_to_publication(conv: Conversation,
                                                    settings: Settings) -> None:
    async def scenario() -> None:
        async with TgBot(conv, settings) as tg:
            api = tg.api
            await tg.text(ADA, BLOG)
            job_id = started_job(api)
            assert job_id, _texts(api)
            await tg.settle(job_id)
            assert conv.job(job_id).status == "review"

            # progress: one message per stretch of the job, edited in place
            progress_msgs = api.find("sendMessage", chat_id=42, text=f"⏳ {job_id}")
            edits = api.find("editMessageText", chat_id=42)
            assert len(progress_msgs) == 1 and len(edits) >= 2
            assert {e.params["message_id"] for e in edits} == {
                progress_msgs[0].result["message_id"]}
            assert "✓ research" in edits[-1].params["text"]

            review = last_approval(api, job_id, "review_script")
            assert review is not None and [b["text"] for b in review.buttons] == [
                "✅ Approve", "✏️ Revise", "❌ Reject"]
            assert all(read_button(tg.settings, b["callback_data"]) for b in review.buttons)

            # someone else's press is refused, to them only, and changes nothing
            before = len(api.calls)
            await tg.press(EVE, review.button("approve"), review)
            refusal = api.calls[before:]
            assert [c.method for c in refusal] == ["answerCallbackQuery"]
            assert refusal[0].params["show_alert"] is True
            assert "is not yours" in refusal[0].params["text"]
            await tg.press(EVE, review.button("revise"), review)
            assert "is not yours" in api.calls[-1].params["text"]
            assert conv.job(job_id).status == "review"
            pending = conv.runner.pending_review(job_id)
            assert pending and pending["action_request"]["action"] == "review_script"
            assert not api.find("sendMessage", chat_id=666)

            # a forged button (another action with the approve tag) is rejected
            code, job, stage, tag = review.button("approve").split("|")
            await tg.press(ADA, f"r|{job}|{stage}|{tag}", review)
            assert api.calls[-1].method == "answerCallbackQuery"
            assert "not valid" in api.calls[-1].params["text"]
            assert api.calls[-1].params["show_alert"] is True
            assert conv.job(job_id).status == "review"

            # revise: a ForceReply prompt, the reply is the notes
            await tg.press(ADA, review.button("revise"), review)
            prompt = api.calls[-1]
            assert prompt.method == "sendMessage" and prompt.params["reply_markup"][
                "force_reply"] is True
            replied = {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"},
                       "from": {"id": 7000001, "is_bot": True, "first_name": "Studio"},
                       "text": prompt.params["text"]}
            await tg.text(ADA, "mention the spring tides too", reply_to=replied)
            assert f"Sent your notes for {job_id} (review_script)." in _texts(api)
            await tg.settle(job_id)
            assert len(api.approvals(42, job_id)) == 2

            # approve twice through the buttons: the draft is published, the file sent
            review = last_approval(api, job_id, "review_script")
            assert review is not None
            before = len(api.calls)
            await tg.press(ADA, review.button("approve"), review)
            methods = [c.method for c in api.calls[before:]  # the job's own messages may
                       if c.method not in ("sendMessage", "editMessageText")]  # interleave
            assert methods == ["answerCallbackQuery", "editMessageReplyMarkup"]
            assert f"Approved {job_id} (review_script)." in _texts(api)
            await tg.settle(job_id)
            final = last_approval(api, job_id, "review_final")
            assert final is not None
            await tg.press(ADA, review.button("approve"), review)  # stale: a decided review
            assert "no longer waiting at review_script" in api.calls[-1].params["text"]
            await tg.press(ADA, final.button("approve"), final)
            await tg.settle(job_id)
            assert conv.job(job_id).status == "published"
            doc = api.find("sendDocument", chat_id=42)
            assert len(doc) == 1 and doc[0].files["document"][0].endswith(".md")
            assert b"ides" in doc[0].files["document"][1]
            assert _texts(api)[-1] == f"{job_id} is published."

    run(scenario())


@pytest.mark.slow
def test_a_voice_note_is_a_request(conv: Conversation, settings: Settings,
                                   tmp_path: Path) -> None:
    ogg = make_voice_note("Make a blog post about how tides work.", tmp_path)

    async def scenario() -> None:
        async with TgBot(conv, settings) as tg:
            await tg.voice(ADA, ogg, file_id="voiceABC")
            get_file = tg.api.find("getFile")
            assert get_file and get_file[0].params["file_id"] == "voiceABC"
            assert tg.api.downloads == [
                f"https://api.telegram.org/file/bot{tg.settings.telegram_token.get_secret_value()}"  # type: ignore[union-attr]
                "/voice/voiceABC.oga"]
            heard = tg.api.find("sendMessage", chat_id=42, text="I heard")
            assert heard and "tides" in heard[0].params["text"].lower()
            job_id = started_job(tg.api)
            assert job_id, _texts(tg.api)
            await tg.settle(job_id)
            brief = conv.runner.state(job_id)["brief"]
            assert "tides" in brief.topic and brief.format == "blog"
            assert last_approval(tg.api, job_id, "review_script")

    run(scenario())


def _services(settings: Settings) -> tuple[Services, JobRunner, Conversation]:
    svc = Services.create(settings)
    svc.set_chat(scripted(FRAMING))
    runner = JobRunner(svc)
    return svc, runner, Conversation(svc, runner)


def test_a_restart_shows_the_pending_approval_again(settings: Settings) -> None:
    svc, runner, conv = _services(settings)
    svc.kb().add([SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"])

    async def before() -> str:
        async with TgBot(conv, settings) as tg:
            await tg.text(ADA, BLOG)
            job_id = started_job(tg.api)
            assert job_id
            await tg.settle(job_id)
            assert last_approval(tg.api, job_id, "review_script")
            return job_id

    job_id = asyncio.run(before())
    conv.close()
    runner.close()
    svc.close()

    svc, runner, conv = _services(settings)  # a new process on the same data dir

    async def after() -> None:
        async with TgBot(conv, settings) as tg:
            shown = tg.api.approvals(42, job_id)  # at start-up, before any update
            assert len(shown) == 1 and "(review_script)" in shown[0].params["text"]
            await tg.press(ADA, shown[0].button("approve"), shown[0])
            assert f"Approved {job_id} (review_script)." in _texts(tg.api)
            await tg.settle(job_id)
            assert last_approval(tg.api, job_id, "review_final")

    try:
        asyncio.run(after())
    finally:
        conv.close()
        runner.close()
        svc.close()


@pytest.mark.slow
def test_the_cli_without_a_token_exits_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([str(Path(sys.executable).parent / "assistant"), "telegram"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ASSISTANT_TELEGRAM_TOKEN" in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data").exists()  # the preflight failed before opening anything
