"""Console users: who signs in, the tokens a sign-in yields, and why an identity request can fail.

Passwords are never ours: a managed identity service (Amazon Cognito) holds them. The rules here are what
we check before asking it (so a weak password is refused the same way everywhere, whatever the backend).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PASSWORD_MIN = 10
PASSWORD_MAX = 256
PASSWORD_SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
"""Cognito's special characters (a space counts when it is neither first nor last, and the ends are checked
apart); the letters and digits it counts are the Basic Latin ones, as here."""
EMAIL_MAX = 254
EMAIL_PATTERN = (
    r"[A-Za-z0-9][A-Za-z0-9_%+-]*(?:\.[A-Za-z0-9_%+-]+)*"  # dot-atom: no dot first, last or twice in a row
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"  # labels never start or end with "-"
)
"""The addresses the identity service takes (Cognito's email usernames: ASCII, a domain ending in a 2+ letter
label), so a sign-up it would refuse is our own 422 first, in the caller's language."""
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class AuthTokens:
    """A signed-in session: an access token (a JWT the API verifies), the refresh token that renews it."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified access token says: the user (`sub`), its session (`session_id`: Cognito's origin_jti,
    shared by every token renewed from one sign-in), its expiry, and when its session signed in
    (`authenticated_at`: Cognito's auth_time, kept by every token renewed from that sign-in; ms)."""

    user_id: str
    session_id: str
    expires_at: int
    authenticated_at: int = 0


def ended_by(claims: TokenClaims, sessions_ended_at: int) -> bool:
    """Whether a session is among those a password reset ended at `sessions_ended_at` (ms; 0: never). Cognito
    gives auth_time in whole seconds, so a session that signed in during the reset's own second is ended too
    (never one that signed in before the reset and survives it)."""
    return sessions_ended_at > 0 and claims.authenticated_at // 1000 <= sessions_ended_at // 1000


@dataclass(frozen=True, slots=True)
class NewUser:
    """What sign-up stores with the identity service until the email is confirmed."""

    user_id: str
    email: str
    name: str
    locale: str


class IdentityError(Exception):
    """The identity service refused a request; the subclass says why (stable, mapped to API errors)."""


class UserExists(IdentityError):
    """Someone already signed up with this email (never told to the caller: no account enumeration)."""


class InvalidCredentials(IdentityError):
    """A wrong password, or an unknown user (the two are never told apart)."""


class NotConfirmed(IdentityError):
    """The user never confirmed the email."""


class InvalidCode(IdentityError):
    """A wrong, expired or already-used confirmation or reset code."""


class WeakPassword(IdentityError):
    """The identity service's own password policy refused the password."""


class TooManyAttempts(IdentityError):
    """The identity service throttles this user or this operation for now."""


class InvalidEmail(IdentityError):
    """The identity service does not take this address (its own rules are stricter than a shape check)."""


class InvalidToken(IdentityError):
    """A token that is malformed, tampered with, expired, revoked, or from another pool or client."""


class UserDisabled(IdentityError):
    """The user is disabled (an account suspended by an operator)."""


def normalized_email(email: str) -> str | None:
    """The email as we key it (trimmed, lower-cased: Cognito's case-insensitive usernames; moto is not), or None
    when it is not an address."""
    value = unicodedata.normalize("NFC", email.strip()).lower()
    if len(value) > EMAIL_MAX or not re.fullmatch(EMAIL_PATTERN, value):
        return None
    return value


def password_problem(password: str) -> str | None:
    """The first rule a password breaks, as a message key suffix, or None when it is strong enough.

    The same rules as the user pool's policy (infra/components/identity.py): checked here too because the local
    identity service (moto) does not check a reset password, and so every refusal reads the same."""
    if len(password) < PASSWORD_MIN:
        return "too_short"
    if len(password) > PASSWORD_MAX:
        return "too_long"
    if password != password.strip():
        return "whitespace"
    if not any("a" <= c <= "z" for c in password):
        return "lowercase"
    if not any("A" <= c <= "Z" for c in password):
        return "uppercase"
    if not any("0" <= c <= "9" for c in password):
        return "digit"
    if not any(c in PASSWORD_SYMBOLS for c in password):
        return "symbol"
    return None
