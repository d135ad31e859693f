"""Session tokens: Cognito access tokens verified here, offline, by signature (the pool's JWKS, cached), issuer,
client, token use and expiry. Nothing is asked of Cognito per request."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from bzapper.domain.identity import InvalidToken, TokenClaims

JWKS_CACHE_SECONDS = 3600.0
REFETCH_AFTER_SECONDS = 60.0
"""An unknown `kid` (Cognito rotated its keys) fetches the JWKS again, at most this often."""
LEEWAY_SECONDS = 5
"""Clock skew tolerated on `exp`/`iat` between Cognito and this function."""
MAX_TOKEN_BYTES = 8192
FORBIDDEN_KIDS = frozenset({"dummy"})
"""moto's signing key: its private half ships inside moto, so outside local mode a token it signed is forged."""

JwksFetch = Callable[[str], dict[str, Any]]


def fetch_jwks(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - a configured https (or local) URL
        document: dict[str, Any] = json.loads(answer.read(256 * 1024))
        return document


class CognitoTokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        jwks_url: str | None = None,
        allow_test_keys: bool = False,
        fetch: JwksFetch = fetch_jwks,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks_url = jwks_url or f"{issuer}/.well-known/jwks.json"
        self.allow_test_keys = allow_test_keys
        self._fetch = fetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _key(self, kid: str) -> Any:
        import jwt

        with self._lock:
            stale = time.monotonic() - self._fetched_at > JWKS_CACHE_SECONDS
            unknown = kid not in self._keys and time.monotonic() - self._fetched_at > REFETCH_AFTER_SECONDS
            if stale or unknown:
                try:
                    document = self._fetch(self.jwks_url)
                except Exception as error:
                    if not self._keys:
                        raise InvalidToken("signing keys unavailable") from error
                else:
                    self._keys = {
                        entry["kid"]: jwt.PyJWK(entry).key for entry in document.get("keys", []) if "kid" in entry
                    }
                    self._fetched_at = time.monotonic()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        return key

    def verify(self, access_token: str) -> TokenClaims:
        import jwt

        if len(access_token) > MAX_TOKEN_BYTES:
            raise InvalidToken("too long")
        try:
            header = jwt.get_unverified_header(access_token)
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed") from error
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != "RS256":
            raise InvalidToken("unexpected header")
        if kid in FORBIDDEN_KIDS and not self.allow_test_keys:
            raise InvalidToken("a test signing key outside local mode")
        try:
            claims = jwt.decode(
                access_token,
                self._key(kid),
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use", "client_id"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        # Access tokens carry no `aud`: the client is `client_id`; an ID token (token_use "id") is refused.
        if claims.get("token_use") != "access" or claims.get("client_id") != self.client_id:
            raise InvalidToken("not an access token of this client")
        session = claims.get("origin_jti") or claims.get("jti") or ""
        signed_in = claims.get("auth_time")
        if not isinstance(signed_in, int | float) or isinstance(signed_in, bool):
            signed_in = claims["iat"]  # Cognito always sends auth_time; without it the issue time is all we know
        return TokenClaims(
            user_id=str(claims["sub"]),
            session_id=str(session),
            expires_at=int(claims["exp"]) * 1000,
            authenticated_at=int(signed_in) * 1000,
        )
