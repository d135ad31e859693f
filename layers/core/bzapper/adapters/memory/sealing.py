"""The OTP sealer in memory (bzapper.ports.sealing): a sealed code is an opaque token that never holds the
code, opened only here and only before its expiry, as the real sealers behave."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.otp import Unsealable
from bzapper.ports.sealing import Sealer


class MemorySealer(Faults):
    kind = "memory"

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._sealed: dict[str, tuple[str, str, int]] = {}
        """token → (code, account id, expiry)."""

    def seal(self, code: str, *, account_id: str, expires_at_ms: int) -> str:
        self._enter("seal", "<code>", account_id=account_id, expires_at_ms=expires_at_ms)  # the code is never kept
        token = f"sealed:{new_id('seal')}"
        with self._lock:
            self._sealed[token] = (code, account_id, expires_at_ms)
        return token

    def unseal(self, sealed: str) -> str:
        self._enter("unseal", sealed)
        with self._lock:
            found = self._sealed.get(sealed)
        if found is None:
            raise Unsealable("otp_unsealable")  # another stack's, or tampered
        code, _, expires_at = found
        if expires_at <= self._clock():
            raise Unsealable("otp_expired")
        return code


class MemorySealerSource(Faults):
    """The process's sealer, if any: set `sealer` to None for a deployment with no OTP key."""

    def __init__(self, sealer: Sealer | None) -> None:
        super().__init__()
        self.sealer = sealer

    def current(self) -> Sealer | None:
        self._enter("current")
        return self.sealer
