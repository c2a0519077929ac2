"""One JSON error shape for every failure: ``{"error": {"code": ..., "message": ...}}``.

HTTP errors, request validation errors and the assistant's own error hierarchy
(:mod:`assistant.errors`) all answer with it and a status code that says what happened; an
unexpected exception is logged and answers 500 with a generic line, never a traceback.

Other areas add their own errors with :func:`register_error` (a quota error is 402, ...).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.schemas import PATTERN_HINTS
from assistant.app.identity import Refused
from assistant.errors import (
    AssistantError,
    ConfigError,
    FetchRefused,
    InputError,
    JobNotFound,
    JobStateError,
    NoSourcesError,
    ResearchUnavailable,
    StorageFullError,
)
from assistant.infra.ratelimit import RateLimited
from storage.errors import (
    ConflictError,
    DatabaseUnavailable,
    DiskFullError,
    InvalidNameError,
    NotFoundError,
    StorageError,
)

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: ErrorDetail


class ApiError(Exception):
    """An error a route raises on purpose: its status, code and one-line message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Most specific first: the first class an exception is an instance of decides.
# Another user's job is 404 like a missing one (Refused), so ids cannot be probed.
_ERRORS: list[tuple[type[BaseException], int, str]] = [
    (Refused, 404, "not_found"),
    (JobNotFound, 404, "not_found"),
    (NotFoundError, 404, "not_found"),
    (RateLimited, 429, "rate_limited"),
    (InputError, 422, "invalid_request"),
    (InvalidNameError, 422, "invalid_request"),
    (JobStateError, 409, "conflict"),
    (ConflictError, 409, "conflict"),
    (NoSourcesError, 422, "no_sources"),
    (FetchRefused, 422, "fetch_refused"),
    (StorageFullError, 507, "storage_full"),
    (DiskFullError, 507, "storage_full"),
    (ResearchUnavailable, 503, "unavailable"),
    (ConfigError, 503, "unavailable"),
    (DatabaseUnavailable, 503, "unavailable"),
    (AssistantError, 400, "failed"),
    (StorageError, 503, "unavailable"),
]
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
               429: "rate_limited", 503: "unavailable"}


def register_error(error: type[BaseException], status: int, code: str) -> None:
    """Answer ``error`` (and its subclasses) with ``status`` and ``code``; checked before
    the classes registered so far (so a subclass of AssistantError is not a plain 400)."""
    _ERRORS.insert(0, (error, status, code))


def status_of(exc: BaseException) -> tuple[int, str]:
    for error, status, code in _ERRORS:
        if isinstance(exc, error):
            return status, code
    return 500, "internal"


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def message_of(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return exc.user_message
    return str(exc)  # storage errors are one line already, without secrets


def _validation_message(errors: list[Any]) -> str:
    """The first problem in words: ``body.format: Input should be 'short', ...``."""
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    field = str(first.get("loc", ("",))[-1])
    if first.get("type") == "string_pattern_mismatch" and field in PATTERN_HINTS:
        message = PATTERN_HINTS[field]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}"[:500]


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, dict(exc.headers or {}) or None)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(list(exc.errors())))

    async def on_known(request: Request, exc: Exception) -> JSONResponse:
        status, code = status_of(exc)
        if status >= 500:
            log.warning("API %s %s: %s", request.method, request.url.path, message_of(exc))
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, round(exc.wait_s)))}
        return error_response(status, code, message_of(exc), headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API %s %s failed", request.method, request.url.path)
        return error_response(500, "internal",
                              "something went wrong on our side (it is logged): try again")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(AssistantError, on_known)
    app.add_exception_handler(StorageError, on_known)
    app.add_exception_handler(Exception, on_unexpected)


# The error responses every authenticated route may give, for the OpenAPI document.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, unknown or revoked API key"},
    402: {"model": ErrorBody, "description": "A limit of your plan (quota_exceeded): the "
                                             "message says how to upgrade"},
    422: {"model": ErrorBody, "description": "The request is not valid"},
    429: {"model": ErrorBody, "description": "Too many requests"},
    503: {"model": ErrorBody, "description": "A service the request needs is unavailable"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such job, or not yours"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The job cannot do that now"}}
