"""A Discord guild is a workspace: an organization whose reviewers are the members holding
the guild's reviewer role (``settings.discord_reviewer_role``).

The reviewer rule itself is :func:`assistant.app.identity.may_review` (the job's owner, or a
member of the job's organization with a reviewing role); this module only keeps the rows it
reads in step with Discord: the guild's organization, the jobs started in the guild, and one
``reviewer`` membership per member seen holding the role. A membership granted here is
marked ``{"source": "discord-role"}`` and taken back when the member no longer holds the
role; memberships made by anyone else are left alone. The membership rules themselves, and
the re-check before any decision from any channel, are :mod:`assistant.app.role_checks`;
:func:`loop_role_check` lends it this bot's client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import uuid

import discord
from sqlalchemy import exc, select, update

from assistant.app.role_checks import (
    SOURCE,
    RoleCheck,
    holds_role,
    role_memberships,
    sync_reviewer,
)
from storage.db import Database
from storage.jobs import JobRepository
from storage.models import Job, Organization

log = logging.getLogger(__name__)
__all__ = ["SOURCE", "assign_job", "guild_workspace", "holds_role", "loop_role_check",
           "member_holds", "role_memberships", "sync_reviewer"]


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


def loop_role_check(http: discord.http.HTTPClient, loop: asyncio.AbstractEventLoop,
                    wanted: str, timeout_s: float = 10.0) -> RoleCheck:
    """:func:`member_holds` through this bot's client, callable from any other thread (a
    decision from Telegram or the web); None from the bot's own loop (it would wait on
    itself) or when Discord does not answer in time."""

    def check(guild_id: int, user_id: int) -> bool | None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: the usual case (a worker thread)
            running = None
        if loop.is_closed() or running is loop:
            return None
        future = asyncio.run_coroutine_threadsafe(
            member_holds(http, guild_id, user_id, wanted), loop)
        try:
            return future.result(timeout_s)
        except (concurrent.futures.TimeoutError, RuntimeError):
            future.cancel()
            return None

    return check
