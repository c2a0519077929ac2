"""A Discord guild is a workspace: an organization whose reviewers are the members holding
the guild's reviewer role (``settings.discord_reviewer_role``).

The reviewer rule itself is :func:`assistant.app.identity.may_review` (the job's owner, or a
member of the job's organization with a reviewing role); this module only keeps the rows it
reads in step with Discord: the guild's organization, the jobs started in the guild, and one
``reviewer`` membership per member seen holding the role. A membership granted here is
marked ``{"source": "discord-role"}`` and taken back when the member no longer holds the
role; memberships made by anyone else are left alone.
"""

from __future__ import annotations

import logging
import uuid

import discord
from sqlalchemy import exc, select, update

from storage.db import Database
from storage.jobs import JobRepository
from storage.models import Job, Organization, OrganizationMember

log = logging.getLogger(__name__)
SOURCE = {"source": "discord-role"}


def guild_slug(guild_id: int) -> str:
    return f"discord-{guild_id}"


def guild_workspace(db: Database, repo: JobRepository, guild_id: int, name: str) -> uuid.UUID:
    """The organization standing for this guild, created on first use.

    Its owner is a service profile (``discord-guild:<id>``) that no chat identity acts as,
    so owning the workspace grants no person anything.
    """
    slug = guild_slug(guild_id)
    with db.session() as s:
        found = s.scalar(select(Organization.id).where(Organization.slug == slug))
    if found is not None:
        return found
    owner = uuid.UUID(repo.ensure_user(f"discord-guild:{guild_id}"))
    try:
        with db.session() as s:
            org = Organization(name=(name or f"Discord server {guild_id}")[:255], slug=slug,
                               owner_id=owner, settings={"discord_guild_id": str(guild_id)})
            s.add(org)
            s.flush()
            return org.id
    except exc.IntegrityError:  # another handler made it at the same moment
        with db.session() as s:
            made = s.scalar(select(Organization.id).where(Organization.slug == slug))
        if made is None:
            raise
        return made


def sync_reviewer(db: Database, org_id: uuid.UUID, user_id: str, holds_role: bool) -> None:
    """Grant or take back the reviewer membership that the Discord role stands for."""
    user = uuid.UUID(user_id)
    try:
        _sync(db, org_id, user, holds_role)
    except exc.IntegrityError:  # two presses at once: the other one added the row
        _sync(db, org_id, user, holds_role)


def _sync(db: Database, org_id: uuid.UUID, user: uuid.UUID, holds_role: bool) -> None:
    with db.session() as s:
        member = s.scalar(select(OrganizationMember).where(
            OrganizationMember.organization_id == org_id, OrganizationMember.user_id == user))
        if holds_role and member is None:
            s.add(OrganizationMember(organization_id=org_id, user_id=user, role="reviewer",
                                     permissions=dict(SOURCE)))
        elif holds_role and member is not None and member.role == "member":
            member.role, member.permissions = "reviewer", dict(SOURCE)
        elif not holds_role and member is not None and member.role == "reviewer" and (
                (member.permissions or {}).get("source") == SOURCE["source"]):
            s.delete(member)


def role_memberships(db: Database, user_id: str) -> list[tuple[uuid.UUID, int]]:
    """(organization, guild id) of every reviewer membership a Discord role granted
    ``user_id``: what to check again when they decide from somewhere else (a DM)."""
    with db.session() as s:
        rows = s.execute(select(OrganizationMember.organization_id, Organization.settings,
                                OrganizationMember.permissions)
                         .join(Organization,
                               Organization.id == OrganizationMember.organization_id)
                         .where(OrganizationMember.user_id == uuid.UUID(user_id),
                                OrganizationMember.role == "reviewer")).all()
    return [(org, int(settings["discord_guild_id"])) for org, settings, permissions in rows
            if (permissions or {}).get("source") == SOURCE["source"]
            and str((settings or {}).get("discord_guild_id", "")).isdigit()]


def holds_role(role_ids: list[int], wanted: str, names: dict[int, str]) -> bool:
    """Whether one of ``role_ids`` is the reviewer role (an id, or a name in ``names``,
    case-insensitive)."""
    if wanted.isdigit():
        return int(wanted) in role_ids
    return any(names.get(r, "").casefold() == wanted.casefold() for r in role_ids)


async def member_holds(http: discord.http.HTTPClient, guild_id: int, user_id: int,
                       wanted: str) -> bool | None:
    """Whether the member holds the reviewer role in that guild now, asked of Discord (no
    privileged intent needed); False when they left it, None when Discord cannot say."""
    try:
        data = await http.get_member(guild_id, user_id)
        role_ids = [int(r) for r in data.get("roles", [])]
        names = {} if wanted.isdigit() else {
            int(r["id"]): r["name"] for r in await http.get_roles(guild_id)}
    except discord.NotFound:
        return False
    except discord.HTTPException:
        log.warning("cannot read the roles of %s in guild %s", user_id, guild_id)
        return None
    return holds_role(role_ids, wanted, names)


def assign_job(db: Database, job_id: str, org_id: uuid.UUID) -> None:
    """The job belongs to the guild's workspace (set once: never moved to another one)."""
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id, Job.organization_id.is_(None))
                  .values(organization_id=org_id))
