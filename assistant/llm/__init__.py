"""Chat models: the factory from settings, validated structured output, and the embedded
llama.cpp model (assistant/llm/embedded.py)."""

from assistant.llm.chat import (
    REMOTE_PROVIDERS,
    ChatModel,
    extract_json,
    get_chat_model,
    structured,
)

__all__ = ["REMOTE_PROVIDERS", "ChatModel", "extract_json", "get_chat_model", "structured"]
