"""Sealing an OTP code for its trip across the shard queue, and opening it in the engine's host.

One port, two keys:

- `KmsSealer` (AWS): envelope encryption. Each code gets its own data key from KMS (GenerateDataKey,
  by the messages function), encrypted there with AES-256-GCM; only the KMS-encrypted data key travels
  with it, and only the worker's task role may ask KMS to decrypt it (infra: the OTP key's grants).
- `LocalSealer` (the local stack): AES-256-GCM under a random key that `bzapper dev` makes at start and
  hands to its children by environment only (never written to disk or logged): a restarted stack
  cannot open what an earlier one sealed, and such a job fails as `otp_unsealable`.

A sealed code is `bzs1.<header>.<wrapped data key>.<nonce + ciphertext>` (base64url). The header (the
sealer kind, the key id, the account and the expiry) is the cipher's associated data: it cannot be
changed without the key, and a code past its expiry is never opened. Errors never carry the code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bzapper.domain.otp import Unsealable
from bzapper.ports.sealing import Sealer

FORMAT = "bzs1"
PURPOSE = "bzapper-otp"
"""The KMS encryption context's `purpose`: the IAM grants allow the OTP key for this purpose only."""

KMS_KEY_ENV = "BZ_OTP_KMS_KEY"
"""The OTP key's ARN (or id, or alias): set by infra on the messages function and the worker task; read as
`settings().otp.kms_key` (bzapper.config)."""
LOCAL_KEY_ENV = "BZ_OTP_LOCAL_KEY"
"""The local stack's key (base64, 32 bytes): set by `bzapper dev` for itself and its children; read as
`settings().otp.local_key`."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class _Envelope:
    header: dict[str, Any]
    header_text: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, sealed: str) -> _Envelope:
        try:
            version, header_text, wrapped, payload = sealed.split(".")
            header = json.loads(_unb64(header_text))
            data = _unb64(payload)
            if version != FORMAT or not isinstance(header, dict) or len(data) < 12 + 16:
                raise ValueError("not a sealed code")
            return cls(header, header_text, _unb64(wrapped), data[:12], data[12:])
        except (ValueError, TypeError, binascii.Error) as error:
            raise Unsealable("otp_unsealable") from error

    def check(self, kind: str, key_id: str | None = None) -> None:
        if self.header.get("k") != kind or (key_id is not None and self.header.get("kid") != key_id):
            raise Unsealable("otp_unsealable")  # sealed by another stack or another kind of key
        expires = self.header.get("exp")
        if not isinstance(expires, int) or expires <= int(time.time() * 1000):
            raise Unsealable("otp_expired")


def _seal_with(data_key: bytes, header: dict[str, Any], wrapped_key: bytes, code: str) -> str:
    header_text = _b64(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    nonce = secrets.token_bytes(12)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # lazy: only an OTP pays for it

    ciphertext = AESGCM(data_key).encrypt(nonce, code.encode(), header_text.encode())
    return ".".join((FORMAT, header_text, _b64(wrapped_key), _b64(nonce + ciphertext)))


def _open_with(data_key: bytes, envelope: _Envelope) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, envelope.header_text.encode()).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError) as error:
        raise Unsealable("otp_unsealable") from error


class LocalSealer:
    kind = "local"

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the local sealing key has 32 bytes")
        self._key = key
        # Names the key without revealing it: a job sealed by another stack is told apart at once.
        self.key_id = hashlib.sha256(b"bzapper-otp-key-id\x1f" + key).hexdigest()[:16]

    def seal(self, code: str, *, account_id: str, expires_at_ms: int) -> str:
        header = {"k": self.kind, "kid": self.key_id, "acct": account_id, "exp": expires_at_ms}
        return _seal_with(self._key, header, b"", code)

    def unseal(self, sealed: str) -> str:
        envelope = _Envelope.parse(sealed)
        envelope.check(self.kind, self.key_id)
        return _open_with(self._key, envelope)


class KmsSealer:
    kind = "kms"

    def __init__(self, key_id: str, kms: Callable[[], Any] | None = None) -> None:
        """`key_id`: the OTP key (ARN, id or alias); `kms` returns a KMS client (default: the process's own)."""
        self.key_id = key_id
        self._kms = kms

    def _client(self) -> Any:
        return self._kms() if self._kms is not None else _kms_client()

    @staticmethod
    def _context(account_id: str) -> dict[str, str]:
        return {"purpose": PURPOSE, "account_id": account_id}

    def seal(self, code: str, *, account_id: str, expires_at_ms: int) -> str:
        answer = self._client().generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=self._context(account_id)
        )
        header = {"k": self.kind, "acct": account_id, "exp": expires_at_ms}
        return _seal_with(answer["Plaintext"], header, answer["CiphertextBlob"], code)

    def unseal(self, sealed: str) -> str:
        from botocore.exceptions import ClientError

        envelope = _Envelope.parse(sealed)
        envelope.check(self.kind)
        account_id = envelope.header.get("acct")
        if not isinstance(account_id, str) or not envelope.wrapped_key:
            raise Unsealable("otp_unsealable")
        try:
            answer = self._client().decrypt(
                CiphertextBlob=envelope.wrapped_key, EncryptionContext=self._context(account_id), KeyId=self.key_id
            )
        except ClientError as error:
            # A data key KMS will never open (another key, another context, tampered) is final; anything
            # else (throttling, an outage, a grant being fixed) is retried with the job.
            if error.response.get("Error", {}).get("Code") in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise Unsealable("otp_unsealable") from None
            raise
        return _open_with(answer["Plaintext"], envelope)


def _kms_client() -> Any:
    from bzapper.adapters.aws.clients import client

    return client("kms")


def new_local_key() -> str:
    """A fresh local sealing key, as LOCAL_KEY_ENV holds it."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def configured_sealer() -> Sealer | None:
    """The sealer this process is configured with: the KMS key on AWS, the stack's key locally, else none."""
    from bzapper.config import settings

    current = settings()
    return _sealer(current.otp.kms_key, current.otp.local_key, current.local_mode)


@cache
def _sealer(kms_key: str | None, local_key: str | None, local_mode: bool) -> Sealer | None:
    if kms_key:
        return KmsSealer(kms_key)
    if local_key and local_mode:  # a key in a deployed function's environment would be readable: local only
        return LocalSealer(base64.b64decode(local_key))
    return None


def engine_unseal() -> Callable[[str], str] | None:
    """The `unseal` an engine is built with in its host: a code that cannot be opened fails its send for
    good (PermanentFailure with the reason as the error code); None when no sealer is configured."""
    sealer = configured_sealer()
    if sealer is None:
        return None
    from bzapper.domain.engine import PermanentFailure

    def unseal(sealed: str) -> str:
        try:
            return sealer.unseal(sealed)
        except Unsealable as error:
            raise PermanentFailure(error.reason) from None

    return unseal
