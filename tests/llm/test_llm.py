"""The LLM layer: provider factory, structured output with repair, and the real backends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.errors import ConfigError, ModelOutputError
from assistant.llm import extract_json, get_chat_model, structured
from assistant.llm.embedded import packaged_model_path
from tests.fakes import scripted


class Answer(BaseModel):
    city: str = Field(max_length=40)
    country: str = Field(max_length=40)


QUESTION = [HumanMessage("Which city is the capital of France? Give the city and country.")]


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg, arg-type]


def test_unknown_provider_is_a_clear_error() -> None:
    s = settings()
    object.__setattr__(s, "llm_provider", "mystery")
    with pytest.raises(ConfigError, match="unknown ASSISTANT_LLM_PROVIDER 'mystery'"):
        get_chat_model(s)


def test_anthropic_without_a_key_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_API_KEY"):
        get_chat_model(settings(llm_provider="anthropic"))


def test_extract_json_strips_fences_and_chatter() -> None:
    assert extract_json('Sure!\n```json\n{"a": 1}\n```') == '{"a": 1}'


def test_invalid_output_is_repaired_with_the_error_fed_back() -> None:
    chat = scripted("not json at all", '{"city": "Paris"}',
                    '{"city": "Paris", "country": "France"}')
    answer = structured(chat, Answer, QUESTION, retries=2)
    assert answer == Answer(city="Paris", country="France")
    prompts = chat.model.prompts  # type: ignore[attr-defined]
    assert "country: Field required" in prompts[2]  # the validation error went back


def test_output_that_never_validates_raises_after_the_bounded_retries() -> None:
    chat = scripted("nope")
    with pytest.raises(ModelOutputError, match="no valid Answer after 3 tries"):
        structured(chat, Answer, QUESTION, retries=2)
    assert len(chat.model.prompts) == 3  # type: ignore[attr-defined]


def test_content_check_rejections_are_repaired() -> None:
    chat = scripted('{"city": "Lyon", "country": "France"}',
                    '{"city": "Paris", "country": "France"}')
    answer = structured(chat, Answer, QUESTION,
                        check=lambda a: None if a.city == "Paris" else "that is not the capital")
    assert answer.city == "Paris"


@pytest.mark.slow
def test_embedded_model_gives_schema_valid_json() -> None:
    chat = get_chat_model(settings(llm_max_tokens=120))
    answer = structured(chat, Answer, QUESTION, retries=1)
    assert answer.city and answer.country
    assert chat.usage["output"] > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on the packaged model."""
    port = _free_port()
    # A file, not a pipe: the server logs a lot and would block on a full pipe.
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model_path()),
         "--chat_format", "chatml", "--host", "127.0.0.1", "--port", str(port),
         "--n_threads", "1", "--n_ctx", "2048", "--model_alias", "local-model"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/models", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                tail = log.read()[-2000:]
                raise AssertionError(f"llama_cpp.server did not start: {tail}") from None
            time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.mark.slow
def test_openai_provider_against_a_real_openai_compatible_server(llama_server: str) -> None:
    chat = get_chat_model(settings(llm_provider="openai", llm_base_url=llama_server,
                                   llm_model="local-model", llm_structured="json_object",
                                   llm_max_tokens=120))
    assert chat.label == "openai:local-model"
    reply = chat.model.invoke([HumanMessage("Say hello.")])
    assert isinstance(reply.content, str) and reply.content
    answer = structured(chat, Answer, QUESTION, retries=1)
    assert answer.city and answer.country
    assert chat.usage["calls"] >= 1


def test_unreachable_openai_server_gives_a_model_error_not_a_hang() -> None:
    port = _free_port()  # nothing listens here
    url = f"http://127.0.0.1:{port}/v1"
    chat = get_chat_model(settings(llm_provider="openai", llm_base_url=url, llm_model="m",
                                   llm_timeout_s=5))
    with pytest.raises(Exception) as info:
        chat.model.invoke(QUESTION)
    assert "Connection" in type(info.value).__name__ or "connect" in str(info.value).lower()
