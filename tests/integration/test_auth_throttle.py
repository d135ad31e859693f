"""Strangers guessing keys (issue: 300 random keys cost 300 lookups and 300 × 401): through the real handler on
moto, a source address past its failure budget waits with 429 + Retry-After and costs no lookup, while a key that
works, from the same address, still works."""

from __future__ import annotations

import pytest
from support.apigw import call

from bzapper.adapters.aws.accounts import AccountStore
from bzapper.domain.auth_failures import FAILURES_PER_ADDRESS
from bzapper.domain.keys import generate_key
from bzapper_dev.local.functions import load_function


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of the key table the authentication makes."""
    seen: list[str] = []
    original = AccountStore._load_principal

    def counted(self: AccountStore, digest: str):  # type: ignore[no-untyped-def]
        seen.append(digest)
        return original(self, digest)

    monkeypatch.setattr(AccountStore, "_load_principal", counted)
    return seen


def test_guessing_keys_from_one_address_is_throttled_without_lookups_and_a_real_key_still_works(
    account, lookups, environment
):
    environment.set("BZ_AUTH_CACHE_SECONDS", "0")
    handler = load_function("account").handler
    status, _, _ = call(handler, "GET", "/me", headers=account.auth)  # the owner's key works from this address
    assert status == 200

    answers = [
        call(
            handler, "GET", "/me", headers={"Authorization": f"Bearer {generate_key('test')}", "Accept-Language": "es"}
        )
        for _ in range(FAILURES_PER_ADDRESS.limit + 30)
    ]

    statuses = [status for status, _, _ in answers]
    assert statuses[: FAILURES_PER_ADDRESS.limit] == [401] * FAILURES_PER_ADDRESS.limit
    assert set(statuses[FAILURES_PER_ADDRESS.limit :]) == {429}
    _, headers, body = answers[-1]
    assert body["code"] == "rate_limited" and body["locale"] == "es"
    assert int(headers["retry-after"]) >= 1
    assert (headers["ratelimit-limit"], headers["ratelimit-remaining"]) == (str(FAILURES_PER_ADDRESS.limit), "0")
    # Only the budget's guesses were looked up (and the owner's key once), not the 30 that waited.
    assert len(lookups) == 1 + FAILURES_PER_ADDRESS.limit

    status, _, _ = call(handler, "GET", "/me", headers=account.auth)
    assert status == 200  # the owner's key, from the throttled address, is not held back


def test_a_malformed_key_is_refused_by_its_shape_without_a_lookup(account, lookups):
    handler = load_function("account").handler
    for token in ("bz_test_short", "bz_live_" + "a" * 60, "bz_test_" + "a" * 42 + "!"):
        status, _, body = call(handler, "GET", "/me", headers={"Authorization": f"Bearer {token}"})
        assert (status, body["code"]) == (401, "unauthorized")
    assert lookups == []
