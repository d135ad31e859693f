"""The sealer: an OTP's code crosses the shard queue sealed (AES-256-GCM; a KMS data key on AWS)."""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    kind: str

    def seal(self, code: str, *, account_id: str, expires_at_ms: int) -> str: ...

    def unseal(self, sealed: str) -> str:
        """Raises Unsealable (bzapper.domain.otp) when it will never be opened here."""
        ...


class SealerSource(Protocol):
    """Which sealer this process is configured with, if any (asked at use: only OTPs need one)."""

    def current(self) -> Sealer | None: ...
