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
    )
