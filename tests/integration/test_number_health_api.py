"""Number health through the real handlers on moto: a restricted number says why and until when (GET and the
instance.restricted event), and a passkey-gated linking shows as `passkey_required` with what to do."""

from __future__ import annotations

import pytest
from support.accounts import Account
from support.apigw import call
from support.reports import CapturingPublisher

from bzapper.services.reports import apply_worker_report
from bzapper_dev.local.functions import load_function


@pytest.fixture
def instances(aws: None):
    return load_function("instances").handler


def _state(account: Account, state: str, at: int, **extra) -> dict:
    return {"kind": "state", "instance_id": account.instance_id, "state": state, "at": at, **extra}


def _get(handler, account: Account, path: str = "") -> tuple[int, dict]:
    status, _, body = call(handler, "GET", f"/instances/{account.instance_id}{path}", headers=account.auth)
    return status, body


def test_a_reach_out_lock_shows_its_reason_and_until_then_clears(
    instances, svc, account, published: CapturingPublisher
) -> None:
    until = 1_764_003_600_000
    apply_worker_report(
        svc, _state(account, "restricted", 1_764_000_000_000, error="reach_out_restricted", until=until)
    )

    status, body = _get(instances, account)
    assert status == 200 and body["status"] == "restricted"
    assert body["restriction"] == {"reason": "reach_out_restricted", "until": "2025-11-24T17:00:00.000Z"}
    [event] = published.of_type("instance.restricted")
    assert event["data"]["restriction"] == body["restriction"]
    assert event["data"]["error"] == {"code": "reach_out_restricted"}

    apply_worker_report(svc, _state(account, "connected", 1_764_003_600_001))
    status, body = _get(instances, account)
    assert (body["status"], body["restriction"], body["last_error"]) == ("connected", None, None)
    assert svc.instances.view(account.instance_id).restricted_until is None


def test_a_restriction_whose_end_is_unknown_says_so(instances, svc, account) -> None:
    apply_worker_report(svc, _state(account, "restricted", 1_764_000_000_000, error="reach_out_restricted"))
    assert _get(instances, account)[1]["restriction"] == {"reason": "reach_out_restricted", "until": None}


def test_a_passkey_gated_linking_says_what_to_do(instances, svc, account, published: CapturingPublisher) -> None:
    apply_worker_report(svc, _state(account, "passkey_required", 1_764_000_000_000, error="passkey_required"))

    status, body = _get(instances, account)
    assert (status, body["status"], body["last_error"], body["restriction"]) == (
        200,
        "passkey_required",
        "passkey_required",
        None,
    )
    assert [e["data"]["status"] for e in published.of_type("instance.passkey_required")] == ["passkey_required"]
    status, body = _get(instances, account, "/qr")
    assert status == 409 and body["code"] == "passkey_required"
    assert "passkey" in body["message"]
    status, _, body = call(
        instances,
        "GET",
        f"/instances/{account.instance_id}/qr",
        headers={**account.auth, "Accept-Language": "pt-BR"},
    )
    assert status == 409 and "chave de acesso" in body["message"]
