"""Who is calling: an API key (`bz_live_…`/`bz_test_…`) or a console session token (a Cognito access token, in
test mode unless `Bz-Mode: live`); then what the route allows it (a restricted key's scopes, session-only
routes). Anything else is a 401 `unauthorized`."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from bzapper.bootstrap import services
from bzapper.domain.auth_failures import FailedAuthentications
from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.keys import Mode, allows, key_mode, well_formed
from bzapper.domain.model import Principal
from bzapper.domain.ratelimit import Bucket, LocalBuckets
from bzapper.topology import Route, match_route

KEY_REQUESTS_PER_MINUTE = 1200
# Per key and per process: cheap protection before any table is touched. Sends have their own
# account-wide bucket in DynamoDB (the plan's sends per minute).
_per_key = LocalBuckets(Bucket(KEY_REQUESTS_PER_MINUTE))
# Strangers guessing keys: per source address and key prefix, before the key table is read.
_failures = FailedAuthentications()

MODE_HEADER = "bz-mode"

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="bz_live_… | bz_test_… | a console session token",
    description="An API key: `bz_live_…` for live data, `bz_test_…` for test mode and the sandbox network; or a "
    "console session token from POST /auth/login (test mode unless `Bz-Mode: live`).",
)


def _session_mode(request: Request) -> Mode:
    value = request.headers.get(MODE_HEADER)
    if value is None or value.strip().lower() == "test":
        return "test"
    if value.strip().lower() == "live":
        return "live"
    raise validation_failed("Bz-Mode", "error.invalid_mode")


def _source_address(request: Request) -> str:
    # API Gateway's sourceIp (Mangum puts it in the ASGI scope's client), or the socket's peer locally.
    return request.client.host if request.client else "-"


def _key_principal(request: Request, token: str) -> Principal:
    address = _source_address(request)
    refusal = _failures.refusal(address, token)
    if refusal is not None:
        params = {"retry_after": refusal.retry_after_seconds}
        raise BzError("rate_limited", message_key="error.auth_failures", params=params, rate=refusal)
    principal = services().accounts.principal_for(token) if well_formed(token) else None
    if principal is None:
        _failures.failed(address, token)
        raise BzError("unauthorized")
    _failures.succeeded(token)
    if principal.api_key_id:
        services().keys.touch(principal.api_key_id, now_ms())
    return principal


def _principal(request: Request, token: str) -> Principal:
    mode = key_mode(token)
    if mode is not None:
        principal = _key_principal(request, token)
        if request.headers.get(MODE_HEADER) is not None and _session_mode(request) != mode:
            # A client that believes it switched modes must not quietly act in the other one: a key's prefix
            # is its mode.
            raise validation_failed("Bz-Mode", "error.mode_is_the_keys", mode=mode)
        return principal
    # A session token's signature is checked offline (no table read for a forged one), so sessions are never
    # held back by the failure throttle.
    return _session_principal(token, _session_mode(request))


def _session_principal(token: str, mode: Mode) -> Principal:
    """A session's signed-in owner now: a signed-out session or an expired token is a 401."""
    from bzapper.services.auth import session_claims  # only a session pays for the token verifier

    claims = session_claims(services(), token)
    principal = services().accounts.principal_of_user(claims.user_id, mode)
    if principal is None:
        raise BzError("unauthorized", message_key="error.invalid_session")
    return principal


def _refuse_if_suspended(principal: Principal) -> None:
    if principal.suspended:
        raise BzError("account_restricted", message_key="error.account_suspended")


def _require_scope(principal: Principal, route: Route | None) -> None:
    if route is not None and not allows(principal.scopes, route.scope):
        raise BzError("forbidden", message_key="error.missing_scope", param=route.scope, params={"scope": route.scope})


def _route(request: Request) -> Route | None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return None
    found, _ = match_route(request.method, route.path_format)
    return found


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise BzError("unauthorized")
    principal = _principal(request, credentials.credentials)
    request.state.principal = principal  # the error renderer speaks the account's language
    _refuse_if_suspended(principal)
    decision = _per_key.take(principal.key_id)
    request.state.rate_limit = decision
    if not decision.allowed:
        raise BzError("rate_limited", params={"retry_after": decision.retry_after_seconds}, rate=decision)
    route = _route(request)
    if route is not None and route.session_only and not principal.is_session:
        raise BzError("forbidden", message_key="error.session_required")
    _require_scope(principal, route)
    return principal


def recheck_for(request: Request, principal: Principal) -> Callable[[], Principal]:
    """For a response that outlives its request (GET /stream): checks the request's credential again, as
    `authenticate` did, and returns the principal it stands for now, or raises the refusal a new request would
    get (revoked or expired key, signed-out or expired session, suspended account, scope removed). It reads through
    the same caches (at most 5 s old); unlike a request it spends no failure budget, rate limit or `last_used`."""
    _, token = get_authorization_scheme_param(request.headers.get("authorization"))
    route = _route(request)

    def recheck() -> Principal:
        if principal.is_session:
            current = _session_principal(token, principal.mode)  # signed out, or the access token expired: 401
        else:
            found = services().accounts.principal_for(token) if well_formed(token) else None
            if found is None:
                raise BzError("unauthorized")
            current = found
        _refuse_if_suspended(current)
        _require_scope(current, route)
        return current

    return recheck


def require_test_mode(principal: Principal = Depends(authenticate)) -> Principal:
    """The sandbox network's windows: a live caller finds nothing there (404, as a route that does not exist)."""
    if principal.livemode:
        raise BzError("not_found")
    return principal
