"""How the simulated WhatsApp network refuses a tester (test mode only)."""

from __future__ import annotations


class SandboxRefused(Exception):
    """The simulated network refused a tester's request: `code` is its stable reason (e.g. not_on_whatsapp,
    already_paired, invalid_pairing_code), `reason` its explanation in English (it names request fields),
    `problem` the stable name of what is wrong with malformed input (e.g. media_data_invalid), when known."""

    def __init__(self, code: str | None, reason: str, problem: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.problem = problem


class SandboxUnavailable(Exception):
    """The simulated network could not be reached or failed: worth retrying."""
