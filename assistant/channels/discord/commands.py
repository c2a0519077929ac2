"""The bot's slash commands: /create, /status, /jobs, /kb, /link, /help.

Each command hands its interaction to a :class:`CommandHandler` (the bot), so this module
does not need the bot's class.
"""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands

from assistant.app.command_registry import REGISTRY as GROUP_COMMANDS
from assistant.app.command_registry import GroupCommand
from assistant.content import FORMATS, STYLES


class CommandHandler(Protocol):
    """What the commands need from the bot."""

    async def on_create(self, interaction: discord.Interaction[Any], topic: str,
                        fmt: str | None, style: str | None) -> None: ...

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None: ...

    async def on_kb_file(self, interaction: discord.Interaction[Any],
                         file: discord.Attachment) -> None: ...


def add_commands(tree: app_commands.CommandTree[Any], bot: CommandHandler) -> None:
    """/create, /status, /jobs, /kb, /link, /help: usable in servers and in DMs with the
    bot."""
    formats = [app_commands.Choice(name=f, value=f) for f in FORMATS]
    styles = [app_commands.Choice(name=s, value=s) for s in STYLES]
    everywhere = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)

    @tree.command(name="create", description="Make a piece: researched, reviewed by you, "
                                             "published")
    @app_commands.describe(topic="What it is about", format="short, video, podcast, blog or "
                           "social (default: blog)", style="Tone (default: casual)")
    @app_commands.choices(format=formats, style=styles)
    @everywhere
    async def create(interaction: discord.Interaction[Any], topic: str,
                     format: str | None = None, style: str | None = None) -> None:
        await bot.on_create(interaction, topic, format, style)

    @tree.command(name="status", description="Where a job is (and its review, if waiting)")
    @app_commands.describe(job="A job id like job-1a2b3c4d (default: your current one)")
    @everywhere
    async def status(interaction: discord.Interaction[Any], job: str | None = None) -> None:
        await bot.on_command(interaction, f"/status {job or ''}".strip())

    @tree.command(name="jobs", description="Your recent jobs")
    @everywhere
    async def jobs(interaction: discord.Interaction[Any]) -> None:
        await bot.on_command(interaction, "/jobs")

    @tree.command(name="kb", description="List the knowledge base, or add a file to it")
    @app_commands.describe(file="A .md, .txt, .html or .pdf file to add (leave out to list "
                                "what is there)")
    @everywhere
    async def kb(interaction: discord.Interaction[Any],
                 file: discord.Attachment | None = None) -> None:
        if file is None:
            await bot.on_command(interaction, "/kb")
        else:
            await bot.on_kb_file(interaction, file)

    @tree.command(name="link", description="Link this Discord account to your other chat "
                                           "accounts")
    @app_commands.describe(code="The code /link gave you elsewhere (leave out to get one)")
    @everywhere
    async def link(interaction: discord.Interaction[Any], code: str | None = None) -> None:
        await bot.on_command(interaction, f"/link {code or ''}".strip())

    @tree.command(name="help", description="What this bot can do")
    @everywhere
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await bot.on_command(interaction, "/help")


    # The group commands (/platforms, /connect, /report, /usage, ...): one optional free-text
    # argument each, parsed by the conversation as in every other channel.
    for group in GROUP_COMMANDS.values():
        _add_group_command(tree, bot, group, everywhere)


def _add_group_command(tree: app_commands.CommandTree[Any], bot: CommandHandler,
                       group: GroupCommand, everywhere: Any) -> None:
    description = group.usage.split("—", 1)[-1].strip()[:100] or group.name

    @app_commands.describe(args="What the command takes (see /help)")
    @everywhere
    async def run(interaction: discord.Interaction[Any], args: str | None = None) -> None:
        await bot.on_command(interaction, f"/{group.name} {args or ''}".strip())

    tree.add_command(app_commands.Command(name=group.name, description=description,
                                          callback=run))
