"""Settings read once from the environment: the same code runs on Lambda, Fargate and a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from bzapper.topology import physical_name


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    local_mode: bool
    """True on the embedded local stack: loopback URLs are allowed and the sandbox is the only engine."""
    sandbox_url: str | None
    auth_cache_seconds: float
    outbox_grace_seconds: int
    """How long a committed message may wait for its queue send before the sweeper re-sends it."""
    cognito_user_pool_id: str | None = None
    """The console users' pool (BZ_COGNITO_USER_POOL_ID); unset: the auth API answers not_supported."""
    cognito_client_id: str | None = None
    cognito_jwks_url: str | None = None
    """Where the pool's signing keys are served; default: Cognito's own URL for the pool."""
    mailbox_dir: str | None = None
    """The local stack's mailbox (BZ_MAILBOX_DIR): emails and the confirmation codes moto does not check."""
    mail_from: str | None = None
    """The verified SES sender of our own emails on AWS (BZ_MAIL_FROM)."""
    signup_test_credits: int = 1_000
    """Free test credits a new account starts with (BZ_SIGNUP_TEST_CREDITS)."""

    @property
    def cognito_issuer(self) -> str | None:
        if not self.cognito_user_pool_id:
            return None
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    def table(self, logical: str) -> str:
        return physical_name(self.stage, logical)

    def queue(self, logical: str, fifo: bool) -> str:
        return physical_name(self.stage, logical) + (".fifo" if fifo else "")

    def bucket(self, logical: str) -> str:
        return physical_name(self.stage, logical)

    @property
    def bus(self) -> str:
        return physical_name(self.stage, "events")


@cache
def settings() -> Settings:
    return Settings(
        stage=os.environ.get("BZ_STAGE", "local"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        local_mode=os.environ.get("BZ_LOCAL_MODE", "").lower() in ("1", "true", "yes"),
        sandbox_url=os.environ.get("BZ_SANDBOX_URL"),
        auth_cache_seconds=float(os.environ.get("BZ_AUTH_CACHE_SECONDS", "60")),
        outbox_grace_seconds=int(os.environ.get("BZ_OUTBOX_GRACE_SECONDS", "30")),
        cognito_user_pool_id=os.environ.get("BZ_COGNITO_USER_POOL_ID") or None,
        cognito_client_id=os.environ.get("BZ_COGNITO_CLIENT_ID") or None,
        cognito_jwks_url=os.environ.get("BZ_COGNITO_JWKS_URL") or None,
        mailbox_dir=os.environ.get("BZ_MAILBOX_DIR") or None,
        mail_from=os.environ.get("BZ_MAIL_FROM") or None,
        signup_test_credits=int(os.environ.get("BZ_SIGNUP_TEST_CREDITS", "1000")),
    )
