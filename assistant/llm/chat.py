"""Chat-model factory and validated structured output.

``get_chat_model(settings)`` maps the configured provider name to a langchain-core
chat model; ``structured(...)`` asks any of them for a pydantic object, using the
backend's own constrained decoding where it has one, validating the answer and
asking for a bounded number of repairs before giving up with a clear error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from assistant.config import Settings
from assistant.errors import ConfigError, ModelOutputError
from assistant.infra.observability import count_tokens
from assistant.infra.slots import waiting_elsewhere

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

# Providers that answer from a server, not on this CPU (a job waiting on one frees its slot).
REMOTE_PROVIDERS = frozenset({"ollama", "openai", "anthropic"})

# How a backend can be made to answer in JSON that fits a schema.
StructuredMode = Literal["llamacpp_schema", "openai_json_schema", "ollama_format", "prompt"]


@dataclass
class ChatModel:
    """A configured chat model and how to get structured output from it."""

    model: BaseChatModel
    provider: str
    name: str
    mode: StructuredMode = "prompt"
    usage: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0, "calls": 0})

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.name}"

    @property
    def remote(self) -> bool:
        """Whether it answers from another process (a server), not on this CPU."""
        return self.provider in REMOTE_PROVIDERS


def _embedded(settings: Settings) -> ChatModel:
    from assistant.llm.embedded import embedded_chat

    model, name = embedded_chat(
        settings.llm_model,  # a catalog name, a GGUF path, or None: the catalog's default
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )
    return ChatModel(model, "embedded", name, "llamacpp_schema")


def _ollama(settings: Settings) -> ChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:  # pragma: no cover - core dependency
        raise ConfigError("ASSISTANT_LLM_PROVIDER=ollama needs langchain-ollama") from exc
    name = settings.llm_model or "llama3.1:8b"
    model = ChatOllama(
        model=name,
        base_url=settings.llm_base_url or "http://127.0.0.1:11434",
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
    )
    return ChatModel(model, "ollama", name, "ollama_format")


def _openai(settings: Settings) -> ChatModel:
    from langchain_openai import ChatOpenAI

    name = settings.llm_model or "gpt-4o-mini"
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    model = ChatOpenAI(
        model=name,
        base_url=settings.llm_base_url,
        api_key=key,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=1,
    )
    modes: dict[str, StructuredMode] = {
        "auto": "openai_json_schema",
        "json_schema": "openai_json_schema",
        "json_object": "llamacpp_schema",  # llama.cpp's server: json_object with a schema
        "prompt": "prompt",
    }
    return ChatModel(model, "openai", name, modes[settings.llm_structured])


def _anthropic(settings: Settings) -> ChatModel:
    from langchain_anthropic import ChatAnthropic

    if settings.llm_api_key is None:
        raise ConfigError("ASSISTANT_LLM_PROVIDER=anthropic needs ASSISTANT_LLM_API_KEY")
    name = settings.llm_model or "claude-sonnet-4-5"
    model = ChatAnthropic(  # type: ignore[call-arg]
        model_name=name,
        api_key=settings.llm_api_key,
        temperature=settings.llm_temperature,
        max_tokens_to_sample=settings.llm_max_tokens,
        timeout=settings.llm_timeout_s,
    )
    return ChatModel(model, "anthropic", name, "prompt")


PROVIDERS: dict[str, Callable[[Settings], ChatModel]] = {
    "embedded": _embedded,
    "ollama": _ollama,
    "openai": _openai,
    "anthropic": _anthropic,
}


def get_chat_model(settings: Settings) -> ChatModel:
    """The chat model named by ``ASSISTANT_LLM_PROVIDER``."""
    try:
        factory = PROVIDERS[settings.llm_provider]
    except KeyError:
        raise ConfigError(
            f"unknown ASSISTANT_LLM_PROVIDER {settings.llm_provider!r}; "
            f"choose one of {', '.join(PROVIDERS)}"
        ) from None
    return factory(settings)


# --- structured output ----------------------------------------------------------------

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def extract_json(text: str) -> str:
    """The JSON object in a model's reply, without code fences or chatter around it."""
    cleaned = _FENCE.sub("", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start == -1 or end <= start:
        return cleaned
    return cleaned[start : end + 1]


def _bind_for_schema(
    chat: ChatModel, schema: type[BaseModel], max_tokens: int | None = None
) -> Any:
    json_schema = schema.model_json_schema()
    if chat.mode == "llamacpp_schema":
        limit = {"max_tokens": max_tokens} if max_tokens else {}
        return chat.model.bind(
            response_format={"type": "json_object", "schema": json_schema}, **limit)
    if chat.mode == "openai_json_schema":
        return chat.model.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
            }
        )
    if chat.mode == "ollama_format":
        return chat.model.bind(format=json_schema)
    return chat.model


def _schema_instruction(schema: type[BaseModel]) -> str:
    return (
        "Answer with one JSON object only, no prose, that fits this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )


def structured(
    chat: ChatModel,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    retries: int = 2,
    check: Callable[[T], str | None] | None = None,
    max_tokens: int | None = None,
) -> T:
    """Ask ``chat`` for a ``schema`` object; validate; repair up to ``retries`` times.

    ``max_tokens`` caps the answer where the backend allows it (the embedded model).
    ``check`` adds content rules a schema cannot express: it returns a complaint
    (sent back to the model as a repair request) or None when the object is fine.
    """
    runnable = _bind_for_schema(chat, schema, max_tokens)
    conversation: list[BaseMessage] = list(messages)
    if chat.mode == "prompt":
        conversation.insert(0, SystemMessage(_schema_instruction(schema)))
    problem = ""
    for attempt in range(retries + 1):
        with waiting_elsewhere() if chat.remote else nullcontext():
            reply = runnable.invoke(conversation)
        _count_usage(chat, reply)
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        try:
            value = schema.model_validate_json(extract_json(text))
        except ValidationError as exc:
            problem = _short_validation_error(exc)
        else:
            complaint = check(value) if check else None
            if complaint is None:
                return value
            problem = complaint
        log.info("structured output attempt %d rejected: %s", attempt + 1, problem)
        conversation += [
            AIMessage(text[:2000]),
            HumanMessage(f"That answer is not acceptable: {problem}. Reply with corrected JSON."),
        ]
    raise ModelOutputError(
        f"the model ({chat.label}) gave no valid {schema.__name__} after {retries + 1} tries "
        f"(last problem: {problem}); resume the job to try again, or configure a stronger "
        "model (ASSISTANT_LLM_PROVIDER=ollama)"
    )


def _count_usage(chat: ChatModel, reply: Any) -> None:
    usage = getattr(reply, "usage_metadata", None) or {}
    tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    chat.usage["input"] += tokens_in
    chat.usage["output"] += tokens_out
    chat.usage["calls"] += 1
    count_tokens(chat.provider, input_tokens=tokens_in, output_tokens=tokens_out)


def _short_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {"msg": str(exc), "loc": ()}
    where = ".".join(str(p) for p in first.get("loc", ())) or "the answer"
    return f"{where}: {first.get('msg')}"
