"""An account as the services see it: who it is, its language and its plan."""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE = "active"
SUSPENDED = "suspended"
STATUSES = (ACTIVE, SUSPENDED)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    locale: str
    plan: str
    features: frozenset[str]
    created_at: int
    status: str = "active"
    """"active", or "suspended" by an operator (its keys and sessions are refused, its queued sends held)."""
    owner_email: str | None = None
    """The console user who signed it up (None for accounts an operator made)."""
    owner_id: str | None = None
    """That user's id at the identity service."""

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED
