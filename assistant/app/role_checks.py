"""Reviewer roles granted by a chat platform, checked again for the person at decision time.

A Discord guild is a workspace whose reviewers are the members holding its reviewer role
(:mod:`assistant.channels.discord.workspaces` records one ``reviewer`` membership per member
seen holding it, marked ``{"source": "discord-role"}``). Such a membership belongs to the
*person*, so before any decision (from Discord, Telegram, the web or the API, through any
linked identity) :meth:`RoleRechecks.recheck` asks Discord again whether that person's
Discord identity still holds the role, and takes the membership back when it does not: a
reviewer demoted in Discord who then presses Approve in Telegram is refused.

How Discord is asked is pluggable: a running Discord bot registers its own client
(:meth:`RoleRechecks.register`); a process without one (the Telegram bot, the web app) uses
:class:`DiscordRest` when ``ASSISTANT_DISCORD_TOKEN`` is set (``GET /guilds/{guild}/members/
{user}`` and ``GET /guilds/{guild}/roles`` with ``Authorization: Bot <token>``). When Discord
cannot say (unreachable, no token anywhere), the membership stays as Discord last showed it,
with a warning in the log.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import exc, select

from assistant.app.identity import IdentityLinks
from assistant.config import Settings
from storage.db import Database
from storage.models import Organization, OrganizationMember

log = logging.getLogger(__name__)

SOURCE = {"source": "discord-role"}
DISCORD_API = "https://discord.com/api/v10"
TIMEOUT_S = 5.0

# (guild id, Discord user id) -> whether they hold the reviewer role now; None: cannot say
RoleCheck = Callable[[int, int], "bool | None"]


def holds_role(role_ids: list[int], wanted: str, names: dict[int, str]) -> bool:
    """Whether one of ``role_ids`` is the reviewer role (an id, or a name in ``names``,
    case-insensitive)."""
    if wanted.isdigit():
        return int(wanted) in role_ids
    return any(names.get(r, "").casefold() == wanted.casefold() for r in role_ids)


def role_memberships(db: Database, user_id: str) -> list[tuple[uuid.UUID, int]]:
    """(organization, guild id) of every reviewer membership a Discord role granted
    ``user_id``."""
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


def sync_reviewer(db: Database, org_id: uuid.UUID, user_id: str, holds: bool) -> None:
    """Grant or take back the reviewer membership that the Discord role stands for."""
    user = uuid.UUID(user_id)
    try:
        _sync(db, org_id, user, holds)
    except exc.IntegrityError:  # two presses at once: the other one added the row
        _sync(db, org_id, user, holds)


def _sync(db: Database, org_id: uuid.UUID, user: uuid.UUID, holds: bool) -> None:
    with db.session() as s:
        member = s.scalar(select(OrganizationMember).where(
            OrganizationMember.organization_id == org_id, OrganizationMember.user_id == user))
        if holds and member is None:
            s.add(OrganizationMember(organization_id=org_id, user_id=user, role="reviewer",
                                     permissions=dict(SOURCE)))
        elif holds and member is not None and member.role == "member":
            member.role, member.permissions = "reviewer", dict(SOURCE)
        elif not holds and member is not None and member.role == "reviewer" and (
                (member.permissions or {}).get("source") == SOURCE["source"]):
            s.delete(member)


class DiscordRest:
    """Asks Discord's REST API whether a member holds the reviewer role (no gateway, no
    privileged intent: a bot token is enough)."""

    def __init__(self, token: str, wanted: str, *, base_url: str = DISCORD_API,
                 timeout_s: float = TIMEOUT_S) -> None:  # fmt: skip
        self.wanted = wanted
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                    headers={"Authorization": f"Bot {token}"})

    def __call__(self, guild_id: int, user_id: int) -> bool | None:
        try:
            member = self._client.get(f"/guilds/{guild_id}/members/{user_id}")
            if member.status_code == 404:  # Unknown Member: they left (or were removed)
                return False
            member.raise_for_status()
            role_ids = [int(r) for r in member.json().get("roles", [])]
            names: dict[int, str] = {}
            if not self.wanted.isdigit():
                roles = self._client.get(f"/guilds/{guild_id}/roles")
                roles.raise_for_status()
                names = {int(r["id"]): str(r["name"]) for r in roles.json()}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as err:
            log.warning("cannot read the roles of %s in guild %s: %s", user_id, guild_id,
                        type(err).__name__)
            return None
        return holds_role(role_ids, self.wanted, names)

    def close(self) -> None:
        self._client.close()


class RoleRechecks:
    """Re-checks a person's platform-granted reviewer memberships before they decide."""

    api_url = DISCORD_API  # where DiscordRest asks (a test points it at a stand-in)

    def __init__(self, db: Database, identities: IdentityLinks, settings: Settings) -> None:
        self.db, self.identities, self.settings = db, identities, settings
        self._registered: list[RoleCheck] = []
        self._lock = threading.Lock()
        self._rest: DiscordRest | None = None

    def register(self, check: RoleCheck) -> Callable[[], None]:
        """Ask Discord through ``check`` (a running bot's client); returns an unregister."""
        with self._lock:
            self._registered.append(check)

        def unregister() -> None:
            with self._lock:
                if check in self._registered:
                    self._registered.remove(check)

        return unregister

    def _check(self) -> RoleCheck | None:
        with self._lock:
            if self._registered:
                return self._registered[-1]
            token = self.settings.discord_token
            if token is None:
                return None
            if self._rest is None:
                self._rest = DiscordRest(token.get_secret_value(),
                                         self.settings.discord_reviewer_role.strip(),
                                         base_url=self.api_url)
            return self._rest

    def recheck(self, profile_id: str, username: str) -> None:
        """Bring every Discord-granted reviewer membership of this person up to date."""
        granted = role_memberships(self.db, profile_id)
        if not granted:
            return
        discord_ids = [int(i.external_id) for i in self.identities.identities(username)
                       if i.channel == "discord" and i.external_id.isdigit()]
        check = self._check()
        for org, guild_id in granted:
            if check is None:
                log.warning("cannot check the Discord reviewer role of %s: no Discord bot "
                            "or token here", username)
                return
            answers = [check(guild_id, did) for did in discord_ids]
            if any(a is True for a in answers):
                continue
            if answers and all(a is False for a in answers) or not discord_ids:
                sync_reviewer(self.db, org, profile_id, False)

    def close(self) -> None:
        with self._lock:
            if self._rest is not None:
                self._rest.close()
                self._rest = None
