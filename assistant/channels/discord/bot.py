"""The Discord client: slash commands, approval buttons, one progress message per job.

Everything a person does goes to :class:`assistant.app.conversation.Conversation` (on a worker
thread: it blocks on the database); what the conversation says back is rendered here. Events
a job emits later arrive on the job's thread and are queued onto the bot's event loop, where
one delivery task sends them in order to the job's channel (where it was started or last
decided, kept in :mod:`.routes` across restarts) or else to the person's DMs.

Files go into the knowledge base (:mod:`.files`); the slash commands are declared in
:mod:`.commands`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.channels.discord.buttons import (
    PREFIX,
    NotesModal,
    Press,
    ReviewButton,
    modal_notes,
    read_id,
    review_view,
)
from assistant.channels.discord.commands import add_commands
from assistant.channels.discord.delivery import Courier, reply_files
from assistant.channels.discord.files import (
    DOWNLOAD_LIMIT_MB,
    OOPS,
    add_attachments,
    lines,
    unfit_attachment,
)
from assistant.channels.discord.render import approval_text, clip, decided_text, event_text
from assistant.channels.discord.routes import Routes
from assistant.channels.discord.workspaces import (
    assign_job,
    guild_workspace,
    holds_role,
    loop_role_check,
    member_holds,
    role_memberships,
    sync_reviewer,
)
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

__all__ = ["DOWNLOAD_LIMIT_MB", "StudioBot", "unfit_attachment"]

EDIT_INTERVAL_S = 1.5  # at most one progress edit per job this often (Discord: 5 / 5 s)
NOT_VALID = "That button is not valid here (this bot did not make it): use /status JOB."
DISCORD_HELP = ("Here: /create TOPIC [format] [style] starts a piece; approve, revise or reject "
                "it with the buttons on its review. /status, /jobs, /kb, /link and /help work "
                "too, in a server or in DMs with me; /kb FILE (or a file sent to me in DMs) "
                "adds it to the knowledge base.")
DEFERRED = discord.InteractionResponseType.deferred_channel_message  # "thinking…"


class StudioBot(discord.Client):
    """The bot over one Conversation. ``sync_commands``: publish the slash commands at
    start-up (a PUT of the whole list, safe to repeat); ``http``: the REST client to use
    instead of discord.py's own."""

    def __init__(self, conv: Conversation, *, edit_interval: float = EDIT_INTERVAL_S,
                 sync_commands: bool = True, http: discord.http.HTTPClient | None = None,
                 **options: Any) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here
        intents = discord.Intents.none()
        intents.guilds = True  # the guilds' roles, for the reviewer role
        intents.dm_messages = True  # plain messages in DMs (their text needs no privilege)
        super().__init__(intents=intents, **options)
        if http is not None:  # another transport for the REST API (tests record it)
            self.http = self._connection.http = http
        self.conv = conv
        self.settings = conv.svc.settings
        self.edit_interval = edit_interval
        self.sync_commands = sync_commands
        self.tree = app_commands.CommandTree(self)
        add_commands(self.tree, self)
        self.add_dynamic_items(ReviewButton)
        self.routes = Routes(conv.svc.db, self.settings.resolved_data_dir / "discord_routes.json")
        self.pending_shown = asyncio.Event()  # set once start-up re-posted pending approvals
        # interaction id -> an Event someone waits on (a test): set once the bot is done with it
        self.handled: dict[int, asyncio.Event] = {}
        self._unsubscribe: Any = None
        self._routing = asyncio.Lock()  # held while a job's route is being decided
        self.courier = Courier(self, self.settings, self.routes, self._routing, edit_interval)

    # --- life cycle -----------------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.courier.start()
        self._unsubscribe = self.conv.subscribe("discord", self.courier.post)
        self._unregister_roles = self.conv.roles.register(loop_role_check(  # decisions elsewhere
            self.http, asyncio.get_running_loop(), self.settings.discord_reviewer_role.strip()))
        if self.sync_commands:
            await self.tree.sync()

    async def on_ready(self) -> None:
        if not self.pending_shown.is_set():
            try:
                await self.show_pending()
            finally:
                self.pending_shown.set()

    async def show_pending(self) -> None:
        """Post every approval waiting for a Discord identity again (after a restart the old
        messages' buttons still work too: their ids are signed, not remembered)."""
        pending = await asyncio.to_thread(self.conv.pending_by_channel, "discord")
        shown: set[tuple[int, str]] = set()
        for user, event in pending:
            target = await self.courier.target(user, event.job_id)
            if target is None or (target, event.job_id or "") in shown:
                continue
            shown.add((target, event.job_id or ""))
            try:
                await self.courier.send_approval(target, event)
            except discord.HTTPException:
                log.exception("could not show the pending review of %s", event.job_id)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self._unregister_roles()
        self.courier.stop()
        await super().close()

    async def drain(self) -> None:
        """Wait until every job event queued so far has been sent."""
        await self.courier.drain()

    # --- who is asking --------------------------------------------------------------------

    @staticmethod
    def identity(interaction: discord.Interaction[Any]) -> ChannelUser:
        user = interaction.user
        return ChannelUser("discord", str(user.id), user.display_name or user.name)

    async def holds_reviewer_role(self, interaction: discord.Interaction[Any]) -> bool | None:
        """Whether the guild member holds ``settings.discord_reviewer_role`` (a role name,
        case-insensitive, or a role id); None when the guild's roles cannot be read."""
        member, guild = interaction.user, interaction.guild
        wanted = self.settings.discord_reviewer_role.strip()
        if not isinstance(member, discord.Member) or guild is None or not wanted:
            return False
        role_ids = [int(r) for r in getattr(member, "_roles", ())]  # ids from the payload
        names = {r.id: r.name for r in guild.roles}
        if not wanted.isdigit() and any(r not in names for r in role_ids):  # not cached
            try:
                names = {r.id: r.name for r in await guild.fetch_roles()}
            except discord.HTTPException:
                log.warning("cannot read the roles of guild %s", guild.id)
                return None
        return holds_role(role_ids, wanted, names)

    async def recheck_roles(self, user: ChannelUser, here: int | None) -> None:
        """Every reviewer membership a Discord role granted ``user`` in a guild other than
        ``here`` is checked against the roles they hold there now, before they decide: a
        reviewer demoted since their last press in that guild is refused in DMs too."""
        svc, wanted = self.conv.svc, self.settings.discord_reviewer_role.strip()

        def memberships() -> tuple[str, list[tuple[uuid.UUID, int]]]:
            profile = svc.repo.ensure_user(self.conv.username(user))
            return profile, role_memberships(svc.db, profile)

        profile, granted = await asyncio.to_thread(memberships)
        for org, guild_id in granted:
            if guild_id == here:
                continue  # ``workspace`` synced it from this very interaction
            holds = await member_holds(self.http, guild_id, int(user.external_id), wanted)
            if holds is not None:
                await asyncio.to_thread(sync_reviewer, svc.db, org, profile, holds)

    async def workspace(self, interaction: discord.Interaction[Any],
                        user: ChannelUser) -> uuid.UUID | None:
        """The guild's workspace, with the presser's reviewer membership brought up to date
        with their roles; None in DMs."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return None
        holds = await self.holds_reviewer_role(interaction)
        name = interaction.guild.name if interaction.guild is not None else ""
        svc = self.conv.svc

        def sync() -> uuid.UUID:
            org = guild_workspace(svc.db, svc.repo, guild_id, name or "")
            if holds is not None:
                profile = svc.repo.ensure_user(self.conv.username(user))
                sync_reviewer(svc.db, org, profile, holds)
            return org

        return await asyncio.to_thread(sync)

    # --- slash commands -------------------------------------------------------------------

    async def on_create(self, interaction: discord.Interaction[Any], topic: str,
                        fmt: str | None, style: str | None) -> None:
        async with self._handling(interaction):
            user = self.identity(interaction)
            org = await self.workspace(interaction, user)
            words = [w.lstrip("-") for w in topic.split()]  # never read as /new options
            text = " ".join(["/new", *filter(None, words), *(["--format", fmt] if fmt else []),
                             *(["--style", style] if style else [])])
            async with self._routing:
                events = await asyncio.to_thread(self.conv.handle, user, text)
                started = next((e.job_id for e in events if e.kind == "text" and e.job_id),
                               None)
                if started and interaction.channel_id is not None:
                    self.routes.set(started, interaction.channel_id, interaction.guild_id)
            if started and org is not None:
                await asyncio.to_thread(assign_job, self.conv.svc.db, started, org)
            await self._reply(interaction, events, ephemeral=False)

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """/status, /jobs, /kb, /link, /help: the shared commands, answered to the asker
        only."""
        async with self._handling(interaction):
            user = self.identity(interaction)
            await self.workspace(interaction, user)
            await self.recheck_roles(user, interaction.guild_id)
            events = await asyncio.to_thread(self.conv.handle, user, text)
            if text == "/help":
                events = [replace(e, text=f"{DISCORD_HELP}\n{e.text}") for e in events]
            await self._reply(interaction, events, ephemeral=True)

    async def on_kb_file(self, interaction: discord.Interaction[Any],
                         file: discord.Attachment) -> None:
        """/kb FILE: the file into the knowledge base, answered to the asker only. Adding
        (parsing, embedding) can outlast the 3 s Discord allows before an answer, so the
        answer is deferred once the file is known to be worth fetching."""
        async with self._handling(interaction):
            unfit = unfit_attachment(file)
            if unfit is not None:
                await interaction.response.send_message(f"⚠️ {unfit}", ephemeral=True)
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            events = await self.add_attachments(self.identity(interaction), [file])
            await interaction.followup.send(lines(events), ephemeral=True)

    async def add_attachments(self, user: ChannelUser,
                              attachments: list[discord.Attachment]) -> list[OutEvent]:
        """Fetch the attachments and add them to the knowledge base (see
        :func:`.files.add_attachments`)."""
        return await add_attachments(self.conv, user, attachments)

    async def on_message(self, message: discord.Message) -> None:
        """In DMs, plain words work like anywhere else in the studio ("make a short about
        tides", "yes", notes for a draft) and attached files go into the knowledge base
        (first, so words that ask about them find them); in servers the bot only answers
        commands."""
        if message.guild is not None or message.author.bot:
            return
        user = ChannelUser("discord", str(message.author.id), message.author.display_name)
        if message.attachments:
            events = await self.add_attachments(user, list(message.attachments))
            await message.channel.send(content=lines(events))
        if message.content.strip():
            await self.recheck_roles(user, None)  # words may approve ("yes", /approve)
            await self._converse(message, user)

    async def _converse(self, message: discord.Message, user: ChannelUser) -> None:
        async with self._routing:
            events = await asyncio.to_thread(self.conv.handle, user, message.content)
            for event in events:
                if event.job_id and event.kind == "text" and event.text.startswith("Started"):
                    self.routes.set(event.job_id, message.channel.id, None)
        for event in events:
            if event.kind == "approval_request":
                await self.courier.send_approval(message.channel.id, event)
            else:
                await message.channel.send(content=event_text(event))

    async def _reply(self, interaction: discord.Interaction[Any], events: list[OutEvent],
                     *, ephemeral: bool) -> None:
        errors = [e.text for e in events if e.kind == "error"]
        if errors:
            await interaction.response.send_message(clip("⚠️ " + "\n".join(errors)),
                                                    ephemeral=True)
            return
        lines = [e.text for e in events if e.kind == "text"]
        approval = next((e for e in events if e.kind == "approval_request"), None)
        if approval is None:
            files, too_big = reply_files(self.settings, events)  # the /report chart
            await interaction.response.send_message(clip("\n".join([*lines, *too_big]) or "OK"),
                                                    ephemeral=ephemeral, files=files)
            return
        content, _ = approval_text(approval)
        await interaction.response.send_message(
            clip("\n\n".join([*lines, content])), ephemeral=ephemeral,
            view=review_view(self.settings, approval.job_id or "", approval.stage,
                             approval.actions))

    # --- buttons and the notes form -------------------------------------------------------

    async def on_press(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        async with self._handling(interaction):
            press = read_id(self.settings, custom_id)
            if press is None or press.action == "notes":
                log.warning("refused a button with an invalid custom_id from %s",
                            interaction.user.id)
                await interaction.response.send_message(NOT_VALID, ephemeral=True)
                return
            user = self.identity(interaction)
            await self.workspace(interaction, user)
            await self.recheck_roles(user, interaction.guild_id)
            if press.action == "revise":
                refusal = await asyncio.to_thread(self._refusal, user, press)
                if refusal:
                    await interaction.response.send_message(f"⚠️ {refusal}", ephemeral=True)
                else:
                    await interaction.response.send_modal(NotesModal(self.settings, press))
                return
            await self._decide(interaction, user, press, "")

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """A Revise form sent back: handled here (not by the live modal object), so a form
        opened before a restart, or by two reviewers at once, still arrives."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(PREFIX):
            return
        async with self._handling(interaction):
            press = read_id(self.settings, custom_id)
            if press is None or press.action != "notes":
                await interaction.response.send_message(NOT_VALID, ephemeral=True)
                return
            user = self.identity(interaction)
            await self.workspace(interaction, user)
            await self.recheck_roles(user, interaction.guild_id)
            notes = modal_notes(list(data.get("components", [])))
            await self._decide(interaction, user, Press("revise", press.job_id, press.stage),
                               notes)

    def _refusal(self, user: ChannelUser, press: Press) -> str | None:
        """Why this user may not revise now (checked before showing the notes form; the
        conversation checks again when the notes come)."""
        try:
            self.conv.check_reviewer(self.conv.username(user), self.conv.job(press.job_id))
        except AssistantError as exc:
            return exc.user_message
        review = self.conv.runner.pending_review(press.job_id)
        if review is None or review["action_request"]["action"] != press.stage:
            return f"that review of {press.job_id} was already decided: /status {press.job_id}"
        return None

    async def _decide(self, interaction: discord.Interaction[Any], user: ChannelUser,
                      press: Press, notes: str) -> None:
        async with self._routing:
            events = await asyncio.to_thread(self.conv.decide, user, press.job_id,
                                             press.action, notes, press.stage)
            failed = [e.text for e in events if e.kind == "error"]
            if not failed and interaction.channel_id is not None:
                self.routes.set(press.job_id, interaction.channel_id, interaction.guild_id)
        if failed:  # refused, stale or unknown: only the presser hears it; nothing changed
            await interaction.response.send_message(clip("⚠️ " + "\n".join(failed)),
                                                    ephemeral=True)
            return
        message = interaction.message
        done = decided_text(message.content if message else "", press.action,
                            interaction.user.mention)
        if press.action == "revise":
            done = clip(f"{done}\n> {notes.strip()}")
        if message is not None and not message.flags.ephemeral:
            await interaction.response.edit_message(content=done, view=None)
        else:
            await interaction.response.send_message(
                clip("\n".join(e.text for e in events) or done), ephemeral=False)

    @asynccontextmanager
    async def _handling(self, interaction: discord.Interaction[Any]) -> AsyncIterator[None]:
        """Log and answer an unexpected failure; mark the interaction handled."""
        try:
            yield
        except Exception:
            log.exception("discord interaction %s failed", interaction.id)
            with suppress(discord.HTTPException):
                if not interaction.response.is_done():
                    await interaction.response.send_message(OOPS, ephemeral=True)
                elif interaction.response.type is DEFERRED:  # "thinking…" until answered
                    await interaction.followup.send(OOPS, ephemeral=True)
        finally:
            done = self.handled.pop(interaction.id, None)
            if done is not None:
                done.set()
