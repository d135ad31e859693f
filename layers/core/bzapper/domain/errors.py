"""The error model: a stable neutral code, an HTTP status, and a message key translated at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bzapper.domain.ratelimit import Decision

HTTP_STATUS: dict[str, int] = {
    "bad_request": 400,
    "invalid_signature": 400,
    "unauthorized": 401,
    "invalid_credentials": 401,
    "insufficient_balance": 402,
    "forbidden": 403,
    "account_restricted": 403,
    "not_supported": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "instance_not_connected": 409,
    "not_connected": 409,
    "no_number_available": 409,
    "already_connected": 409,
    "qr_not_ready": 409,
    "passkey_required": 409,
    "idempotency_in_progress": 409,
    "window_closed": 409,
    "limit_exceeded": 409,
    "cloud_number_taken": 409,
    "payload_too_large": 413,
    "validation_failed": 422,
    "idempotency_conflict": 422,
    "not_on_whatsapp": 422,
    "outside_customer_service_window": 422,
    "template_not_found": 422,
    "template_not_approved": 422,
    "template_parameters_invalid": 422,
    "cloud_token_invalid": 422,
    "cloud_number_invalid": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "temporarily_unavailable": 503,
}
ERROR_CODES: tuple[str, ...] = tuple(HTTP_STATUS)


class BzError(Exception):
    """Raised anywhere below the API; rendered as `{code, message, locale, request_id, param?}`."""

    def __init__(
        self,
        code: str,
        *,
        message_key: str | None = None,
        param: str | None = None,
        params: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
        rate: Decision | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        """`retry_after`: seconds after which a retry may succeed; `rate`: the limit that refused the request
        (both become headers at the edge); `headers`: protocol headers only the API layer sets (e.g. Allow);
        `status`: another HTTP status than the code's usual one (a `not_supported` about the request's content
        rather than the caller's entitlements is a 422: see `engine_unsupported`)."""
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.message_key = message_key or f"error.{code}"
        self.param = param
        self.params = dict(params or {})
        self.retry_after = retry_after
        self.rate = rate
        self.headers = dict(headers or {})
        self._status = status

    @property
    def status(self) -> int:
        return self._status or HTTP_STATUS[self.code]


def not_found() -> BzError:
    return BzError("not_found")


def validation_failed(param: str, message_key: str = "error.validation_failed", **params: Any) -> BzError:
    return BzError("validation_failed", message_key=message_key, param=param, params={"param": param, **params})


def engine_unsupported(engine: str, message_type: str) -> BzError:
    """422 `not_supported`: the number's engine cannot send this type (the request, not the account, is at fault)."""
    return BzError(
        "not_supported",
        message_key="error.engine_not_supported",
        params={"engine": engine, "type": message_type},
        status=422,
    )
