"""Every error leaves as `{code, message, locale, request_id, param?}`: never a framework body or a trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bzapper import i18n
from bzapper.api.bodies import DuplicateKey
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.ratelimit import Decision

logger = logging.getLogger(__name__)

BODY_PARAM = "request_body"
"""`param` when the request body as a whole is wrong (distinct from a field named `body`)."""


def error_body(error: BzError, locale: str, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": error.code,
        "message": i18n.translate(error.message_key, locale, **error.params),
        "locale": locale,
        "request_id": request_id,
    }
    if error.param:
        body["param"] = error.param
    return body


def error_bytes(error: BzError, locale: str, request_id: str | None) -> bytes:
    return json.dumps(error_body(error, locale, request_id), ensure_ascii=False).encode()


def resolve_locale(accept_language: str | None, account_locale: str | None) -> str:
    """Accept-Language wins per request when it names a language we ship; else (also for "*") the account's
    language; else English."""
    return i18n.negotiate(accept_language, fallback=account_locale) or i18n.DEFAULT_LOCALE


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """Where the caller stands against a limit (IETF RateLimit fields), and when to retry a refusal."""
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after_seconds)
    return headers


def error_headers(error: BzError) -> dict[str, str]:
    headers = dict(error.headers)
    if error.rate is not None:
        headers.update(rate_limit_headers(error.rate))
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if error.code == "unauthorized":
        headers.setdefault("WWW-Authenticate", "Bearer")
    return headers


def render(request: Request, error: BzError) -> JSONResponse:
    principal = getattr(request.state, "principal", None)
    locale = resolve_locale(request.headers.get("accept-language"), principal.locale if principal else None)
    request_id = getattr(request.state, "request_id", None)
    headers = error_headers(error)
    return JSONResponse(error_body(error, locale, request_id), status_code=error.status, headers=headers)


WRONG_TYPE = {
    "int_type": "error.expected_integer",
    "float_type": "error.expected_number",
    "bool_type": "error.expected_boolean",
    "query_digits": "error.expected_digits",
}
"""A value of another JSON type than its field's (request models are strict: `"6"` is no integer): said so."""


def field_refusal(kind: str, param: str) -> BzError:
    """The 422 of one field, by the kind of pydantic error."""
    if kind == "missing":
        return validation_failed(param, "error.validation_missing")
    return validation_failed(param, WRONG_TYPE.get(kind, "error.validation_failed"))


def _from_validation(exc: RequestValidationError) -> BzError:
    first = exc.errors()[0] if exc.errors() else {"type": "value_error", "loc": ("body",)}
    kind = str(first.get("type", ""))
    loc = list(first.get("loc", ()))
    # The first element says where (body, query, path, header); the rest is the field's path.
    location = [str(part) for part in (loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)]
    param = ".".join(location) or BODY_PARAM
    if kind == "json_invalid":
        if isinstance(exc.__cause__, DuplicateKey):  # valid JSON to the framework, ambiguous to us
            return validation_failed(exc.__cause__.path or BODY_PARAM, "error.duplicate_key")
        return validation_failed(BODY_PARAM, "error.invalid_json")
    if kind in ("model_attributes_type", "dict_type") and not location:  # valid JSON, but `[1, 2]` or `"x"`
        return validation_failed(BODY_PARAM, "error.body_not_object")
    return field_refusal(kind, param)


def install_error_handlers(app: FastAPI) -> None:
    async def on_bz_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BzError)
        return render(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(request, _from_validation(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        params = {"method": request.method, "path": request.url.path}
        if exc.status_code == 405:
            error = BzError("method_not_allowed", params=params, headers=exc.headers)
        elif exc.status_code == 404:
            error = BzError("not_found", message_key="error.route_not_found", params=params)
        elif exc.status_code == 401:
            error = BzError("unauthorized")
        elif exc.status_code == 400:
            # The framework could not even parse the body: a multipart form it cannot read (no boundary, a part
            # without its headers), or JSON it gave up on (nested thousands deep).
            multipart = request.headers.get("content-type", "").lower().lstrip().startswith("multipart/")
            error = validation_failed(BODY_PARAM, "error.invalid_multipart" if multipart else "error.invalid_json")
        else:
            request_id = getattr(request.state, "request_id", "")
            logger.error("unmapped HTTP error %s", exc.status_code, extra={"request_id": request_id})
            error = BzError("internal_error", params={"request_id": request_id})
        return render(request, error)

    app.add_exception_handler(BzError, on_bz_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
