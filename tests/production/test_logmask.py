"""Every log record is masked: tokens, keys, URL passwords, header values, configured secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.infra import logmask
from assistant.infra.observability import configure_logging

TG = "7000001:AAtest-token-for-the-offline-harness_x1"
DISCORD = "OTAwMDAwMDAwMDAwMDAwMDAy.GhAbCd.abcdefghijklmnopqrstuvwxyz0123456789"
SERPER = "3f9a0c2e7b1d4e5f8a6b9c0d1e2f3a4b"  # no shape: found by its value only


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    level = root.level
    settings = Settings(_env_file=None, serper_api_key=SERPER,
                        telegram_token=SecretStr("not-shaped-like-a-token-42"))
    handler = configure_logging(json=False, level="DEBUG", settings=settings)
    try:
        yield capsys
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize(("line", "secret"), [
    (f"HTTP Request: POST https://api.telegram.org/bot{TG}/getMe", TG),
    (f"token is {TG}", TG),
    (f"logging in with {DISCORD}", DISCORD),
    ("key sk-proj-abcdefghijklmnop0123456789", "abcdefghijklmnop0123456789"),
    ("anthropic sk-ant-api03-ABCDEFGHIJKLMNOPQ", "ABCDEFGHIJKLMNOPQ"),
    ("stripe sk_live_51HxYzABCDEF0123456789", "51HxYzABCDEF0123456789"),
    ("stripe rk_test_51HxYzABCDEF0123456789", "51HxYzABCDEF0123456789"),
    ("webhook whsec_ABCdef0123456789xyz", "ABCdef0123456789xyz"),
    ("db postgresql://studio:hunter2-pw@db:5432/studio", "hunter2-pw"),
    ("broker redis://:r3dis-pass@127.0.0.1:6379/0", "r3dis-pass"),
    ("headers {'Authorization': 'Bearer abc.def.ghi-jkl'}", "abc.def.ghi-jkl"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ("headers [(b'x-api-key', b'k-12345-secret')]", "k-12345-secret"),
    ("X-API-KEY: serper-value-xyz", "serper-value-xyz"),
    ("GET /search?q=tides&api_key=QUERYKEY123&n=3", "QUERYKEY123"),
    (f"serper answered for {SERPER}", SERPER),
    ("token not-shaped-like-a-token-42 from settings", "not-shaped-like-a-token-42"),
])
def test_each_kind_of_secret_is_masked(logs: pytest.CaptureFixture[str], line: str,
                                       secret: str) -> None:
    logging.getLogger("assistant.test").info(line)
    logging.getLogger("assistant.test").info("as an argument: %s", line)
    out = logs.readouterr().err
    assert secret not in out
    assert out.count("***") >= 2


def test_ordinary_text_and_arguments_are_left_alone(logs: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("assistant.test")
    log.info("rendered %d scenes in %.1f s for %s", 3, 1.5, "job-1234")
    log.info("no authorization, refused; the token bucket is empty at 12:30:45")
    out = logs.readouterr().err
    assert "rendered 3 scenes in 1.5 s for job-1234" in out
    assert "no authorization, refused; the token bucket is empty at 12:30:45" in out


def test_loggers_that_do_not_propagate_and_foreign_handlers_are_masked(
    logs: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    access = logging.getLogger("test.access")
    access.propagate = False
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    access.addHandler(Keep())
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/bot{TG}/getMe", "1.1", 200)
    finally:
        access.handlers.clear()
        access.propagate = True
    logging.getLogger("other").warning("secret %s", SERPER)
    assert seen == ['127.0.0.1 - "GET /bot***/getMe HTTP/1.1" 200']
    assert all(SERPER not in r.getMessage() for r in caplog.records)


def test_a_traceback_is_masked(logs: pytest.CaptureFixture[str],
                               caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError(f"cannot reach https://api.telegram.org/bot{TG}/getUpdates")
    except RuntimeError:
        logging.getLogger("assistant.test").exception("polling failed")
    out = logs.readouterr().err
    assert "RuntimeError" in out and TG not in out
    assert all(TG not in (r.exc_text or "") for r in caplog.records)


def test_http_clients_stay_at_warning_unless_debug_is_asked() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        handler = configure_logging(level="INFO")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
        root.removeHandler(handler)
        handler = configure_logging(level="DEBUG")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
        root.removeHandler(handler)
    finally:
        root.setLevel(level)
        logmask.quiet_http_clients(logging.WARNING)


def test_settings_secrets_are_collected_by_value() -> None:
    settings = Settings(_env_file=None, serper_api_key=SERPER,
                        llm_api_key=SecretStr("llm-key-value"),
                        discord_token=SecretStr(DISCORD))
    found = logmask.settings_secrets(settings)
    assert {SERPER, "llm-key-value", DISCORD} <= set(found)
