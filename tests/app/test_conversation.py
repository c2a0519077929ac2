"""The conversation service with the real runner, storage and a small real knowledge base;
only the chat model's replies are scripted. Background jobs are awaited with ``wait()``."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from assistant.app.commands import CLARIFY_QUESTION
from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from storage.models import Job, Organization, OrganizationMember
from tests.app.inbox import Inbox
from tests.fakes import FRAMING, scripted

TG = ChannelUser("telegram", "42", "Ada")
DC = ChannelUser("discord", "777", "ada#1")
EVE = ChannelUser("telegram", "666", "Eve")
REQUEST = "make a 45-second casual short about tides for TikTok"
BLOG = "write a blog post about how tides work"  # no media steps: faster to the end
WAIT_S = 120


def one(events: list[OutEvent], kind: str = "text") -> OutEvent:
    assert len(events) == 1 and events[0].kind == kind, events
    return events[0]


def start(conv: Conversation, user: ChannelUser = TG, text: str = REQUEST) -> str:
    started = one(conv.handle(user, text))
    assert started.job_id and started.text.startswith(f"Started {started.job_id}")
    assert conv.wait(started.job_id, WAIT_S)
    return started.job_id


def approvals(conv: Conversation, job_id: str) -> list[OutEvent]:
    return [e for e in conv.history(job_id) if e.kind == "approval_request"]


def test_a_request_runs_to_the_script_review(conv: Conversation) -> None:
    inbox = Inbox()
    conv.subscribe("telegram", inbox)
    job_id = start(conv)
    brief = conv.runner.state(job_id)["brief"]
    assert (brief.topic, brief.format, brief.style, brief.target_seconds) == (
        "tides", "short", "casual", 45)
    assert brief.user == "telegram:42"

    request = approvals(conv, job_id)[-1]
    assert request.stage == "review_script" and request.actions == ("approve", "revise", "reject")
    assert request.config["allow_accept"] and request.config["allow_respond"]
    assert "allow_edit" in request.config and request.preview.startswith("#")
    assert request.data["action_request"]["args"]["job_id"] == job_id
    progress = [e for e in conv.history(job_id) if e.kind == "progress"]
    assert {e.step for e in progress} >= {"brief", "research", "write"}
    assert all(e.job_id == job_id for e in conv.history(job_id))
    # The subscriber got the same events, addressed to the identity that asked.
    assert [e for _, e in inbox.got] == conv.history(job_id)
    assert {u for u, _ in inbox.got} == {TG}


def test_the_owner_approves_through_to_publication(conv: Conversation) -> None:
    job_id = start(conv, TG, BLOG)
    assert one(conv.decide(TG, job_id, "approve")).text == f"Approved {job_id} (review_script)."
    assert conv.wait(job_id, WAIT_S)
    assert approvals(conv, job_id)[-1].stage == "review_final"
    # A stale button from the script review cannot approve the final review.
    stale = one(conv.decide(TG, job_id, "approve", stage="review_script"), "error")
    assert "already decided" in stale.text and stale.job_id == job_id

    one(conv.decide(TG, job_id, "approve", stage="review_final"))
    assert conv.wait(job_id, WAIT_S)
    assert conv.svc.repo.get_job(job_id).status == "published"  # type: ignore[union-attr]
    assert len(conv.svc.repo.publications(job_id)) == 1
    last = conv.history(job_id)[-2:]
    assert (last[0].kind, last[0].artifact_kind, last[0].mime) == (
        "artifact", "file", "text/markdown")
    assert Path(last[0].path).is_file() and last[1].text == f"{job_id} is published."
    again = one(conv.decide(TG, job_id, "approve"), "error")
    assert "not waiting for a review" in again.text


@pytest.mark.slow
def test_a_short_shows_its_media_with_the_final_review(conv: Conversation) -> None:
    job_id = start(conv)
    one(conv.decide(TG, job_id, "approve"))
    assert conv.wait(job_id, 300)
    history = conv.history(job_id)
    assert history[-1].kind == "approval_request" and history[-1].stage == "review_final"
    media = {e.artifact_kind: e for e in history if e.kind == "artifact"}
    assert set(media) >= {"video", "audio", "image"}
    assert all(Path(e.path).is_file() for e in media.values())
    one(conv.decide(TG, job_id, "approve", stage="review_final"))
    assert conv.wait(job_id, WAIT_S)
    published = conv.history(job_id)[-2]
    assert published.kind == "artifact" and Path(published.path).is_file()


def test_a_second_user_is_refused(conv: Conversation) -> None:
    job_id = start(conv)
    for events in (conv.decide(EVE, job_id, "approve"), conv.handle(EVE, f"/reject {job_id}"),
                   conv.handle(EVE, f"/status {job_id}")):
        refusal = one(events, "error")
        assert "is not yours" in refusal.text
    assert conv.svc.repo.get_job(job_id).status == "review"  # type: ignore[union-attr]
    assert one(conv.handle(EVE, "/approve"), "error").text.startswith("you have no job waiting")


def test_a_reviewer_in_the_jobs_workspace_may_approve(conv: Conversation) -> None:
    job_id = start(conv, TG, BLOG)
    repo = conv.svc.repo
    owner, reviewer = UUID(repo.ensure_user("telegram:42")), UUID(repo.ensure_user("telegram:666"))
    with conv.svc.db.session() as s:
        org = Organization(name="Studio", slug="studio", owner_id=owner)
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=reviewer, role="reviewer"))
        org_id = org.id
    # A job in no workspace is its owner's alone, even for a reviewer of the owner's team.
    one(conv.decide(EVE, job_id, "approve"), "error")
    assert repo.get_job(job_id).status == "review"  # type: ignore[union-attr]
    with conv.svc.db.session() as s:
        s.get(Job, job_id).organization_id = org_id  # type: ignore[union-attr]
    one(conv.decide(EVE, job_id, "approve"))
    assert conv.wait(job_id, WAIT_S)
    decided = repo.approvals(job_id)[0]
    assert decided.status == "approved"
    assert (decided.decided_by or "").startswith("telegram:666 via telegram:666")


def test_free_text_is_taken_as_revision_notes_after_confirming(conv: Conversation) -> None:
    job_id = start(conv)
    ask = one(conv.handle(TG, "make the hook punchier"))
    assert ask.job_id == job_id and ask.text == (
        f"Revise {job_id} with: “make the hook punchier”? Reply yes or no.")
    assert one(conv.handle(TG, "no")).text == f"OK, nothing was sent to {job_id}."
    assert "nothing to confirm" in one(conv.handle(TG, "yes"), "error").text
    assert conv.svc.repo.get_job(job_id).status == "review"  # type: ignore[union-attr]

    one(conv.handle(TG, "make the hook punchier"))
    assert one(conv.handle(TG, "yes")).text.startswith(f"Sent your notes for {job_id}")
    assert conv.wait(job_id, WAIT_S)
    state = conv.runner.state(job_id)
    assert state["revision_notes"] == ["make the hook punchier"]
    request = approvals(conv, job_id)[-1]
    assert request.stage == "review_script" and request.data["action_request"]["args"]["round"] == 2


def test_an_ambiguous_request_gets_one_clarifying_question(conv: Conversation) -> None:
    chat = conv.svc.chat().model
    assert one(conv.handle(TG, "make me something")).text == CLARIFY_QUESTION
    assert chat.prompts == []  # type: ignore[attr-defined]  # nothing to ask the model about
    assert conv.svc.repo.list_jobs() == []
    job_id = start(conv, TG, "how the tides work, as a podcast")
    brief = conv.runner.state(job_id)["brief"]
    assert (brief.format, brief.topic) == ("podcast", "how the tides work")


def test_the_model_reads_the_topic_when_the_parser_cannot(conv: Conversation) -> None:
    conv.svc.set_chat(scripted({"topic": "tides"}, FRAMING))
    job_id = start(conv, TG, "tides for tiktok")
    brief = conv.runner.state(job_id)["brief"]
    assert (brief.topic, brief.format) == ("tides", "short")


def test_several_jobs_run_at_once_for_one_user(conv: Conversation) -> None:
    inbox = Inbox()
    conv.subscribe(TG, inbox)
    topics = ["how tides work", "spring tides", "neap tides"]
    started = [one(conv.handle(TG, f"/new {t} --format blog")).job_id for t in topics]
    assert len(set(started)) == 3
    for job_id in started:
        assert job_id is not None and conv.wait(job_id, WAIT_S)
        assert approvals(conv, job_id)[-1].stage == "review_script"
        assert all(e.job_id == job_id for e in conv.history(job_id))
        assert "approval_request" in inbox.kinds(job_id)
    which = one(conv.handle(TG, "/approve"), "error").text
    assert which.startswith("which one?") and all(j in which for j in started if j)
    notes = one(conv.handle(TG, "shorter please"), "error").text
    assert notes.startswith("several jobs wait for your review")


def test_linked_identities_act_as_one_user(conv: Conversation) -> None:
    discord = Inbox()
    conv.subscribe("discord", discord)
    job_id = start(conv, TG, BLOG)
    assert "is not yours" in one(conv.decide(DC, job_id, "approve"), "error").text

    code = one(conv.handle(TG, "/link")).text.split("code is ")[1].split(".")[0]
    linked = one(conv.handle(DC, f"/link {code}"))
    assert "now acts as telegram:42" in linked.text
    assert conv.username(DC) == conv.username(TG)
    assert "already used" in one(conv.handle(ChannelUser("discord", "9"), f"/link {code}"),
                                 "error").text

    one(conv.decide(DC, job_id, "approve"))  # started in Telegram, approved in Discord
    assert conv.wait(job_id, WAIT_S)
    assert approvals(conv, job_id)[-1].stage == "review_final"
    assert "approval_request" in discord.kinds(job_id)  # the Discord side sees it too
    assert [e.job_id for e in conv.pending_approvals(DC)] == [job_id]
    one(conv.decide(TG, job_id, "approve"))
    assert conv.wait(job_id, WAIT_S)
    assert len(conv.svc.repo.publications(job_id)) == 1


def test_cancel_a_job_waiting_for_review(conv: Conversation) -> None:
    job_id = start(conv)
    assert one(conv.handle(TG, "/cancel")).text == f"{job_id} cancelled."
    assert conv.svc.repo.get_job(job_id).status == "cancelled"  # type: ignore[union-attr]
    assert "it is cancelled" in one(conv.decide(TG, job_id, "approve"), "error").text
    assert "already cancelled" in one(conv.handle(TG, f"/cancel {job_id}"), "error").text


def test_cancel_stops_a_running_job_between_steps(conv: Conversation) -> None:
    replies: list[list[OutEvent]] = []

    def cancel_at_first_progress(user: ChannelUser, event: OutEvent) -> None:
        if event.kind == "progress" and not replies and event.job_id:
            replies.append(conv.cancel(user, event.job_id))

    conv.subscribe(TG, cancel_at_first_progress)
    job_id = start(conv)
    assert one(replies[0]).text.startswith(f"Cancelling {job_id}")
    assert conv.svc.repo.get_job(job_id).status == "cancelled"  # type: ignore[union-attr]
    assert conv.history(job_id)[-1].text == f"{job_id} cancelled."
    assert approvals(conv, job_id) == []


def test_a_restart_shows_the_pending_approval_again(conv: Conversation) -> None:
    job_id = start(conv, TG, BLOG)
    runner = JobRunner(conv.svc)  # a new process: new runner and conversation, same files
    try:
        fresh = Conversation(conv.svc, runner)
        shown = fresh.pending_approvals(TG)
        assert [(e.job_id, e.stage) for e in shown] == [(job_id, "review_script")]
        one(fresh.decide(TG, job_id, "approve", stage="review_script"))
        assert fresh.wait(job_id, WAIT_S)
        assert approvals(fresh, job_id)[-1].stage == "review_final"
    finally:
        runner.close()


def test_jobs_beyond_the_concurrency_wait_their_turn(tides_kb: Services) -> None:
    """One slot: the second job is told it is queued and starts only when the first one
    stops to wait for its review; both then run to their reviews."""
    tides_kb.settings.job_concurrency = 1
    tides_kb.set_chat(scripted(FRAMING))
    runner = JobRunner(tides_kb)
    conv = Conversation(tides_kb, runner)
    inbox = Inbox()
    conv.subscribe(TG, inbox)
    try:
        first = one(conv.handle(TG, "/new how tides work --format blog")).job_id
        second = one(conv.handle(TG, "/new spring tides --format blog")).job_id
        assert first and second
        for job_id in (first, second):
            assert conv.wait(job_id, WAIT_S)
            assert approvals(conv, job_id)[-1].stage == "review_script"
        order = [(e.job_id, e.kind, e.text) for _, e in inbox.got]
        queued = [i for i, (j, _, text) in enumerate(order) if j == second and "queued" in text]
        assert len(queued) == 1, order
        first_review = next(i for i, (j, kind, _) in enumerate(order)
                            if j == first and kind == "approval_request")
        second_work = [i for i, (j, kind, _) in enumerate(order)
                       if j == second and kind == "progress"]
        assert second_work and min(second_work) > first_review, order
        assert all("queued" not in text for j, _, text in order if j == first)
    finally:
        conv.close()
        runner.close()
