"""The sandbox payment provider: a local checkout page instead of Stripe, for test keys and local mode."""

from __future__ import annotations

from bzapper.config import settings
from bzapper.domain.billing import ProviderSession


def sandbox_secret() -> str:
    """BZ_SANDBOX_PAYMENTS_SECRET, else a public default: an event it signs only ever credits a test wallet."""
    return settings().payments.sandbox_webhook_secret


class SandboxProvider:
    name = "sandbox"

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession:
        return ProviderSession(
            session_id=f"cs_test_sbx_{checkout_id}", url=f"{base_url.rstrip('/')}/sandbox/checkout/{checkout_id}"
        )
