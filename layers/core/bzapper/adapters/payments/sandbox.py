"""The sandbox payment provider: a local checkout page instead of Stripe, for test keys and local mode."""

from __future__ import annotations

import os

from bzapper.domain.billing import ProviderSession

SANDBOX_WEBHOOK_SECRET_DEFAULT = "whsec_bzapper_sandbox_public"  # noqa: S105 - test mode only, by design
"""Public on purpose: an event it signs can only ever credit a test-mode wallet."""


def sandbox_secret() -> str:
    return os.environ.get("BZ_SANDBOX_PAYMENTS_SECRET", SANDBOX_WEBHOOK_SECRET_DEFAULT)


class SandboxProvider:
    name = "sandbox"

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession:
        return ProviderSession(
            session_id=f"cs_test_sbx_{checkout_id}", url=f"{base_url.rstrip('/')}/sandbox/checkout/{checkout_id}"
        )
