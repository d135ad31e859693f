"""Bearer API keys → the calling account; anything else is a 401 `unauthorized`."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bzapper.bootstrap import services
from bzapper.domain.errors import BzError
from bzapper.domain.keys import key_mode
from bzapper.domain.model import Principal
from bzapper.domain.ratelimit import Bucket, LocalBuckets

KEY_REQUESTS_PER_MINUTE = 1200
# Per key and per process: cheap protection before any table is touched. Sends have their own
# account-wide bucket in DynamoDB (the plan's sends per minute).
_per_key = LocalBuckets(Bucket(KEY_REQUESTS_PER_MINUTE))

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="bz_live_… | bz_test_…",
    description="An API key: `bz_live_…` for live data, `bz_test_…` for test mode and the sandbox network.",
)


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or key_mode(credentials.credentials) is None:
        raise BzError("unauthorized")
    principal = services().accounts.principal_for(credentials.credentials)
    if principal is None:
        raise BzError("unauthorized")
    request.state.principal = principal  # the error renderer speaks the account's language
    decision = _per_key.take(principal.key_id)
    request.state.rate_limit = decision
    if not decision.allowed:
        raise BzError("rate_limited", params={"retry_after": decision.retry_after_seconds}, rate=decision)
    return principal


def require_test_mode(principal: Principal = Depends(authenticate)) -> Principal:
    if principal.livemode:
        raise BzError("forbidden", message_key="error.test_mode_only")
    return principal
