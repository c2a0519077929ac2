"""Linked identities: one-time codes, who acts as whom, and who may review a job."""

from __future__ import annotations

import hashlib
import threading
from uuid import UUID

import pytest
from sqlalchemy import select

from assistant.app.identity import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Identity,
    IdentityLinks,
    may_review,
)
from assistant.app.studio import Services
from assistant.errors import InputError
from storage.models import Job, LinkCode, Organization, OrganizationMember


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(svc: Services, clock: Clock) -> IdentityLinks:
    return IdentityLinks(svc.db, clock=clock)


def test_unlinked_identities_act_as_themselves(links: IdentityLinks) -> None:
    assert links.username("telegram", "42") == "telegram:42"
    assert links.username("discord", "42") == "discord:42"
    assert links.username("web", "alice") == "alice"
    assert links.identities("telegram:42") == [Identity("telegram", "42")]
    assert links.identities("alice") == [Identity("web", "alice")]


def test_a_code_links_two_chat_identities(links: IdentityLinks) -> None:
    code = links.issue_code("telegram", "42")
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    result = links.redeem(code.lower(), "discord", "777")  # case does not matter
    assert result.username == "telegram:42" and result.linked == Identity("discord", "777")
    assert links.username("discord", "777") == links.username("telegram", "42")
    assert set(links.identities("telegram:42")) == {
        Identity("telegram", "42"), Identity("discord", "777")}
    # Another process (another instance on the same database) sees the link.
    again = IdentityLinks(links.store._db)
    assert again.username("discord", "777") == "telegram:42"


def test_the_web_account_wins_whichever_side_issues_the_code(links: IdentityLinks) -> None:
    code = links.issue_code("telegram", "42")
    result = links.redeem(code, "web", "alice")
    assert result.username == "alice" and result.linked == Identity("telegram", "42")
    assert links.username("telegram", "42") == "alice"
    code = links.issue_code("web", "alice")
    links.redeem(code, "discord", "777")
    assert links.username("discord", "777") == "alice"
    assert set(links.identities("alice")) == {
        Identity("web", "alice"), Identity("telegram", "42"), Identity("discord", "777")}
    # The telegram identity no longer shows up as a user of its own.
    assert links.identities("telegram:42") == []


def test_a_code_works_once(links: IdentityLinks) -> None:
    code = links.issue_code("telegram", "42")
    links.redeem(code, "discord", "777")
    with pytest.raises(InputError, match="unknown or was already used"):
        links.redeem(code, "discord", "888")
    assert links.username("discord", "888") == "discord:888"


def test_an_expired_code_is_refused(links: IdentityLinks, clock: Clock) -> None:
    code = links.issue_code("telegram", "42")
    clock.now += 10 * 60 + 1
    with pytest.raises(InputError, match="expired"):
        links.redeem(code, "discord", "777")
    assert links.username("discord", "777") == "discord:777"
    with pytest.raises(InputError, match="already used"):  # and it is gone
        links.redeem(code, "discord", "777")


def test_a_code_still_valid_just_before_it_expires(links: IdentityLinks, clock: Clock) -> None:
    code = links.issue_code("telegram", "42")
    clock.now += 10 * 60 - 1
    assert links.redeem(code, "discord", "777").username == "telegram:42"


def test_nonsense_links_are_refused(links: IdentityLinks) -> None:
    with pytest.raises(InputError, match="unknown"):
        links.redeem("NOPE2345", "discord", "777")
    code = links.issue_code("telegram", "42")
    with pytest.raises(InputError, match="already linked"):
        links.redeem(code, "telegram", "42")
    code = links.issue_code("web", "alice")
    with pytest.raises(InputError, match="two web accounts"):
        links.redeem(code, "web", "bob")
    with pytest.raises(InputError, match="invalid channel"):
        links.username("Tele gram", "42")


def test_the_database_keeps_digests_not_codes(links: IdentityLinks, svc: Services) -> None:
    code = links.issue_code("telegram", "42")
    with svc.db.session() as s:
        rows = s.execute(select(LinkCode.code_sha256, LinkCode.channel)).all()
    assert rows == [(hashlib.sha256(code.encode()).hexdigest(), "telegram")]


def test_two_redeemers_of_one_code_cannot_both_link(links: IdentityLinks) -> None:
    """At the same moment, not one after the other (test_a_code_works_once does that)."""
    code = links.issue_code("telegram", "42")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def redeem(external_id: str) -> None:
        start.wait(10)
        try:
            links.redeem(code, "discord", external_id)
            outcomes[external_id] = "linked"
        except InputError as exc:
            outcomes[external_id] = exc.user_message

    threads = [threading.Thread(target=redeem, args=(i,)) for i in ("777", "888")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2 and list(outcomes.values()).count("linked") == 1, outcomes
    loser = next(i for i, outcome in outcomes.items() if outcome != "linked")
    assert "already used" in outcomes[loser]
    assert links.username("discord", loser) == f"discord:{loser}"


def test_owner_and_workspace_reviewers_may_review(svc: Services) -> None:
    repo = svc.repo
    repo.create_job("job-0000aaaa", title="tides", content_type="blog", user="owner")
    job = repo.get_job("job-0000aaaa")
    assert job is not None
    owner, reviewer, member, stranger = (repo.ensure_user(n) for n in
                                         ("owner", "reviewer", "member", "stranger"))
    assert may_review(svc.db, owner, job.id, job.user_id)
    assert not may_review(svc.db, reviewer, job.id, job.user_id)  # no workspace yet
    with svc.db.session() as s:
        org = Organization(name="Studio", slug="studio", owner_id=UUID(owner))
        s.add(org)
        s.flush()
        s.add_all([
            OrganizationMember(organization_id=org.id, user_id=UUID(owner), role="member"),
            OrganizationMember(organization_id=org.id, user_id=UUID(reviewer), role="reviewer"),
            OrganizationMember(organization_id=org.id, user_id=UUID(member), role="member"),
        ])
    # a job with no workspace stays its owner's, whatever teams the owner is in
    assert not may_review(svc.db, reviewer, job.id, job.user_id)
    with svc.db.session() as s:
        s.get(Job, job.id).organization_id = org.id  # type: ignore[union-attr]
    assert may_review(svc.db, reviewer, job.id, job.user_id)
    assert may_review(svc.db, owner, job.id, job.user_id)
    assert not may_review(svc.db, member, job.id, job.user_id)
    assert not may_review(svc.db, stranger, job.id, job.user_id)

