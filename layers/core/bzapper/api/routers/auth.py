"""Console users: no API key here. Sign-up and password resets answer the same whether or not an email has an
account; failed sign-ins are throttled (429 with Retry-After)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.security.utils import get_authorization_scheme_param

from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.auth import (
    Confirmed,
    ConfirmRequest,
    ForgotRequest,
    LoginRequest,
    LogoutRequest,
    PasswordReset,
    RefreshRequest,
    ResetRequest,
    ResetRequested,
    SignupAccepted,
    SignupRequest,
    Tokens,
)
from bzapper.api.schemas.common import error_responses
from bzapper.bootstrap import services
from bzapper.domain.identity import AuthTokens
from bzapper.services import auth as service

router = APIRouter(tags=["auth"], route_class=JsonRoute)


def _tokens(tokens: AuthTokens) -> Tokens:
    return Tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or "",
        expires_in=tokens.expires_in,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
    )


def _client_address(request: Request) -> str | None:
    # API Gateway's source address (Mangum puts it in the ASGI scope); uvicorn's peer locally.
    client = request.scope.get("client")
    return str(client[0]) if client else None


@router.post(
    "/auth/signup",
    status_code=202,
    response_model=SignupAccepted,
    summary="Sign up (a confirmation code goes to the email)",
    responses=error_responses(403, 429),
)
def signup(body: SignupRequest) -> SignupAccepted:
    service.sign_up(services(), email=body.email, password=body.password, name=body.name, locale=body.locale)
    return SignupAccepted(email=body.email.strip().lower(), status="confirmation_pending")


@router.post(
    "/auth/confirm",
    response_model=Confirmed,
    summary="Confirm the email with its code: the account opens (test credits, a sandbox number)",
    responses=error_responses(403, 429),
)
def confirm(body: ConfirmRequest) -> Confirmed:
    return Confirmed(
        account_id=service.confirm(services(), email=body.email, code=body.code, password=body.password),
        status="confirmed",
    )


@router.post(
    "/auth/login",
    response_model=Tokens,
    summary="Sign in: session tokens",
    responses=error_responses(401, 403, 429),
)
def login(body: LoginRequest, request: Request) -> Tokens:
    tokens = service.sign_in(
        services(), email=body.email, password=body.password, client_address=_client_address(request)
    )
    return _tokens(tokens)


@router.post(
    "/auth/refresh",
    response_model=Tokens,
    summary="A new access token for a refresh token",
    responses=error_responses(401, 403, 429),
)
def refresh(body: RefreshRequest) -> Tokens:
    return _tokens(service.refresh(services(), refresh_token=body.refresh_token))


@router.post(
    "/auth/logout",
    status_code=204,
    response_class=Response,
    summary="Sign out: the session's refresh token and access tokens stop working",
    description="Needs the session's access token as `Authorization: Bearer` (401 without one, 403 for an API "
    "key); `refresh_token` must be the same session's (422 on `refresh_token` otherwise). Refused everywhere "
    "within 5 s.",
    responses=error_responses(401, 403, 422, 429),
)
def logout(body: LogoutRequest, request: Request) -> Response:
    scheme, access_token = get_authorization_scheme_param(request.headers.get("authorization"))
    bearer = access_token if scheme.lower() == "bearer" and access_token else None
    service.sign_out(services(), refresh_token=body.refresh_token, access_token=bearer)
    return Response(status_code=204)


@router.post(
    "/auth/password/forgot",
    status_code=202,
    response_model=ResetRequested,
    summary="Ask for a password reset code (sent only if the email has an account)",
    responses=error_responses(403),
)
def forgot(body: ForgotRequest) -> ResetRequested:
    service.forgot_password(services(), email=body.email)
    return ResetRequested(email=body.email.strip().lower(), status="reset_code_sent_if_registered")


@router.post(
    "/auth/password/reset",
    response_model=PasswordReset,
    summary="Set a new password with the reset code",
    responses=error_responses(403, 429),
)
def reset(body: ResetRequest) -> PasswordReset:
    service.reset_password(services(), email=body.email, code=body.code, password=body.password)
    # Sessions are told apart from the reset by their sign-in second (the identity service's auth_time is whole
    # seconds, and the reset's own second is ended with it): answer once that second is over, so a sign-in the
    # answer leads to is never taken for one the reset ended.
    time.sleep(1 - time.time() % 1)
    return PasswordReset(status="password_reset")
