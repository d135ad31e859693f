"""Test accounts, created through the same operator service the CLI uses."""

from __future__ import annotations

from dataclasses import dataclass

from bzapper.services import container
from bzapper.services.accounts import create_test_account


@dataclass
class Account:
    account_id: str
    api_key: str
    instance_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_account(svc: container.Services, credits: int = 1000, locale: str = "en") -> Account:
    return Account(**create_test_account(svc, name="Test", locale=locale, credits=credits))
