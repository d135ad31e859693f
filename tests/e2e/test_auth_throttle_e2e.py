"""Strangers guessing keys over real HTTP (its own stack: the throttle it trips would answer other modules' bad keys
with 429): a source address is its socket's peer, whatever X-Forwarded-For it writes, and a key that works keeps
working from a throttled address."""

from __future__ import annotations

import pytest
import requests
from support.stack import Stack

from bzapper.domain.auth_failures import FAILURES_PER_ADDRESS
from bzapper.domain.keys import generate_key

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("auth_throttle")]


def test_guesses_are_throttled_by_the_peer_address_not_a_forwarded_header(stack: Stack):
    assert requests.get(f"{stack.base_url}/me", headers=stack.auth, timeout=10).status_code == 200
    statuses = []
    for index in range(FAILURES_PER_ADDRESS.limit + 5):
        headers = {"Authorization": f"Bearer {generate_key('test')}", "X-Forwarded-For": f"203.0.113.{index}"}
        statuses.append(requests.get(f"{stack.base_url}/me", headers=headers, timeout=10).status_code)
    assert statuses[: FAILURES_PER_ADDRESS.limit] == [401] * FAILURES_PER_ADDRESS.limit
    assert set(statuses[FAILURES_PER_ADDRESS.limit :]) == {429}

    refused = requests.get(
        f"{stack.base_url}/me", headers={"Authorization": f"Bearer {generate_key('test')}"}, timeout=10
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert requests.get(f"{stack.base_url}/me", headers=stack.auth, timeout=10).status_code == 200
