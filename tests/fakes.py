"""Test doubles for the chat model only: everything else in the tests is real."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from assistant.llm import ChatModel


class ScriptedChat(BaseChatModel):
    """Answers with the given replies in turn (the last one repeats) and records prompts."""

    replies: list[str]
    prompts: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.prompts.append("\n".join(str(m.content) for m in messages))
        index = min(len(self.prompts) - 1, len(self.replies) - 1)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.replies[index]))])


def scripted(*replies: str | dict[str, Any]) -> ChatModel:
    texts = [r if isinstance(r, str) else json.dumps(r) for r in replies]
    return ChatModel(ScriptedChat(replies=texts, prompts=[]), "fake", "scripted", "prompt")


class ReadingChat(BaseChatModel):
    """Answers each prompt with ``reply(prompt)``: a stand-in for a model that rewrites what
    it was shown (the writer's sources differ by run, so a fixed reply cannot cite them)."""

    reply: Callable[[str], str | dict[str, Any]]
    prompts: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "reading"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        self.prompts.append(prompt)
        answer = self.reply(prompt)
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


def reading(reply: Callable[[str], str | dict[str, Any]]) -> ChatModel:
    return ChatModel(ReadingChat(reply=reply, prompts=[]), "fake", "reading", "prompt")


FRAMING = {
    "title": "How Tides Work: the Moon, the Sun and the Sea",
    "hook": "Why does the sea rise and fall twice a day, and what do tides owe the Moon?",
    "call_to_action": "Follow for more ocean science.",
    "description": "A short, sourced explainer on tides: the Moon, the Sun and coastlines.",
}


def draft(**overrides: Any) -> dict[str, Any]:
    """A generative-mode Draft citing the test knowledge base's tides page."""
    body = {
        "title": "How Tides Work",
        "hook": "Tides rise and fall twice a day because the Moon pulls on the oceans.",
        "sections": [
            {"heading": "The pull of the Moon", "citations": ["SOURCE"],
             "text": "The Moon's gravity pulls the ocean into two bulges of water."},
            {"heading": "Two tides a day", "citations": ["SOURCE"],
             "text": "Most coasts see two high tides a day, about twelve hours apart."},
        ],
        "call_to_action": "Follow for more.",
        "description": "Tides, explained.",
        "hashtags": ["tides"],
        "seo_keywords": ["tides"],
    }
    body.update(overrides)
    return body
