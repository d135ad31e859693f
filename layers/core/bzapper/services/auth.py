"""Console users: sign-up, confirmation, sign-in, sessions and password resets, over the identity port.

Nothing here tells a caller whether an email has an account: a sign-up with a taken email answers like any
other (the address gets a "you already have an account" email instead), and so does a reset request. Failed
sign-ins are throttled per email and per client address, before the identity service is asked.
"""

from __future__ import annotations

import logging

from bzapper.domain import emails
from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.identity import (
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    AuthTokens,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    InvalidToken,
    NewUser,
    NotConfirmed,
    TokenClaims,
    TooManyAttempts,
    UserDisabled,
    UserExists,
    WeakPassword,
    normalized_email,
    password_problem,
)
from bzapper.domain.ratelimit import Bucket
from bzapper.i18n import normalize_locale
from bzapper.ports.identity import IdentityProvider, TokenVerifier
from bzapper.services.accounts import provision_owner
from bzapper.services.container import Services

logger = logging.getLogger(__name__)

FAILED_SIGN_INS = Bucket(5, 15 * 60_000)
"""Wrong passwords per email before sign-in is refused for a while (429 with Retry-After)."""
FAILED_SIGN_INS_PER_ADDRESS = Bucket(30, 15 * 60_000)
"""Wrong passwords per client address: one address trying many emails."""
EMAILS_PER_ADDRESS = Bucket(10, 60 * 60_000)
"""Sign-ups and reset requests that send an email, per email address: nobody mail-bombs an inbox through us."""
REFRESH_LIFETIME_MS = 30 * 24 * 3600 * 1000
"""How long a revoked refresh token is remembered: the pool's refresh token validity (infra)."""


def _too_many_attempts(retry_after: int) -> BzError:
    return BzError(
        "rate_limited",
        message_key="error.too_many_attempts",
        params={"retry_after": retry_after},
        retry_after=retry_after,
    )


def _identity(services: Services) -> IdentityProvider:
    if services.identity is None:
        raise BzError("not_supported", message_key="error.auth_not_configured")
    return services.identity


def verifier(services: Services) -> TokenVerifier:
    if services.tokens is None:
        raise BzError("unauthorized")
    return services.tokens


def _email(value: str) -> str:
    email = normalized_email(value)
    if email is None:
        raise validation_failed("email", "error.invalid_email")
    return email


def _strong(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise validation_failed("password", f"error.password.{problem}", min=PASSWORD_MIN, max=PASSWORD_MAX)


def _mail_allowed(services: Services, email: str) -> bool:
    return services.rate_limits.take(f"auth-mail:{email}", EMAILS_PER_ADDRESS).allowed


def sign_up(services: Services, *, email: str, password: str, name: str, locale: str) -> None:
    """202 whatever happened to the address: a new user gets its code, an unconfirmed one is replaced by this
    sign-up (and gets a new code), an existing account an email saying so."""
    identity = _identity(services)
    address = _email(email)
    _strong(password)
    language = normalize_locale(locale) or "en"
    display = name.strip()[:NAME_MAX]
    if not _mail_allowed(services, address):
        logger.warning("sign-up emails to one address throttled")
        return  # the same answer: the caller learns nothing, the inbox gets nothing more
    try:
        identity.sign_up(address, password, name=display, locale=language)
    except UserExists:
        if identity.is_confirmed(address):
            services.mailer.send(address, *emails.already_registered(language))
        else:
            # The newest sign-up replaces a pending one (password, name, a new code): whoever typed the
            # address first cannot hold it, and confirm() takes only the password of the code's own sign-up.
            identity.replace_pending(address, password, name=display, locale=language)
    except WeakPassword as error:
        raise validation_failed("password", "error.password.weak") from error
    except InvalidEmail as error:
        raise validation_failed("email", "error.invalid_email") from error
    except TooManyAttempts:
        logger.warning("the identity service throttled a sign-up")


def confirm(services: Services, *, email: str, code: str, password: str) -> str:
    """Confirms the email and opens the account (test wallet with free credits, a connected sandbox number);
    returns the account's id. The password must be the one the pending sign-up chose (the one the code was
    mailed for): the mailbox's owner never confirms a password someone else chose for their address. A wrong
    password counts as a failed sign-in (the same throttle): it is a password guess like one."""
    identity = _identity(services)
    address = _email(email)
    keys = _throttle_keys(address, None)
    _refuse_when_throttled(services, keys)
    try:
        user = identity.confirm(address, code.strip(), password)
    except InvalidCredentials as error:
        for bucket_id, bucket in keys:
            services.rate_limits.take(bucket_id, bucket)
        raise validation_failed("password", "error.confirm_password_mismatch") from error
    except InvalidCode as error:
        raise validation_failed("code", "error.invalid_code") from error
    except TooManyAttempts as error:
        raise _too_many_attempts(60) from error
    return provision_owner(services, user)


def _throttle_keys(address: str, client_address: str | None) -> list[tuple[str, Bucket]]:
    keys = [(f"sign-in:{address}", FAILED_SIGN_INS)]
    if client_address:
        keys.append((f"sign-in-from:{client_address}", FAILED_SIGN_INS_PER_ADDRESS))
    return keys


def _refuse_when_throttled(services: Services, keys: list[tuple[str, Bucket]]) -> None:
    for bucket_id, bucket in keys:
        decision = services.rate_limits.peek(bucket_id, bucket)
        if not decision.allowed:
            raise _too_many_attempts(decision.retry_after_seconds)


def sign_in(services: Services, *, email: str, password: str, client_address: str | None = None) -> AuthTokens:
    identity = _identity(services)
    address = normalized_email(email)
    if address is None:
        raise BzError("invalid_credentials")
    keys = _throttle_keys(address, client_address)
    _refuse_when_throttled(services, keys)
    try:
        tokens = identity.sign_in(address, password)
    except InvalidCredentials as error:
        for bucket_id, bucket in keys:
            services.rate_limits.take(bucket_id, bucket)
        raise BzError("invalid_credentials") from error
    except NotConfirmed as error:
        raise BzError("forbidden", message_key="error.email_not_confirmed") from error
    except UserDisabled as error:
        raise BzError("account_restricted", message_key="error.account_suspended") from error
    except TooManyAttempts as error:
        raise _too_many_attempts(60) from error
    claims = _claims(services, tokens.access_token)
    if services.accounts.account_of_user(claims.user_id) is None:
        # Confirmed, but the account was never opened (a crash right after the confirmation): open it now.
        logger.warning("a confirmed user without an account signed in: opening it")
        provision_owner(services, NewUser(claims.user_id, address, address.split("@")[0], "en"))
    return tokens


def _claims(services: Services, access_token: str) -> TokenClaims:
    try:
        return verifier(services).verify(access_token)
    except InvalidToken as error:
        raise BzError("unauthorized", message_key="error.invalid_session") from error


def refresh(services: Services, *, refresh_token: str) -> AuthTokens:
    identity = _identity(services)
    if services.revocations.refresh_revoked(refresh_token):
        raise BzError("unauthorized", message_key="error.invalid_session")
    try:
        tokens = identity.refresh(refresh_token)
    except (InvalidToken, UserDisabled) as error:
        raise BzError("unauthorized", message_key="error.invalid_session") from error
    except TooManyAttempts as error:
        raise _too_many_attempts(60) from error
    # Cognito does not rotate refresh tokens: the same one goes back, so a client always has one to keep.
    return AuthTokens(tokens.access_token, tokens.refresh_token or refresh_token, tokens.expires_in)


def sign_out(services: Services, *, refresh_token: str, access_token: str | None) -> None:
    """The refresh token is refused from now on (and the session's access tokens, when one is given)."""
    identity = _identity(services)
    session_id = None
    if access_token:
        try:
            session_id = verifier(services).verify(access_token).session_id
        except InvalidToken:
            session_id = None  # an expired access token: the refresh token still goes
    services.revocations.revoke(session_id, refresh_token, now_ms() + REFRESH_LIFETIME_MS)
    identity.sign_out(refresh_token)


def session_claims(services: Services, access_token: str) -> TokenClaims:
    """The claims of a live session's access token (not signed out); 401 otherwise."""
    claims = _claims(services, access_token)
    if claims.session_id and services.revocations.session_revoked(claims.session_id):
        raise BzError("unauthorized", message_key="error.invalid_session")
    return claims


def forgot_password(services: Services, *, email: str) -> None:
    identity = _identity(services)
    address = _email(email)
    if _mail_allowed(services, address):
        identity.forgot_password(address)


def reset_password(services: Services, *, email: str, code: str, password: str) -> None:
    identity = _identity(services)
    address = _email(email)
    _strong(password)
    try:
        identity.reset_password(address, code.strip(), password)
    except InvalidCode as error:
        raise validation_failed("code", "error.invalid_code") from error
    except WeakPassword as error:
        raise validation_failed("password", "error.password.weak") from error
    except TooManyAttempts as error:
        raise _too_many_attempts(60) from error
