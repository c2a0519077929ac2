"""Chainlit's data layer over our own database: web-chat history that survives a restart.

Users are our ``profiles`` (the account name is Chainlit's user identifier); threads, steps
(messages and pipeline steps), elements and feedback live in the ``chat_*`` tables of
migration 0003. Steps and elements keep Chainlit's own dicts in a JSON column, with the
columns we query on beside them. The database calls are synchronous SQLAlchemy, run in a
worker thread so the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import Feedback, PageInfo, PaginatedResponse, Pagination, ThreadFilter
from chainlit.user import PersistedUser, User
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import ChatElement, ChatFeedback, ChatStep, ChatThread, Profile

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict
    from chainlit.types import ThreadDict

T = TypeVar("T")
MAX_PAGE = 100
_NAME = 255  # chat_threads.name


def iso(when: datetime) -> str:
    """Chainlit's timestamp format: ISO 8601 in UTC with a trailing Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime:
    if text:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text)) if text else None
    except ValueError:
        return None


class OurDataLayer(BaseDataLayer):
    """Chainlit's ``BaseDataLayer`` on the app's database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Chainlit fires a step's create and its updates as separate tasks: one lock, taken
        # in the order they were started, keeps the last update the one that is stored.
        self._writes = asyncio.Lock()

    async def _run(self, work: Callable[[Session], T]) -> T:
        def in_session() -> T:
            with self.db.session() as s:
                return work(s)

        return await asyncio.to_thread(in_session)

    async def _write(self, work: Callable[[Session], T]) -> T:
        async with self._writes:
            return await self._run(work)

    # --- users: our profiles ------------------------------------------------------------------

    @staticmethod
    def _persisted(profile: Profile) -> PersistedUser:
        return PersistedUser(id=str(profile.id), identifier=profile.username,
                             createdAt=iso(profile.created_at),
                             display_name=profile.full_name or profile.username,
                             metadata={"role": profile.role})

    async def get_user(self, identifier: str) -> PersistedUser | None:
        def work(s: Session) -> PersistedUser | None:
            profile = s.scalar(select(Profile).where(Profile.username == identifier))
            return self._persisted(profile) if profile else None

        return await self._run(work)

    async def create_user(self, user: User) -> PersistedUser | None:
        """The profile for an authenticated user, created on first use (header auth)."""

        def work(s: Session) -> PersistedUser:
            profile = s.scalar(select(Profile).where(Profile.username == user.identifier))
            if profile is None:
                profile = Profile(username=user.identifier, full_name=user.display_name)
                s.add(profile)
                s.flush()
            return self._persisted(profile)

        return await self._write(work)

    # --- threads ------------------------------------------------------------------------------

    async def get_thread_author(self, thread_id: str) -> str:
        def work(s: Session) -> str:
            name = s.scalar(select(Profile.username).join(
                ChatThread, ChatThread.user_id == Profile.id).where(ChatThread.id == thread_id))
            return name or ""

        return await self._run(work)

    async def update_thread(self, thread_id: str, name: str | None = None,
                            user_id: str | None = None, metadata: dict[str, Any] | None = None,
                            tags: list[str] | None = None) -> None:
        def work(s: Session) -> None:
            thread = s.get(ChatThread, thread_id)
            if thread is None:
                thread = ChatThread(id=thread_id, tags=[], meta={})
                s.add(thread)
            if name is not None:
                thread.name = name[:_NAME]
            if _uuid(user_id) is not None:
                thread.user_id = _uuid(user_id)
            if metadata is not None:
                merged = {**(thread.meta or {}), **metadata}
                thread.meta = {k: v for k, v in merged.items() if v is not None}
            if tags is not None:
                thread.tags = list(tags)
            thread.updated_at = datetime.now(UTC)

        await self._write(work)

    async def delete_thread(self, thread_id: str) -> None:
        def work(s: Session) -> None:
            for table in (ChatFeedback, ChatElement, ChatStep):
                s.execute(delete(table).where(table.thread_id == thread_id))
            s.execute(delete(ChatThread).where(ChatThread.id == thread_id))

        await self._write(work)

    async def list_threads(self, pagination: Pagination,
                           filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        first = max(1, min(pagination.first or 20, MAX_PAGE))
        cursor = pagination.cursor or ""
        offset = int(cursor) if cursor.isdigit() else 0

        def work(s: Session) -> PaginatedResponse[ThreadDict]:
            query = select(ChatThread, Profile.username).outerjoin(
                Profile, Profile.id == ChatThread.user_id)
            if filters.userId:
                query = query.where(ChatThread.user_id == _uuid(filters.userId))
            if filters.search:
                needle = f"%{filters.search.lower()}%"
                matching_steps = select(ChatStep.thread_id).where(
                    func.lower(ChatStep.data["output"].as_string()).like(needle))
                query = query.where(or_(func.lower(ChatThread.name).like(needle),
                                        ChatThread.id.in_(matching_steps)))
            if filters.feedback is not None:
                query = query.where(ChatThread.id.in_(select(ChatFeedback.thread_id).where(
                    ChatFeedback.value == filters.feedback)))
            rows = s.execute(query.order_by(ChatThread.updated_at.desc(), ChatThread.id)
                             .offset(offset).limit(first + 1)).all()
            more = len(rows) > first
            data = [self._thread_dict(t, u, [], []) for t, u in rows[:first]]
            return PaginatedResponse(
                pageInfo=PageInfo(hasNextPage=more, startCursor=str(offset),
                                  endCursor=str(offset + first) if more else None),
                data=data)

        return await self._run(work)

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        def work(s: Session) -> ThreadDict | None:
            row = s.execute(select(ChatThread, Profile.username).outerjoin(
                Profile, Profile.id == ChatThread.user_id)
                .where(ChatThread.id == thread_id)).first()
            if row is None:
                return None
            feedback = {f.step_id: f for f in s.scalars(
                select(ChatFeedback).where(ChatFeedback.thread_id == thread_id))}
            steps: list[StepDict] = []
            for step in s.scalars(select(ChatStep).where(ChatStep.thread_id == thread_id)
                                  .order_by(ChatStep.created_at, ChatStep.id)):
                data: dict[str, Any] = dict(step.data)
                if (fb := feedback.get(step.id)) is not None:
                    data["feedback"] = {"id": fb.id, "forId": fb.step_id, "value": fb.value,
                                        "comment": fb.comment}
                steps.append(data)  # type: ignore[arg-type]
            elements: list[ElementDict] = [
                e.data for e in s.scalars(  # type: ignore[misc]
                    select(ChatElement).where(ChatElement.thread_id == thread_id)
                    .order_by(ChatElement.created_at))]
            return self._thread_dict(row[0], row[1], steps, elements)

        return await self._run(work)

    @staticmethod
    def _thread_dict(thread: ChatThread, username: str | None, steps: list[StepDict],
                     elements: list[ElementDict]) -> ThreadDict:
        return {
            "id": thread.id, "createdAt": iso(thread.created_at), "name": thread.name,
            "userId": str(thread.user_id) if thread.user_id else None,
            "userIdentifier": username, "tags": list(thread.tags or []),
            "metadata": dict(thread.meta or {}), "steps": steps, "elements": elements,
        }

    # --- steps --------------------------------------------------------------------------------

    @staticmethod
    def _ensure_thread(s: Session, thread_id: str) -> None:
        if s.get(ChatThread, thread_id) is None:
            s.add(ChatThread(id=thread_id, tags=[], meta={}))
            s.flush()

    async def _upsert_step(self, step_dict: StepDict, *, newer: bool) -> None:
        """Store a step; on a row that exists, ``newer`` says whose values win (an update's
        do; a create that arrives after an update, as queued writes may, fills gaps only)."""
        step_id, thread_id = step_dict.get("id"), step_dict.get("threadId")
        if not step_id or not thread_id:
            return
        data = {k: v for k, v in dict(step_dict).items() if k != "feedback"}

        def work(s: Session) -> None:
            self._ensure_thread(s, thread_id)
            step = s.get(ChatStep, step_id)
            if step is None:
                s.add(ChatStep(id=step_id, thread_id=thread_id, parent_id=data.get("parentId"),
                               type=str(data.get("type") or "undefined")[:50], data=data,
                               created_at=parse_time(str(data.get("createdAt") or ""))))
                return
            fresh = {k: v for k, v in data.items() if v is not None}
            merged = {**step.data, **fresh} if newer else {**fresh, **step.data}
            step.data, step.type = merged, str(merged.get("type") or step.type)[:50]
            thread = s.get(ChatThread, thread_id)
            if thread is not None:
                thread.updated_at = datetime.now(UTC)

        await self._write(work)

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        await self._upsert_step(step_dict, newer=False)

    @queue_until_user_message()
    async def update_step(self, step_dict: StepDict) -> None:
        await self._upsert_step(step_dict, newer=True)

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        def work(s: Session) -> None:
            s.execute(delete(ChatFeedback).where(ChatFeedback.step_id == step_id))
            s.execute(delete(ChatElement).where(ChatElement.for_id == step_id))
            s.execute(delete(ChatStep).where(ChatStep.id == step_id))

        await self._write(work)

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        def work(s: Session) -> list[StepDict]:
            rows = s.scalars(select(ChatStep).join(ChatThread).where(
                ChatThread.user_id == _uuid(user_id)).order_by(ChatStep.created_at))
            return [r.data for r in rows  # type: ignore[misc]
                    if (r.data.get("metadata") or {}).get("favorite")]

        return await self._run(work)

    # --- elements -----------------------------------------------------------------------------

    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        data: dict[str, Any] = dict(element.to_dict())
        if not data.get("url"):
            # a file kept only in this session's upload folder: gone after a restart
            return
        thread_id = element.thread_id

        def work(s: Session) -> None:
            self._ensure_thread(s, thread_id)
            row = s.get(ChatElement, element.id)
            if row is None:
                s.add(ChatElement(id=element.id, thread_id=thread_id, for_id=element.for_id,
                                  data=data))
            else:
                row.data, row.for_id = data, element.for_id

        await self._write(work)

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        def work(s: Session) -> ElementDict | None:
            row = s.get(ChatElement, element_id)
            if row is None or row.thread_id != thread_id:
                return None
            return row.data  # type: ignore[return-value]

        return await self._run(work)

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        def work(s: Session) -> None:
            query = delete(ChatElement).where(ChatElement.id == element_id)
            if thread_id:
                query = query.where(ChatElement.thread_id == thread_id)
            s.execute(query)

        await self._write(work)

    # --- feedback -----------------------------------------------------------------------------

    async def upsert_feedback(self, feedback: Feedback) -> str:
        def work(s: Session) -> str:
            row = s.scalar(select(ChatFeedback).where(ChatFeedback.step_id == feedback.forId))
            if row is None:
                thread_id = feedback.threadId or s.scalar(
                    select(ChatStep.thread_id).where(ChatStep.id == feedback.forId))
                if not thread_id:
                    raise ValueError(f"no message {feedback.forId} to give feedback on")
                row = ChatFeedback(id=feedback.id or str(uuid.uuid4()), thread_id=thread_id,
                                   step_id=feedback.forId, value=int(feedback.value))
                s.add(row)
            row.value, row.comment = int(feedback.value), feedback.comment
            return row.id

        return await self._write(work)

    async def delete_feedback(self, feedback_id: str) -> bool:
        def work(s: Session) -> bool:
            return bool(s.execute(delete(ChatFeedback).where(
                ChatFeedback.id == feedback_id)).rowcount)  # type: ignore[attr-defined]

        return await self._write(work)

    # --- the rest -----------------------------------------------------------------------------

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        """Nothing to do: the database belongs to the app's Services, which closes it."""
