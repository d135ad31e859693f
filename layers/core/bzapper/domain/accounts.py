"""An account as the services see it: who it is, its language and its plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    locale: str
    plan: str
    features: frozenset[str]
    created_at: int
