"""The shared slash commands and the request parser; replies checked with the real runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app.commands import (
    COMMANDS,
    HELP_TEXT,
    Command,
    RequestParse,
    guess_request,
    is_new_request,
    parse_command,
    parse_request,
)
from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.errors import InputError
from tests.fakes import scripted

TG = ChannelUser("telegram", "42", "Ada")


def text_of(events: list[OutEvent], kind: str = "text") -> str:
    assert len(events) >= 1 and events[0].kind == kind, events
    return events[0].text


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("make a 45-second casual short about tides for TikTok",
     RequestParse("tides", "short", "casual", 45)),
    ("Write a professional blog post about how podcasts work, 800 words",
     RequestParse("how podcasts work", "blog", "professional", words=800)),
    ("a 2 minute youtube video on why the sky is blue please",
     RequestParse("why the sky is blue", "video", seconds=120)),
    ("can you do a linkedin post about black holes in a viral tone",
     RequestParse("black holes", "social", "viral")),
    ("podcast episode about photosynthesis in 5 minutes",
     RequestParse("photosynthesis", "podcast", seconds=300)),
    ("a short blog post about vaccines", RequestParse("vaccines", "blog")),
    ("an academic tweet thread about “neap tides”", RequestParse("neap tides", "social",
                                                                  "academic")),
    ("tides for tiktok", RequestParse(None, "short")),
    ("make me something", RequestParse()),
])
def test_requests_are_read_without_the_model(text: str, expected: RequestParse) -> None:
    assert parse_request(text) == expected


def test_requests_and_notes_are_told_apart() -> None:
    for request in ("make a short about tides", "podcast episode about photosynthesis"):
        assert is_new_request(request, parse_request(request))
    for notes in ("make the hook punchier", "make the post about the moon instead",
                  "shorter please"):
        assert not is_new_request(notes, parse_request(notes))


def test_the_model_fills_in_a_topic_only_from_the_request() -> None:
    parsed = parse_request("tides for tiktok")
    chat = scripted({"topic": "ocean tides", "format": "video", "style": "viral"})
    assert guess_request(chat, "tides for tiktok", parsed) == RequestParse(
        "ocean tides", "short", "viral")  # the parser's format stands
    invented = scripted({"topic": "volcanoes"})
    assert guess_request(invented, "tides for tiktok", parsed).topic == "tides"
    broken = scripted("I cannot help with that")
    assert guess_request(broken, "tides for tiktok", parsed).topic == "tides"
    nothing = scripted({"topic": ""})
    assert guess_request(nothing, "make me a thing", RequestParse()).topic is None


def test_slash_commands_parse() -> None:
    assert parse_command("/new why the sky is blue --format short -s viral --seconds 30") == (
        Command("new", None, "why the sky is blue",
                RequestParse("why the sky is blue", "short", "viral", 30)))
    assert parse_command("/status@AgenticBot job-1A2B3C4D") == Command("status", "job-1a2b3c4d")
    assert parse_command("/approve 1a2b3c4d") == Command("approve", "job-1a2b3c4d")
    assert parse_command("/revise job-1a2b3c4d make it shorter") == (
        Command("revise", "job-1a2b3c4d", "make it shorter"))
    assert parse_command("/revise make it shorter") == Command("revise", None, "make it shorter")
    assert parse_command("/link ABCD-2345") == Command("link", None, "ABCD-2345")
    assert parse_command("/start") == Command("help")
    assert parse_command("/JOBS") == Command("jobs")


@pytest.mark.parametrize(("text", "message"), [
    ("/frobnicate", "unknown command /frobnicate: /help lists the commands"),
    ("/approve tomorrow", "'tomorrow' is not a job id (like job-1a2b3c4d): /jobs lists yours"),
    ("/new", f"say what it should be about: {COMMANDS['new']}"),
    ("/new tides --format gif", "unknown format 'gif': choose one of short, video, podcast, "
                                "blog, social"),
    ("/new tides --style", f"--style needs a value: {COMMANDS['new']}"),
    ("/new tides --seconds soon", "--seconds takes a positive whole number, not 'soon'"),
    ("/revise job-1a2b3c4d", f"say what should change: {COMMANDS['revise']}"),
])
def test_bad_commands_get_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_command(text)
    assert caught.value.user_message == message and "\n" not in message


# --- replies --------------------------------------------------------------------------------


def test_help_lists_every_command(conv: Conversation) -> None:
    reply = text_of(conv.handle(TG, "/help"))
    assert reply == HELP_TEXT
    for name in COMMANDS:
        assert f"/{name}" in reply


def test_errors_are_one_line(conv: Conversation) -> None:
    for text in ("/nope", "/status job-00000000", "/approve", "/cancel", "   "):
        events = conv.handle(TG, text)
        assert len(events) == 1 and events[0].kind == "error" and "\n" not in events[0].text


def test_jobs_and_status(conv: Conversation) -> None:
    assert text_of(conv.handle(TG, "/jobs")).startswith("No jobs yet")
    assert text_of(conv.handle(TG, "/status")).startswith("No jobs yet")
    started = conv.handle(TG, "/new how tides work --format blog --style academic")
    job_id = started[0].job_id
    assert job_id and conv.wait(job_id, 120)

    jobs = text_of(conv.handle(TG, "/jobs"))
    assert jobs == f"Your jobs:\n• {job_id} — waiting for review — blog — how tides work"
    status = conv.handle(TG, "/status")
    assert [e.kind for e in status] == ["text", "approval_request"]
    lines = status[0].text.splitlines()
    assert lines[0] == f"{job_id}: blog about “how tides work” — waiting for review"
    assert lines[1] == "steps: brief ✓ · research ✓ · write ✓ · redact ✓ · review_script …"
    assert lines[2] == (f"waiting at review_script: /approve {job_id}, /revise {job_id} NOTES "
                        f"or /reject {job_id}")
    assert status[1].job_id == job_id and status[1].stage == "review_script"

    conv.handle(TG, "/reject")
    assert conv.wait(job_id, 120)
    assert text_of(conv.handle(TG, f"/status {job_id}")).splitlines()[0].endswith("— rejected")
    assert text_of(conv.handle(TG, "/status")).splitlines()[0].endswith("— rejected")


def test_kb_lists_sources_and_uploads_add_to_it(conv: Conversation, tmp_path: Path) -> None:
    listing = text_of(conv.handle(TG, "/kb"))
    assert listing.startswith("Knowledge base (2 sources):")
    assert "how-tides-work.md" in listing and "spring-and-neap-tides.md" in listing
    page = tmp_path / "rip-currents.md"
    page.write_text("# Rip currents\n\nA rip current is a narrow, fast channel of water "
                    "flowing away from the beach, strongest at low tide.\n", encoding="utf-8")
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    added = text_of(conv.add_files(TG, [page, empty])).splitlines()
    assert added[0].startswith("✓ rip-currents.md: added") and added[1].startswith("✗ empty.md")
    listing = text_of(conv.handle(TG, "/kb"))
    assert "(3 sources)" in listing and "(rip-currents.md)" in listing, listing
    # the names they were added under, never our stored copies' (src-<id>-name.md) or paths
    assert "src-" not in listing and str(conv.svc.settings.resolved_data_dir) not in listing


def test_a_telegram_spelling_of_a_hyphenated_group_command_is_the_same_command() -> None:
    from assistant.app.command_registry import REGISTRY

    hyphenated = [name for name in REGISTRY if "-" in name]
    assert hyphenated, "no hyphenated group command to check"
    for name in hyphenated:
        assert parse_command(f"/{name.replace('-', '_')} x").name == name
        assert parse_command(f"/{name} x").name == name
