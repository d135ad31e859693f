"""Console identity in memory (bzapper.ports.identity): a user pool with Cognito's semantics (users by email,
codes that expire and are checked, disabled users, revoked refresh tokens), a token verifier that knows the
tokens the pool issued, the revocations of signed-out sessions, and a mailbox."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.identity import (
    AuthTokens,
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    NewUser,
    NotConfirmed,
    TokenClaims,
    UserDisabled,
    UserExists,
    WeakPassword,
    password_problem,
)
from bzapper.domain.ids import new_id

ACCESS_TTL_MS = 3600 * 1000
CODE_TTL_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class _User:
    user_id: str
    email: str
    password: str
    name: str
    locale: str
    confirmed: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class _Session:
    user_id: str
    session_id: str
    expires_at: int
    authenticated_at: int


@dataclass
class MemoryIdentityProvider(Faults):
    """Codes are kept readable (`codes[(purpose, email)]`) for tests to type in, as a user reads an email."""

    clock: Callable[[], int] = now_ms
    users: dict[str, _User] = field(default_factory=dict)
    codes: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    access: dict[str, _Session] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    """refresh token -> user id"""
    refresh_sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    """refresh token -> (its session's id, when it signed in): what Cognito keeps in origin_jti and auth_time"""
    revoked_refresh: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        Faults.__init__(self)
        self._lock = threading.RLock()

    def _code(self, purpose: str, email: str) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        self.codes[(purpose, email)] = (code, self.clock() + CODE_TTL_MS)
        return code

    def _check(self, purpose: str, email: str, code: str) -> bool:
        stored = self.codes.get((purpose, email))
        if stored is None or stored[1] <= self.clock() or stored[0] != code:
            return False
        del self.codes[(purpose, email)]
        return True

    def _issue(self, user: _User, renewed: str | None = None) -> AuthTokens:
        """A sign-in's tokens, or (`renewed`: its refresh token) a new access token of the same session."""
        access = new_id("at")
        now = self.clock()
        session_id, signed_in = self.refresh_sessions[renewed] if renewed else (new_id("ses"), now)
        self.access[access] = _Session(user.user_id, session_id, now + ACCESS_TTL_MS, signed_in)
        refresh_token = None
        if renewed is None:
            refresh_token = new_id("rt")
            self.refresh_tokens[refresh_token] = user.user_id
            self.refresh_sessions[refresh_token] = (session_id, signed_in)
        return AuthTokens(access, refresh_token, ACCESS_TTL_MS // 1000)

    def sign_up(self, email: str, password: str, *, name: str, locale: str) -> str:
        self._enter("sign_up", email, name=name, locale=locale)
        if password_problem(password) is not None:
            raise WeakPassword
        with self._lock:
            if email in self.users:
                raise UserExists
            user = _User(new_id("usr"), email, password, name, locale)
            self.users[email] = user
            self._code("confirm", email)
        return user.user_id

    def replace_pending(self, email: str, password: str, *, name: str, locale: str) -> None:
        self._enter("replace_pending", email, name=name, locale=locale)
        with self._lock:
            user = self.users.get(email)
            if user is not None and not user.confirmed:
                # A new user, as Cognito's delete-and-sign-up makes: a new id, and a new code (the old is void).
                self.users[email] = _User(new_id("usr"), email, password, name, locale)
                self._code("confirm", email)

    def is_confirmed(self, email: str) -> bool | None:
        self._enter("is_confirmed", email)
        user = self.users.get(email)
        return None if user is None else user.confirmed

    def confirm(self, email: str, code: str, password: str) -> NewUser:
        self._enter("confirm", email, code)
        with self._lock:
            user = self.users.get(email)
            if user is None or user.password != password:
                raise InvalidCredentials
            if user.confirmed or not self._check("confirm", email, code):
                raise InvalidCode
            self.users[email] = replace(user, confirmed=True)
        return NewUser(user.user_id, email, user.name, user.locale)

    def sign_in(self, email: str, password: str) -> AuthTokens:
        self._enter("sign_in", email)
        with self._lock:
            user = self.users.get(email)
            if user is None or user.password != password:
                raise InvalidCredentials
            if not user.confirmed:
                raise NotConfirmed
            if not user.enabled:
                raise UserDisabled
            return self._issue(user)

    def refresh(self, refresh_token: str) -> AuthTokens:
        self._enter("refresh", refresh_token)
        with self._lock:
            user_id = self.refresh_tokens.get(refresh_token)
            user = next((u for u in self.users.values() if u.user_id == user_id), None)
            if user is None or refresh_token in self.revoked_refresh:
                raise InvalidToken
            if not user.enabled:
                raise UserDisabled
            return self._issue(user, renewed=refresh_token)

    def sign_out(self, refresh_token: str) -> None:
        self._enter("sign_out", refresh_token)
        with self._lock:
            self.revoked_refresh.add(refresh_token)

    def forgot_password(self, email: str) -> None:
        self._enter("forgot_password", email)
        with self._lock:
            user = self.users.get(email)
            if user is not None and user.confirmed:
                self._code("reset", email)

    def reset_password(self, email: str, code: str, password: str) -> None:
        self._enter("reset_password", email, code)
        if password_problem(password) is not None:
            raise WeakPassword
        with self._lock:
            user = self.users.get(email)
            if user is None or not self._check("reset", email, code):
                raise InvalidCode
            self.users[email] = replace(user, password=password)

    def sign_out_everywhere(self, email: str) -> str | None:
        self._enter("sign_out_everywhere", email)
        with self._lock:
            user = self.users.get(email)
            if user is None:
                return None
            self.revoked_refresh.update(t for t, owner in self.refresh_tokens.items() if owner == user.user_id)
            return user.user_id

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        self._enter("set_enabled", user_id, enabled)
        with self._lock:
            for email, user in self.users.items():
                if user.user_id == user_id:
                    self.users[email] = replace(user, enabled=enabled)


class MemoryTokenVerifier(Faults):
    """Knows the access tokens its pool issued (a real verifier checks a signature; the rules are the same:
    unknown or expired is invalid)."""

    def __init__(self, provider: MemoryIdentityProvider) -> None:
        super().__init__()
        self._provider = provider

    def verify(self, access_token: str) -> TokenClaims:
        self._enter("verify", access_token)
        session = self._provider.access.get(access_token)
        if session is None or session.expires_at <= self._provider.clock():
            raise InvalidToken
        return TokenClaims(session.user_id, session.session_id, session.expires_at, session.authenticated_at)


class MemorySessionRevocations(Faults):
    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self.clock = clock
        self.sessions: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.ended: dict[str, int] = {}
        """user id -> when a password reset ended its sessions"""

    def revoke(self, session_id: str | None, refresh_token: str | None, until: int) -> None:
        self._enter("revoke", session_id, refresh_token, until)
        if session_id:
            self.sessions.add(session_id)
        if refresh_token:
            self.refresh_tokens.add(refresh_token)

    def session_revoked(self, session_id: str) -> bool:
        self._enter("session_revoked", session_id)
        return session_id in self.sessions

    def refresh_revoked(self, refresh_token: str) -> bool:
        self._enter("refresh_revoked", refresh_token)
        return refresh_token in self.refresh_tokens

    def end_sessions(self, user_id: str, until: int) -> int:
        self._enter("end_sessions", user_id, until)
        self.ended[user_id] = self.clock()
        return self.ended[user_id]

    def sessions_ended_at(self, user_id: str) -> int:
        self._enter("sessions_ended_at", user_id)
        return self.ended.get(user_id, 0)


@dataclass(frozen=True, slots=True)
class SentEmail:
    to: str
    subject: str
    text: str


class MemoryMailer(Faults):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[SentEmail] = []

    def send(self, to: str, subject: str, text: str) -> None:
        self._enter("send", to, subject)
        self.sent.append(SentEmail(to, subject, text))
