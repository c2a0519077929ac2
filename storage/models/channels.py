"""What the chat bots keep between restarts: each job's Discord channel, each Telegram
user's chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import JOB_ID, Base, _updated


class DiscordRoute(Base):
    """The channel a job talks in (where it was started or last decided), its guild (NULL
    in DMs) and the progress message edited in place."""

    __tablename__ = "discord_routes"

    job_id: Mapped[str] = mapped_column(JOB_ID, ForeignKey("jobs.id", ondelete="CASCADE"),
                                        primary_key=True)
    channel_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = _updated()


class TelegramChat(Base):
    """The chat a Telegram user last wrote from (a group, or their private chat)."""

    __tablename__ = "telegram_chats"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = _updated()
