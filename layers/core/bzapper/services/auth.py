"""Console users: sign-up, confirmation, sign-in, sessions and password resets, over the identity port.

Nothing here tells a caller whether an email has an account: a sign-up with a taken email answers like any
other (the address gets a "you already have an account" email instead), and so does a reset request; a wrong
password reads the same for an unknown, an unconfirmed and a suspended account. Password checks are throttled
per email and per client address: each one reserves its token before the identity service is asked, so no
number of concurrent requests gets more checks than the budget.
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
    ended_by,
    normalized_email,
    password_problem,
)
from bzapper.domain.keys import key_mode
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
"""Confirmation and reset codes mailed to one address: nobody mail-bombs an inbox through us."""
NOTICES_PER_ADDRESS = Bucket(1, 60 * 60_000)
""""You already have an account" notices to one address, a budget of their own: anyone can ask for one (a
sign-up of a taken email), and spending the codes' budget would block the owner's password reset."""
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


def _notify_registered(services: Services, address: str, language: str) -> None:
    if services.rate_limits.take(f"auth-notice:{address}", NOTICES_PER_ADDRESS).allowed:
        services.mailer.send(address, *emails.already_registered(language))
    else:
        logger.info("already-registered notices to one address throttled")


def sign_up(services: Services, *, email: str, password: str, name: str, locale: str) -> None:
    """202 whatever happened to the address: a new user gets its code, an unconfirmed one is replaced by this
    sign-up (and gets a new code), an existing account an email saying so (at most one an hour, never spending
    the budget of its owner's reset codes)."""
    identity = _identity(services)
    address = _email(email)
    _strong(password)
    language = normalize_locale(locale) or "en"
    display = name.strip()[:NAME_MAX]
    if identity.is_confirmed(address):
        _notify_registered(services, address, language)
        return
    if not _mail_allowed(services, address):
        logger.warning("sign-up emails to one address throttled")
        return  # the same answer: the caller learns nothing, the inbox gets nothing more
    try:
        identity.sign_up(address, password, name=display, locale=language)
    except UserExists:
        if identity.is_confirmed(address):  # confirmed since the check above
            _notify_registered(services, address, language)
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
    reserved = _reserve(services, _throttle_keys(address, None))
    try:
        user = identity.confirm(address, code.strip(), password)
    except InvalidCredentials as error:
        raise validation_failed("password", "error.confirm_password_mismatch") from error  # the check counts
    except InvalidCode as error:
        _give_back(services, reserved)  # the password was right: only the code was wrong
        raise validation_failed("code", "error.invalid_code") from error
    except TooManyAttempts as error:
        _give_back(services, reserved)
        raise _too_many_attempts(60) from error
    _give_back(services, reserved)
    return provision_owner(services, user)


def _throttle_keys(address: str, client_address: str | None) -> list[tuple[str, Bucket]]:
    keys = [(f"sign-in:{address}", FAILED_SIGN_INS)]
    if client_address:
        keys.append((f"sign-in-from:{client_address}", FAILED_SIGN_INS_PER_ADDRESS))
    return keys


def _reserve(services: Services, keys: list[tuple[str, Bucket]]) -> list[tuple[str, Bucket]]:
    """Takes one token of every bucket before the password is checked, or none (429): a check holds its token
    while the identity service answers, so concurrent guesses cannot all pass a check made before any counted
    (a peek, then a take after the failure, let 20 concurrent guesses through a budget of 5). A check that
    turns out not to be a wrong password gives its tokens back."""
    taken: list[tuple[str, Bucket]] = []
    for bucket_id, bucket in keys:
        decision = services.rate_limits.take(bucket_id, bucket)
        if not decision.allowed:
            _give_back(services, taken)
            raise _too_many_attempts(decision.retry_after_seconds)
        taken.append((bucket_id, bucket))
    return taken


def _give_back(services: Services, taken: list[tuple[str, Bucket]]) -> None:
    for bucket_id, bucket in taken:
        services.rate_limits.give_back(bucket_id, bucket)


def sign_in(services: Services, *, email: str, password: str, client_address: str | None = None) -> AuthTokens:
    identity = _identity(services)
    address = normalized_email(email)
    if address is None:
        raise BzError("invalid_credentials")
    reserved = _reserve(services, _throttle_keys(address, client_address))
    try:
        tokens = identity.sign_in(address, password)
    except (InvalidCredentials, UserDisabled) as error:
        # A user disabled at the identity service (by hand, or a suspension of an earlier version) answers
        # whatever the password: it reads as a wrong one, so it tells a stranger nothing.
        raise BzError("invalid_credentials") from error
    except NotConfirmed as error:
        _give_back(services, reserved)  # the right password
        raise BzError("forbidden", message_key="error.email_not_confirmed") from error
    except TooManyAttempts as error:
        _give_back(services, reserved)  # not checked
        raise _too_many_attempts(60) from error
    _give_back(services, reserved)
    claims = _claims(services, tokens.access_token)
    account_id = services.accounts.account_of_user(claims.user_id)
    if account_id is None:
        # Confirmed, but the account was never opened (a crash right after the confirmation): open it now.
        logger.warning("a confirmed user without an account signed in: opening it")
        provision_owner(services, NewUser(claims.user_id, address, address.split("@")[0], "en"))
        return tokens
    account = services.accounts.get(account_id)
    if account is not None and account.suspended:
        # Only the right password learns of the suspension; the session it just opened is ended at once.
        _revoke_session(services, claims.session_id, tokens.refresh_token)
        raise BzError("account_restricted", message_key="error.account_suspended")
    return tokens


def _revoke_session(services: Services, session_id: str | None, refresh_token: str | None) -> None:
    services.revocations.revoke(session_id or None, refresh_token, now_ms() + REFRESH_LIFETIME_MS)
    if refresh_token:
        _identity(services).sign_out(refresh_token)


def _refuse_ended(services: Services, claims: TokenClaims) -> None:
    """401 for a session a password reset ended (every session that signed in before it)."""
    if ended_by(claims, services.revocations.sessions_ended_at(claims.user_id)):
        raise BzError("unauthorized", message_key="error.invalid_session")


def _claims(services: Services, access_token: str) -> TokenClaims:
    try:
        return verifier(services).verify(access_token)
    except InvalidToken as error:
        raise BzError("unauthorized", message_key="error.invalid_session") from error


def _renewed(services: Services, refresh_token: str) -> tuple[AuthTokens, TokenClaims]:
    """A new access token for the refresh token, and what it says (its session); 401 for a refresh token that
    is signed out, unknown, or of a session a password reset ended."""
    if services.revocations.refresh_revoked(refresh_token):
        raise BzError("unauthorized", message_key="error.invalid_session")
    try:
        tokens = _identity(services).refresh(refresh_token)
    except (InvalidToken, UserDisabled) as error:
        raise BzError("unauthorized", message_key="error.invalid_session") from error
    except TooManyAttempts as error:
        raise _too_many_attempts(60) from error
    claims = _claims(services, tokens.access_token)
    _refuse_ended(services, claims)
    return tokens, claims


def refresh(services: Services, *, refresh_token: str) -> AuthTokens:
    tokens, claims = _renewed(services, refresh_token)
    account_id = services.accounts.account_of_user(claims.user_id)
    account = services.accounts.get(account_id) if account_id else None
    if account is not None and account.suspended:
        raise BzError("account_restricted", message_key="error.account_suspended")
    # Cognito does not rotate refresh tokens: the same one goes back, so a client always has one to keep.
    return AuthTokens(tokens.access_token, tokens.refresh_token or refresh_token, tokens.expires_in)


def sign_out(services: Services, *, refresh_token: str, access_token: str | None) -> None:
    """Ends the bearer's session: its refresh token and its access tokens are refused from now on. The bearer
    must be that session's live access token (401 without one, 403 for an API key), and the refresh token must
    be the same session's (422 on `refresh_token` otherwise): nobody signs out a session they do not hold."""
    if not access_token:
        raise BzError("unauthorized", message_key="error.sign_out_needs_session")
    if key_mode(access_token) is not None:
        raise BzError("forbidden", message_key="error.sign_out_needs_session")
    bearer = session_claims(services, access_token)
    try:
        _, owner = _renewed(services, refresh_token)  # the identity service tells us whose session it is
    except BzError as error:
        if error.code != "unauthorized":
            raise
        owner = None
    if owner is None or not _same_session(bearer, owner):
        raise validation_failed("refresh_token", "error.refresh_token_not_this_session")
    _revoke_session(services, bearer.session_id, refresh_token)


def _same_session(bearer: TokenClaims, owner: TokenClaims) -> bool:
    """The same user, and the same session when the tokens name theirs (Cognito's origin_jti)."""
    if bearer.user_id != owner.user_id:
        return False
    return not (bearer.session_id and owner.session_id) or bearer.session_id == owner.session_id


def session_claims(services: Services, access_token: str) -> TokenClaims:
    """The claims of a live session's access token (not signed out, not ended by a password reset); 401
    otherwise."""
    claims = _claims(services, access_token)
    if claims.session_id and services.revocations.session_revoked(claims.session_id):
        raise BzError("unauthorized", message_key="error.invalid_session")
    _refuse_ended(services, claims)
    return claims


def forgot_password(services: Services, *, email: str) -> None:
    identity = _identity(services)
    address = _email(email)
    if _mail_allowed(services, address):
        identity.forgot_password(address)


def reset_password(services: Services, *, email: str, code: str, password: str) -> None:
    """Sets the new password, then ends every session that signed in before it: a reset is how an owner takes
    the account back from whoever learnt the old password, so the sessions that password opened must go too
    (their refresh tokens at the identity service, and all their tokens here, within the 5 s cache bound)."""
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
    user_id = identity.sign_out_everywhere(address)
    if user_id is not None:
        services.revocations.end_sessions(user_id, now_ms() + REFRESH_LIFETIME_MS)
