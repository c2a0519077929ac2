"""The Discord bot, offline: discord.py's own dispatch in, the exact API calls out.

Interactions are fed to the client's ConnectionState as the gateway would; REST calls and
interaction callbacks are recorded at discord.py's HTTP seams (tests/channels/
discord_harness.py). The conversation, runner, storage and knowledge base are real; only the
chat model is scripted. Jobs are blogs (no media steps) so they reach a review in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app.conversation import Conversation
from assistant.app.events import OutEvent
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.channels.discord import NO_TOKEN, run_bot
from assistant.channels.discord.bot import DOWNLOAD_LIMIT_MB
from assistant.channels.discord.buttons import make_id, read_id
from assistant.channels.discord.render import deliver_artifact
from assistant.channels.discord.routes import Route, Routes
from assistant.channels.discord.workspaces import guild_slug, role_memberships
from assistant.config import Settings
from assistant.errors import ConfigError
from storage.models import Job, Organization
from tests.app.conftest import conversation_over
from tests.channels.discord_harness import (
    APP_ID,
    CHANNEL_ID,
    REVIEWER_ROLE_ID,
    DiscordHarness,
    Person,
    Reply,
    dm_channel,
)
from tests.conftest import SAMPLE_KB
from tests.fakes import FRAMING, scripted

ADA = Person(777, "ada")  # starts the jobs
BOB = Person(888, "bob", roles=(REVIEWER_ROLE_ID,))  # holds the guild's reviewer role
CAL = Person(999, "cal")  # a guild member without it
EPHEMERAL = 64


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conversation]:
    """One conversation for the tests that only add jobs of their own (building the
    knowledge base once keeps this file fast); each test gets its own bot over it."""
    data_dir = tmp_path_factory.mktemp("discord") / "data"
    settings = Settings(_env_file=None, data_dir=data_dir, seed_sample_kb=False)
    svc = Services.create(settings)
    added = svc.kb().add([SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"])
    assert all(r.status == "added" for r in added), added
    with conversation_over(svc) as conversation:
        yield conversation
    svc.close()


@pytest.fixture
def dc(studio: Conversation) -> Iterator[DiscordHarness]:
    with DiscordHarness(studio) as harness:
        yield harness


def create(dc: DiscordHarness, person: Person = ADA, *, guild: bool = True,
           topic: str = "how tides work") -> str:
    """/create a blog; returns the job id once it waits for its script review."""
    reply = dc.slash("create", person, guild=guild, topic=topic, format="blog")
    assert reply.type == 4 and not reply.ephemeral, reply.calls
    assert reply.content.startswith("Started job-"), reply.content
    job_id = reply.content.split()[1].rstrip(":")
    dc.settle(job_id)
    return job_id


def status(conv: Conversation, job_id: str) -> str:
    job = conv.svc.repo.get_job(job_id)
    assert job is not None
    return job.status


def refused(reply: Reply, words: str) -> None:
    assert reply.type == 4 and reply.ephemeral, reply.calls
    assert words in reply.content, reply.content
    # nothing but the ephemeral answer (and maybe a read of the guild's roles): no edit of
    # the review message, no post
    assert [c.path for c in reply.calls if c.method != "GET"] == [reply.callback.path]


# --- start-up ----------------------------------------------------------------------------


def test_no_token_is_one_line(settings: Settings) -> None:
    with pytest.raises(ConfigError) as caught:
        run_bot(settings)
    assert caught.value.user_message == NO_TOKEN and "\n" not in NO_TOKEN


@pytest.mark.slow
def test_the_cli_without_a_token_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path / "data")
    exe = Path(sys.executable).with_name("assistant")
    done = subprocess.run([str(exe), "discord"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ASSISTANT_DISCORD_TOKEN" in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_login_syncs_the_slash_commands(dc: DiscordHarness) -> None:
    sync = [c for c in dc.all_calls() if c.method == "PUT"]
    assert [c.path for c in sync] == [f"/applications/{APP_ID}/commands"]
    assert isinstance(sync[0].json, list)
    commands = {c["name"]: c for c in sync[0].json}
    from assistant.app.command_registry import REGISTRY

    assert set(commands) == {"create", "status", "jobs", "kb", "link", "help", *REGISTRY}
    for name in REGISTRY:  # a group command: one optional free-text argument, everywhere
        (args,) = commands[name]["options"]
        assert (args["name"], args["type"], args.get("required")) == ("args", 3, False)
        assert set(commands[name]["contexts"]) == {0, 1} and commands[name]["description"]
    options = {o["name"]: o for o in commands["create"]["options"]}
    assert options["topic"]["required"] and not options["format"].get("required")
    assert "blog" in [c["value"] for c in options["format"]["choices"]]
    assert set(commands["create"]["contexts"]) == {0, 1}  # servers and DMs with the bot
    kb_file = commands["kb"]["options"][0]
    assert (kb_file["name"], kb_file["type"], kb_file.get("required")) == ("file", 11, False)
    assert set(commands["kb"]["contexts"]) == {0, 1}
    # a bad /create is answered to the asker only
    jobs = len(dc.conv.svc.repo.list_jobs(1000))
    reply = dc.slash("create", ADA, topic="  --  ", format="blog")
    assert reply.ephemeral and reply.content.startswith("⚠️ say what it should be about")
    assert len(dc.conv.svc.repo.list_jobs(1000)) == jobs


# --- buttons -----------------------------------------------------------------------------


def test_button_ids_are_signed(settings: Settings) -> None:
    custom_id = make_id(settings, "approve", "job-1a2b3c4d", "review_script")
    assert len(custom_id) <= 100 and custom_id.startswith("ai:approve:job-1a2b3c4d:")
    press = read_id(settings, custom_id)
    assert press is not None
    assert (press.action, press.job_id, press.stage) == ("approve", "job-1a2b3c4d",
                                                          "review_script")
    tag = custom_id.rsplit(":", 1)[1]
    # one signature character changed, away from the end: the last base64 character of a
    # 32-byte digest carries 2 bits nobody reads, so changing it can leave the bytes the same
    at = len(custom_id) - 5
    flipped = custom_id[:at] + ("A" if custom_id[at] != "A" else "B") + custom_id[at + 1:]
    for forged in (f"ai:approve:job-99999999:review_script:{tag}",
                   f"ai:reject:job-1a2b3c4d:review_script:{tag}",
                   f"ai:approve:job-1a2b3c4d:review_final:{tag}",
                   flipped,
                   "ai:approve:job-1a2b3c4d:review_script"):
        assert read_id(settings, forged) is None, forged


def test_a_job_runs_to_review_with_one_progress_message_edited_in_place(
        dc: DiscordHarness) -> None:
    job_id = create(dc)
    posts = dc.recorder.posts(CHANNEL_ID)
    progress = [c for c in posts if c.content.startswith(f"⏳ **{job_id}**")]
    assert len(progress) == 1, [c.content for c in posts]
    message_id = next(int(m["id"]) for m in dc.recorder.messages.values()
                      if m["content"].startswith(f"⏳ **{job_id}**"))
    edits = dc.recorder.edits(CHANNEL_ID, message_id)
    assert edits, "the progress message was never edited"
    events = [e for e in dc.conv.history(job_id) if e.kind == "progress"]
    assert len(edits) + 1 <= len(events)  # throttled: never more sends than events
    final = edits[-1].content
    assert "✓ brief" in final and "✓ research" in final and "write" in final
    # then the review, with the three signed buttons for this job and stage
    approval = dc.approvals(job_id, CHANNEL_ID)
    assert len(approval) == 1 and posts.index(approval[0]) > posts.index(progress[0])
    assert "waits for your script review" in approval[0].content
    presses = [read_id(dc.conv.svc.settings, i) for i in approval[0].custom_ids]
    assert [(p.action, p.job_id, p.stage) for p in presses if p] == [
        (a, job_id, "review_script") for a in ("approve", "revise", "reject")]
    # the guild is a workspace and the job belongs to it
    with dc.conv.svc.db.session() as s:
        org = s.query(Organization).filter_by(slug=guild_slug(int(GUILD))).one()
        assert s.get(Job, job_id).organization_id == org.id  # type: ignore[union-attr]


GUILD = "910000000000000001"


def test_the_owner_approves_and_the_message_is_updated(dc: DiscordHarness) -> None:
    job_id = create(dc)
    old = {a: dc.button(job_id, a) for a in ("approve", "revise", "reject")}
    reply = dc.press(old["approve"], ADA)
    assert reply.type == 7 and reply.custom_ids == []  # the buttons go away
    assert "Approved by <@777>" in reply.content
    dc.settle(job_id)
    assert dc.approvals(job_id)[-1].custom_ids[0].startswith(f"ai:approve:{job_id}:review_final")
    # the script review's buttons cannot decide the final review
    for action in ("approve", "revise", "reject"):
        refused(dc.press(old[action], ADA), "already decided")
    assert status(dc.conv, job_id) == "review"


def test_a_second_users_press_is_refused_and_changes_nothing(dc: DiscordHarness) -> None:
    job_id = create(dc)
    before = dc.recorder.mark()
    refused(dc.press(dc.button(job_id, "approve"), CAL), "is not yours")
    refused(dc.press(dc.button(job_id, "reject"), CAL), "is not yours")
    refused(dc.press(dc.button(job_id, "revise"), CAL), "is not yours")  # no form for them
    dc.settle(job_id)
    assert status(dc.conv, job_id) == "review"
    assert dc.conv.svc.repo.approvals(job_id)[0].status == "pending"
    assert all(c.path.startswith("/interactions/") for c in dc.recorder.since(before))


def test_a_forged_button_is_rejected(dc: DiscordHarness) -> None:
    job_id = create(dc)
    real = dc.button(job_id, "approve")
    body, tag = real.rsplit(":", 1)
    for forged in (f"{body}:{'0' * 16}", real.replace("review_script", "review_final"),
                   f"ai:approve:job-00000000:review_script:{tag}", "ai:whatever"):
        reply = dc.press(forged, ADA)
        assert reply.type == 4 and reply.ephemeral and "not valid" in reply.content, forged
    dc.settle(job_id)
    assert status(dc.conv, job_id) == "review"


def test_revise_opens_a_form_whose_notes_are_sent(dc: DiscordHarness) -> None:
    job_id = create(dc)
    settings = dc.conv.svc.settings
    message = dc.recorder.message_with(dc.button(job_id, "revise"))
    assert message is not None
    form = dc.press(dc.button(job_id, "revise"), ADA)
    assert form.type == 9
    assert form.data["custom_id"] == make_id(settings, "notes", job_id, "review_script")
    assert form.custom_ids == ["notes"]
    assert status(dc.conv, job_id) == "review"  # opening the form decides nothing

    sent = dc.submit(form.data["custom_id"], ADA, "make the hook punchier", message=message)
    assert sent.type == 7 and sent.custom_ids == []
    assert "Revision requested by <@777>" in sent.content
    assert "> make the hook punchier" in sent.content
    dc.settle(job_id)
    assert dc.conv.runner.state(job_id)["revision_notes"] == ["make the hook punchier"]
    again = dc.approvals(job_id)
    assert len(again) == 2 and again[-1].custom_ids == again[0].custom_ids  # same stage
    # a forged form is refused like a forged button
    forged = dc.submit(form.data["custom_id"][:-4] + "0000", ADA, "x", message=message)
    assert forged.ephemeral and "not valid" in forged.content


def test_a_guild_reviewer_may_approve_a_members_job(dc: DiscordHarness) -> None:
    job_id = create(dc)
    refused(dc.press(dc.button(job_id, "approve"), CAL), "is not yours")
    reply = dc.press(dc.button(job_id, "approve"), BOB)
    assert reply.type == 7 and "Approved by <@888>" in reply.content
    dc.settle(job_id)
    decided = dc.conv.svc.repo.approvals(job_id)[0]
    assert decided.status == "approved" and (decided.decided_by or "").startswith(
        "discord:888 via discord:888")
    # Bob lost the role: the membership it stood for is gone, and so is his say
    demoted = Person(BOB.id, BOB.name)
    refused(dc.press(dc.button(job_id, "approve"), demoted), "is not yours")
    assert status(dc.conv, job_id) == "review"
    # the owner approves the final review; the published post is uploaded to the channel
    reply = dc.press(dc.button(job_id, "approve"), ADA)
    assert reply.type == 7
    dc.settle(job_id)
    assert status(dc.conv, job_id) == "published"
    uploads = [c for c in dc.recorder.posts(CHANNEL_ID) if c.files]
    assert uploads and uploads[-1].files[0].endswith(".md"), uploads
    assert uploads[-1].sizes[0] > 100
    assert dc.recorder.posts(CHANNEL_ID)[-1].content == f"{job_id} is published."


def test_a_demoted_reviewer_is_refused_in_dms(dc: DiscordHarness) -> None:
    """The role is asked of Discord when Bob decides from his DMs: demoted in the guild
    since he was last seen there, he no longer reviews (the membership used to stay)."""
    job_id = create(dc)
    dc.slash("jobs", BOB)  # seen holding the reviewer role in the guild
    dc.recorder.members[BOB.id] = ()  # then demoted, with no guild interaction since
    refused(dc.press(dc.button(job_id, "approve"), BOB, guild=False), "is not yours")
    answer = dc.message(BOB, f"/approve {job_id}")
    assert "is not yours" in answer[0].content, answer[0].content
    assert any(c.path.endswith(f"/members/{BOB.id}") for c in dc.recorder.calls)
    assert status(dc.conv, job_id) == "review"
    svc = dc.conv.svc
    assert not role_memberships(svc.db, svc.repo.ensure_user(f"discord:{BOB.id}"))


def test_a_reviewer_who_left_the_guild_is_refused(dc: DiscordHarness) -> None:
    job_id = create(dc)
    dc.slash("jobs", BOB)
    del dc.recorder.members[BOB.id]  # Discord answers 404 Unknown Member
    refused(dc.press(dc.button(job_id, "approve"), BOB, guild=False), "is not yours")
    assert status(dc.conv, job_id) == "review"


def test_dms_work(dc: DiscordHarness) -> None:
    job_id = create(dc, guild=False)
    dm = dm_channel(ADA.id)
    # a job outside the guild is not the guild reviewers' to decide
    dc.slash("jobs", BOB)  # Bob is seen with the reviewer role in the guild
    refused(dc.press(dc.button(job_id, "approve"), BOB, guild=True), "is not yours")
    assert dc.approvals(job_id, dm) and dc.recorder.posts(dm)[0].content.startswith("⏳")
    reply = dc.slash("jobs", ADA, guild=False)
    assert reply.ephemeral and job_id in reply.content
    reply = dc.slash("status", ADA, guild=False, job=job_id)
    assert "waiting for review" in reply.content
    assert reply.custom_ids == dc.approvals(job_id, dm)[0].custom_ids  # the buttons again
    help_ = dc.slash("help", ADA, guild=False)
    assert help_.ephemeral and "/create" in help_.content
    code = dc.slash("link", ADA, guild=False)
    assert code.ephemeral and "Your link code is" in code.content
    reply = dc.press(dc.button(job_id, "approve"), ADA)
    assert reply.type == 7
    dc.settle(job_id)
    assert dc.approvals(job_id, dm)[-1].custom_ids[0].startswith(f"ai:approve:{job_id}:review_f")


def test_plain_words_work_in_dms(dc: DiscordHarness) -> None:
    dan = Person(444, "dan")  # no other job of his waits for review
    answer = dc.message(dan, "write a blog post about how tides work")
    assert answer[0].content.startswith("Started job-"), answer
    job_id = answer[0].content.split()[1].rstrip(":")
    dc.settle(job_id)
    dm = dm_channel(dan.id)
    assert dc.approvals(job_id, dm)
    asked = dc.message(dan, "make the hook punchier")  # notes for the draft, confirmed first
    assert asked[0].content == f"Revise {job_id} with: “make the hook punchier”? Reply yes or no."
    assert dc.message(dan, "yes")[0].content.startswith(f"Sent your notes for {job_id}")
    dc.settle(job_id)
    assert dc.conv.runner.state(job_id)["revision_notes"] == ["make the hook punchier"]
    assert len(dc.approvals(job_id, dm)) == 2


def test_progress_edits_are_throttled(studio: Conversation) -> None:
    with DiscordHarness(studio, edit_interval=30) as dc:  # far longer than the job takes
        job_id = create(dc)
        progress = [c for c in dc.recorder.posts(CHANNEL_ID) if c.content.startswith("⏳")]
        assert len(progress) == 1
        message_id = next(int(m["id"]) for m in dc.recorder.messages.values()
                          if m["content"].startswith(f"⏳ **{job_id}**"))
        edits = dc.recorder.edits(CHANNEL_ID, message_id)
        # every update in between was folded into one edit, sent before the review
        assert len(edits) == 1 and "✓ write" in edits[0].content
        calls = list(dc.all_calls())
        assert calls.index(edits[0]) < calls.index(dc.approvals(job_id)[0])


def test_a_job_started_elsewhere_reaches_the_user_by_dm(dc: DiscordHarness) -> None:
    from assistant.app.events import ChannelUser

    started = dc.conv.handle(ChannelUser("discord", str(ADA.id)), "/new tides --format blog")
    job_id = started[0].job_id or ""
    dc.settle(job_id)
    opened = [c for c in dc.all_calls() if c.path == "/users/@me/channels"]
    assert opened and opened[0].json == {"recipient_id": ADA.id}
    assert dc.approvals(job_id, dm_channel(ADA.id))


# --- the knowledge base ------------------------------------------------------------------

TIDE_POOLS = (b"# Tide pools\n\nTide pools are rocky hollows the sea fills at high tide and "
              b"leaves behind at low tide. Anemones, crabs and snails live in them, and must "
              b"bear heat, fresh rain and waves twice a day.\n")


@pytest.fixture
def blank(settings: Settings) -> Iterator[DiscordHarness]:
    """A bot over a studio whose knowledge base starts empty (files added here stay out of
    the shared one)."""
    svc = Services.create(settings)
    runner = JobRunner(svc)
    conversation = Conversation(svc, runner)
    try:
        with DiscordHarness(conversation) as harness:
            yield harness
    finally:
        conversation.close()
        runner.close()
        svc.close()


def sources(dc: DiscordHarness) -> list[str]:
    return [s.uri.rsplit("/", 1)[-1] for s in dc.conv.svc.kb().sources()]


def test_kb_lists_the_sources(dc: DiscordHarness) -> None:
    reply = dc.slash("kb", ADA)
    assert reply.type == 4 and reply.ephemeral, reply.calls
    assert reply.content.startswith("Knowledge base (2 sources):"), reply.content
    assert "how-tides-work.md" in reply.content and "spring-and-neap-tides.md" in reply.content
    assert dc.recorder.downloads() == []


def test_kb_with_a_file_adds_it(blank: DiscordHarness) -> None:
    page = blank.upload("tide-pools.md", TIDE_POOLS)
    reply = blank.slash("kb", ADA, file=page)
    # "thinking…" to the asker only, then the result, to the asker only
    assert reply.type == 5 and reply.ephemeral, reply.calls
    assert blank.recorder.downloads() == [page["url"]]
    [answer] = reply.followups
    assert answer.content.startswith("✓ tide-pools.md: added, 1 passages"), answer.content
    assert isinstance(answer.json, dict) and answer.json["flags"] & EPHEMERAL
    assert [s.endswith("-tide-pools.md") for s in sources(blank)] == [True]
    listed = blank.slash("kb", ADA, guild=False)
    assert "Tide pools (" in listed.content and listed.ephemeral
    # the same file again changes nothing; a kind the loaders refuse is not even fetched
    again = blank.slash("kb", ADA, guild=False, file=blank.upload("tide-pools.md", TIDE_POOLS))
    assert "unchanged" in again.followups[0].content
    refused(blank.slash("kb", ADA, file=blank.upload("tides.exe", b"MZ")),
            "tides.exe: '.exe' files are not supported")
    assert len(blank.recorder.downloads()) == 2 and len(sources(blank)) == 1


def test_a_file_over_the_limit_is_refused_unfetched(blank: DiscordHarness) -> None:
    big = blank.upload("atlas.pdf", b"%PDF-1.4", size=(DOWNLOAD_LIMIT_MB + 1) * 1000 * 1000)
    reply = blank.slash("kb", ADA, file=big)
    refused(reply, f"atlas.pdf is over {DOWNLOAD_LIMIT_MB} MB")
    assert "\n" not in reply.content and "`assistant kb add`" in reply.content
    answer = blank.message(ADA, "", attachments=[big])  # the same in DMs
    assert [c.content for c in answer] == [reply.content]
    assert blank.recorder.downloads() == [] and sources(blank) == []


def test_a_failure_after_thinking_is_answered(blank: DiscordHarness,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[OutEvent]:
        raise RuntimeError("the knowledge base fell over")

    monkeypatch.setattr(blank.conv, "add_files", broken)
    reply = blank.slash("kb", ADA, file=blank.upload("tide-pools.md", TIDE_POOLS))
    assert reply.type == 5 and reply.ephemeral
    [answer] = reply.followups
    assert answer.content.startswith("something went wrong on our side"), answer.content
    assert isinstance(answer.json, dict) and answer.json["flags"] & EPHEMERAL


def test_a_file_sent_in_dms_is_added(blank: DiscordHarness) -> None:
    page = blank.upload("tide-pools.md", TIDE_POOLS)
    gone = blank.upload("deleted.md", b"# Gone\n")
    del blank.recorder.cdn[gone["url"]]  # deleted before the bot fetched it: a 404
    answer = blank.message(ADA, "", attachments=[page, gone])
    assert len(answer) == 1, answer
    lines = answer[0].content.splitlines()
    assert lines == ["⚠️ I could not fetch deleted.md from Discord (404): send it again",
                     "✓ tide-pools.md: added, 1 passages"], lines
    assert blank.recorder.downloads() == [page["url"], gone["url"]]
    assert [s.endswith("-tide-pools.md") for s in sources(blank)] == [True]
    # words sent with a file are still read: here, the shared /kb command
    other = blank.upload("sky.md", (SAMPLE_KB / "why-the-sky-is-blue.md").read_bytes())
    mark = blank.recorder.mark()
    blank.message(ADA, "/kb", attachments=[other])
    blank.settle()
    said = [c.content for c in blank.recorder.since(mark) if c.method == "POST"]
    assert said[0].startswith("✓ sky.md: added") and said[1].startswith(
        "Knowledge base (2 sources):"), said


# --- results -----------------------------------------------------------------------------


def test_a_big_result_is_a_link(settings: Settings, tmp_path: Path) -> None:
    path = settings.resolved_data_dir / "outbox" / "job-1a2b3c4d" / "video.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"0" * 2048)
    event = OutEvent("artifact", "job-1a2b3c4d", "video.mp4", path=str(path), mime="video/mp4")
    small = settings.model_copy(update={"discord_upload_limit_mb": 0.001})
    assert deliver_artifact(settings, event).attach == path
    linked = small.model_copy(update={"public_base_url": "https://files.example/"})
    text = deliver_artifact(linked, event).text
    url = text.rsplit(" ", 1)[-1]  # the web app's signed link, bound to the job
    assert url.startswith("https://files.example/media/") and url.endswith("/video.mp4")
    assert "/job-1a2b3c4d/" in url and str(settings.resolved_data_dir) not in text
    assert deliver_artifact(small, event).attach is None
    unlinked = deliver_artifact(small, event).text  # no public address: the name only
    assert "video.mp4" in unlinked and str(path.parent) not in unlinked
    path.unlink()
    assert str(path.parent) not in deliver_artifact(settings, event).text


# --- restart -----------------------------------------------------------------------------


def test_a_restart_mid_job_loses_nothing(conv: Conversation, settings: Settings) -> None:
    with DiscordHarness(conv) as first:
        job_id = create(first)
        old_button = first.button(job_id, "approve")
        old_message = first.recorder.message_with(old_button)
    conv.close()
    conv.runner.close()

    svc = Services.create(settings)  # a new process: fresh services, runner, conversation
    svc.set_chat(scripted(FRAMING))
    runner = JobRunner(svc)
    again = Conversation(svc, runner)
    try:
        with DiscordHarness(again) as second:
            shown = second.approvals(job_id, CHANNEL_ID)  # at start-up, in the job's channel
            assert len(shown) == 1 and old_button in shown[0].custom_ids
            reply = second.press(old_button, ADA, message=old_message)  # the OLD message
            assert reply.type == 7 and "Approved by <@777>" in reply.content
            second.settle(job_id)
            assert svc.repo.approvals(job_id)[0].status == "approved"
            final = second.approvals(job_id, CHANNEL_ID)[-1]
            assert final.custom_ids[0].startswith(f"ai:approve:{job_id}:review_final:")
    finally:
        again.close()
        runner.close()
        svc.close()


def test_the_old_routes_file_is_imported_once(svc: Services, tmp_path: Path) -> None:
    svc.repo.create_job("job-0000000a", title="t", content_type="blog")
    old = tmp_path / "discord_routes.json"
    old.write_text('{"jobs": {"job-0000000a": {"channel_id": 1234567890123456789, '
                   '"guild_id": null, "progress_message_id": 5}, "job-gone": '
                   '{"channel_id": 1}, "job-0000000b": {"guild_id": 2}}}', encoding="utf-8")
    routes = Routes(svc.db, old)
    assert not old.exists() and (tmp_path / "discord_routes.json.imported").is_file()
    assert routes.get("job-0000000a") == Route(1234567890123456789, None, 5)
    assert routes.get("job-gone") is None and routes.get("job-0000000b") is None
    routes.set("job-0000000a", 99, 7)
    assert Routes(svc.db).get("job-0000000a") == Route(99, 7)  # kept for the next process
