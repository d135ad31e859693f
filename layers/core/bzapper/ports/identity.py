"""Console identity: the managed identity service that holds users and passwords (Amazon Cognito), the verifier
of its session tokens, the revocations we keep of signed-out sessions, and the mailer of our own emails."""

from __future__ import annotations

from typing import Protocol

from bzapper.domain.identity import AuthTokens, NewUser, TokenClaims


class IdentityProvider(Protocol):
    """Errors are the subclasses of bzapper.domain.identity.IdentityError."""

    def sign_up(self, email: str, password: str, *, name: str, locale: str) -> str:
        """Creates an unconfirmed user and sends it a confirmation code; returns its id. Raises UserExists."""
        ...

    def replace_pending(self, email: str, password: str, *, name: str, locale: str) -> None:
        """A repeated sign-up of an unconfirmed email: the pending user gives way to this one (its password,
        name and locale), a new code is sent and the earlier codes are void; nothing for a confirmed user."""
        ...

    def is_confirmed(self, email: str) -> bool | None:
        """Whether the user confirmed its email; None when there is no such user."""
        ...

    def confirm(self, email: str, code: str, password: str) -> NewUser:
        """Confirms the email with the code it was sent, only if `password` is the pending user's: raises
        InvalidCredentials otherwise (checked first, whatever the code), InvalidCode for a wrong code."""
        ...

    def sign_in(self, email: str, password: str) -> AuthTokens:
        """Raises InvalidCredentials, NotConfirmed, UserDisabled or TooManyAttempts."""
        ...

    def refresh(self, refresh_token: str) -> AuthTokens:
        """New access token for a refresh token (whose `refresh_token` is None: it stays the same).
        Raises InvalidToken."""
        ...

    def sign_out(self, refresh_token: str) -> None:
        """Revokes the refresh token at the identity service, where it can (bzapper keeps its own revocations)."""
        ...

    def forgot_password(self, email: str) -> None:
        """Sends a reset code to a confirmed user; nothing otherwise (the caller never learns which)."""
        ...

    def reset_password(self, email: str, code: str, password: str) -> None:
        """Raises InvalidCode or WeakPassword."""
        ...

    def sign_out_everywhere(self, email: str) -> str | None:
        """Ends every session of the user at the identity service (its refresh tokens are refused from now on);
        returns the user's id, None for an unknown email."""
        ...

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        """A disabled user cannot sign in or refresh (and its sign-in cannot tell a right password from a wrong
        one). Suspensions no longer disable users (docs/accounts.md); unsuspending enables the ones earlier
        versions disabled."""
        ...


class TokenVerifier(Protocol):
    def verify(self, access_token: str) -> TokenClaims:
        """The claims of a genuine, unexpired access token of our pool and client. Raises InvalidToken."""
        ...


class SessionRevocations(Protocol):
    """Signed-out sessions, remembered until their tokens would have expired anyway."""

    def revoke(self, session_id: str | None, refresh_token: str | None, until: int) -> None: ...

    def session_revoked(self, session_id: str) -> bool: ...

    def refresh_revoked(self, refresh_token: str) -> bool: ...

    def end_sessions(self, user_id: str, until: int) -> int:
        """Every session of the user that signed in until now is refused from now on (a password reset), until
        `until` (when its tokens would have expired anyway); returns the moment, in ms, that ends them."""
        ...

    def sessions_ended_at(self, user_id: str) -> int:
        """The last `end_sessions` moment of the user (ms), 0 when none."""
        ...


class Mailer(Protocol):
    """Our own emails (the identity service sends its codes itself): "you already have an account"."""

    def send(self, to: str, subject: str, text: str) -> None: ...
