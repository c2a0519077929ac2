"""Hostile inputs against the knowledge base per workspace (issue 12): another person's
document id, uploads over a scope's caps (a 30 MB file, a full workspace, one file too many
in an hour). Each gets one clear line, reveals nothing of another person's documents and
loses nothing already held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.tools.knowledge.scopes import user_scope
from tests.app.conftest import conversation_over
from tests.cli.helpers import assistant
from tests.hostile.test_hostile_inputs import clear

ADA, BOB = ChannelUser("web", "ada"), ChannelUser("telegram", "4242")
SECRET_PAGE = ("# Bob's bakery costs\n\nThe Larkspur bakery pays 3,150 euros a month for its "
               "sourdough flour, most of it from one mill in Brittany.\n")
MB = 1024 * 1024


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Conversation]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                        kb_uploads_per_hour=3, kb_workspace_max_mb=20 / 1024)
    svc = Services.create(settings)
    with conversation_over(svc) as conversation:
        yield conversation
    svc.close()


def bobs_source(conv: Conversation, tmp_path: Path) -> str:
    page = tmp_path / "costs.md"
    page.write_text(SECRET_PAGE, encoding="utf-8")
    [added] = conv.add_files(BOB, [page])
    assert added.text.startswith("✓ costs.md: added"), added.text
    [source] = conv.svc.kb().sources([user_scope(conv.svc.repo.ensure_user(conv.username(BOB)))])
    return source.id


def lines_of(conv: Conversation, user: ChannelUser, text: str) -> str:
    said = "\n".join(e.text for e in conv.handle(user, text))
    clear(conv, said, one_line=False)
    return said


@pytest.mark.parametrize("command", ["/kb {sid}", "/kb search {sid}", "/kb Larkspur bakery",
                                     "/kb ../../kb/files/{sid}-x.md"])
def test_another_users_document_id_reveals_nothing(studio: Conversation, tmp_path: Path,
                                                   command: str) -> None:
    sid = bobs_source(studio, tmp_path)
    said = lines_of(studio, ADA, command.format(sid=sid))
    # nothing of the document (the query itself may be echoed)
    assert not any(w in said for w in ("3,150", "Brittany", "Bob's bakery", "costs.md")), said
    assert "Brittany" in lines_of(studio, BOB, "/kb Larkspur bakery")  # Bob's own: there


def test_a_30_mb_upload_is_refused_by_the_file_cap(studio: Conversation,
                                                   tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as fh:  # sparse: 30 MB on paper, nothing on disk
        fh.truncate(30 * MB)
    [answer] = studio.add_files(ADA, [big])
    clear(studio, answer.text)
    assert answer.text == ("✗ big.md: big.md is 30 MB; a knowledge-base file may be at most "
                           "25 MB: split it or send a shorter one"), answer.text
    assert studio.svc.kb().sources() == []


def test_an_upload_over_the_workspace_cap_is_one_line(studio: Conversation,
                                                      tmp_path: Path) -> None:
    bobs_source(studio, tmp_path)
    kept = tmp_path / "notes.md"
    kept.write_text("# Notes\n\n" + "Tides follow the Moon. " * 500, encoding="utf-8")  # 12 KB
    more = tmp_path / "more.md"
    more.write_text("# More\n\n" + "Neap tides are small. " * 450, encoding="utf-8")  # 10 KB
    first = studio.add_files(ADA, [kept])
    assert first[0].text.startswith("✓ notes.md: added"), first[0].text
    [answer] = studio.add_files(ADA, [more])
    clear(studio, answer.text)
    assert answer.text == ("✗ more.md: your knowledge base holds 11 KB of its 20 KB: more.md "
                           "(10 KB) does not fit, remove sources first"), answer.text
    # nothing lost, and the cap is Ada's alone: Bob's upload counted nothing against it
    assert [s.title for s in studio.svc.kb().sources()] == ["Bob's bakery costs", "Notes"]


def test_one_upload_too_many_in_an_hour(studio: Conversation, tmp_path: Path) -> None:
    pages = []
    for i in range(4):
        pages.append(tmp_path / f"p{i}.md")
        pages[-1].write_text(f"# Page {i}\n\nTides rise and fall, page {i}.\n", encoding="utf-8")
    answers = studio.add_files(ADA, pages)
    said = [e.text for e in answers]
    assert [s[:1] for s in said[0].splitlines()] == ["✓", "✓", "✓", "✗"], said
    refused = said[0].splitlines()[3]
    clear(studio, refused)
    assert refused == ("✗ p3.md: your knowledge base has added 3 files in the last hour, the "
                       "limit: p3.md was not added, send it again in 60 min"), refused
    assert len(studio.svc.kb().sources()) == 3


def test_the_cli_keeps_the_caps_for_a_persons_scope(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as fh:
        fh.truncate(30 * MB)
    result = assistant(tmp_path / "data", "kb", "add", "--user", "ada", str(big))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "a knowledge-base file may be at most 25 MB" in " ".join(result.stderr.split())
    nobody = assistant(tmp_path / "data", "kb", "add", "--workspace", "nowhere", str(big))
    assert nobody.returncode == 2 and "no workspace has that slug" in nobody.stderr
