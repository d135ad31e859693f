"""The local stack's identity service: moto's Cognito, plus what moto leaves out (it never sends a code, accepts
any code, and does not implement RevokeToken): codes are made here, mailed to the local mailbox, and checked
here before moto is asked. docs/accounts.md lists every gap. Never used on AWS (bootstrap picks it in local
mode only): there, Cognito makes, sends and checks its codes itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from pathlib import Path
from typing import Any

from bzapper.adapters.aws.cognito import CognitoIdentity
from bzapper.adapters.mailbox import LocalMailbox
from bzapper.domain import emails
from bzapper.domain.clock import now_ms
from bzapper.domain.identity import InvalidCode, NewUser

CONFIRM_TTL_MS = 24 * 3600 * 1000
RESET_TTL_MS = 3600 * 1000
MAX_ATTEMPTS = 5
"""Wrong guesses before a code is void (Cognito: a few, then CodeMismatch until a new code)."""
_LOCK = threading.Lock()


class LocalCodes:
    """One-time codes by (purpose, email), stored as hashes in the mailbox folder (a file, for every process)."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / "codes.json"

    def _load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _save(self, codes: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(codes))
        temporary.replace(self.path)

    def issue(self, purpose: str, email: str, ttl_ms: int) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        with _LOCK:
            codes = self._load()
            codes[f"{purpose}:{email}"] = {"hash": _digest(code), "expires": now_ms() + ttl_ms, "attempts": 0}
            self._save(codes)
        return code

    def check(self, purpose: str, email: str, code: str) -> bool:
        """True once for the right code before its expiry; every wrong guess counts, and voids it at the limit."""
        key = f"{purpose}:{email}"
        with _LOCK:
            codes = self._load()
            entry = codes.get(key)
            if entry is None:
                return False
            if entry["expires"] <= now_ms() or entry["attempts"] >= MAX_ATTEMPTS:
                del codes[key]
                self._save(codes)
                return False
            if hmac.compare_digest(entry["hash"], _digest(code)):
                del codes[key]
                self._save(codes)
                return True
            entry["attempts"] += 1
            self._save(codes)
            return False


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class LocalCognitoIdentity(CognitoIdentity):
    def __init__(self, user_pool_id: str, client_id: str, mailbox_dir: str | Path) -> None:
        super().__init__(user_pool_id, client_id)
        self.mailbox = LocalMailbox(mailbox_dir)
        self.codes = LocalCodes(mailbox_dir)

    def _attributes(self, email: str) -> dict[str, str]:
        user = self._user(email) or {}
        return {item["Name"]: item["Value"] for item in user.get("UserAttributes", [])}

    def _send_confirmation(self, email: str, name: str, locale: str) -> None:
        code = self.codes.issue("confirm", email, CONFIRM_TTL_MS)
        self.mailbox.send(email, *emails.confirmation(locale, name, code))

    def sign_up(self, email: str, password: str, *, name: str, locale: str) -> str:
        user_id = super().sign_up(email, password, name=name, locale=locale)
        self._send_confirmation(email, name, locale)
        return user_id

    def confirm(self, email: str, code: str, password: str) -> NewUser:
        # moto confirms with any code, and confirms a confirmed user again: Cognito does neither. The password
        # is checked before the code, so a wrong password does not spend a guess of the code.
        self._pending_password(email, password)  # first: an unknown email answers like a wrong password
        if self.is_confirmed(email) is not False or not self.codes.check("confirm", email, code):
            raise InvalidCode
        return self._confirm_code(email, code)

    def sign_out(self, refresh_token: str) -> None:
        """moto has no RevokeToken (its server answers 500, which botocore retries): bzapper's own revocation
        list is what refuses a signed-out session, here as on AWS."""

    def forgot_password(self, email: str) -> None:
        if self.is_confirmed(email):
            code = self.codes.issue("reset", email, RESET_TTL_MS)
            self.mailbox.send(email, *emails.password_reset(self._attributes(email).get("locale", "en"), code))

    def reset_password(self, email: str, code: str, password: str) -> None:
        if not self.codes.check("reset", email, code):
            raise InvalidCode
        # moto accepts any code that does not look like its own: the real check was the one above.
        super().reset_password(email, f"local{code}", password)
