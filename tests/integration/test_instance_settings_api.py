"""Instance settings (issue #18 part 8) through the real instances handler on moto; the settings where they act:
groups ignored where inbound is applied, calls reported and a rejected caller's message sent once (part 5)."""

from __future__ import annotations

import json

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import call
from support.control import control_commands
from support.environment import Environment
from support.reports import CapturingPublisher

from bzapper.adapters import sealing
from bzapper.config import settings
from bzapper.domain.instance_settings import InstanceSettings
from bzapper.services.reports import apply_worker_report
from bzapper_dev.local.functions import load_function

DEFAULTS = {
    "reject_calls": False,
    "reject_call_message": None,
    "ignore_groups": False,
    "always_online": False,
    "read_incoming": False,
    "presence_events": False,
    "history_sync": False,
    "proxy_url": None,
}
GROUP = "120363025246125888@g.us"
CALLER = "+5511988887777"


@pytest.fixture
def instances(aws: None):
    return load_function("instances").handler


@pytest.fixture
def kms_key(aws, environment: Environment) -> str:
    arn = boto3.client("kms").create_key(Description="otp")["KeyMetadata"]["Arn"]
    environment.set(sealing.KMS_KEY_ENV, arn)
    return arn


def _patch(handler, account: Account, settings_patch: dict, instance_id: str | None = None):
    path = f"/instances/{instance_id or account.instance_id}"
    return call(handler, "PATCH", path, body={"settings": settings_patch}, headers=account.auth)


def _get(handler, account: Account):
    return call(handler, "GET", f"/instances/{account.instance_id}", headers=account.auth)


def test_a_new_instance_shows_every_setting_with_its_default(instances, account) -> None:
    status, _, body = _get(instances, account)
    assert status == 200
    assert body["settings"] == DEFAULTS


def test_a_patch_changes_only_the_keys_it_names_and_tells_the_session(instances, svc, account) -> None:
    status, _, body = _patch(instances, account, {"reject_calls": True, "reject_call_message": "Please write."})
    assert status == 200
    assert body["settings"] == DEFAULTS | {"reject_calls": True, "reject_call_message": "Please write."}

    status, _, body = _patch(instances, account, {"ignore_groups": True})
    assert status == 200
    expected = DEFAULTS | {"reject_calls": True, "reject_call_message": "Please write.", "ignore_groups": True}
    assert body["settings"] == expected
    assert _get(instances, account)[2]["settings"] == expected

    # Both are the worker's to apply (the engine rejects calls; the worker drops group traffic): each is told.
    assert len(control_commands(svc, account.instance_id, "settings")) == 2

    status, _, body = _patch(instances, account, {"reject_call_message": None})
    assert status == 200 and body["settings"]["reject_call_message"] is None
    assert control_commands(svc, account.instance_id, "settings") == []  # read where used: nothing to tell

    # presence_events is the worker's (it drops contacts' presence while off): told.
    status, _, body = _patch(instances, account, {"presence_events": True})
    assert status == 200 and body["settings"]["presence_events"] is True
    assert len(control_commands(svc, account.instance_id, "settings")) == 1

    # history_sync is the session's (whatsmeow subscribes to history when it opens) and the worker's: told.
    status, _, body = _patch(instances, account, {"history_sync": True})
    assert status == 200 and body["settings"]["history_sync"] is True
    assert len(control_commands(svc, account.instance_id, "settings")) == 1


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"reject_cals": True}, "settings.reject_cals"),
        ({"reject_calls": "yes"}, "settings.reject_calls"),
        ({"always_online": 1}, "settings.always_online"),
        ({"reject_call_message": ""}, "settings.reject_call_message"),
        ({"reject_call_message": "x" * 1025}, "settings.reject_call_message"),
        ({"proxy_url": "ftp://proxy.example.com:21"}, "settings.proxy_url"),
        ({"proxy_url": "socks5://proxy.example.com"}, "settings.proxy_url"),  # no port
        ({"proxy_url": "http://proxy.example.com:8080/path"}, "settings.proxy_url"),
        ({"proxy_url": "socks5://169.254.169.254:1080"}, "settings.proxy_url"),  # the metadata service
        ({"proxy_url": "http://10.0.0.7:3128"}, "settings.proxy_url"),
        ({"proxy_url": "socks5://u:p@127.0.0.1:1080"}, "settings.proxy_url"),  # loopback outside local mode
        ({"proxy_url": "http://2130706433:80"}, "settings.proxy_url"),  # 127.0.0.1 as one number
        ({"proxy_url": "http://[::ffff:127.0.0.1]:80"}, "settings.proxy_url"),
    ],
)
def test_a_bad_setting_is_refused_naming_it_and_nothing_changes(instances, account, patch, param) -> None:
    status, _, body = _patch(instances, account, {"always_online": True, **patch})
    assert status == 422
    assert body["code"] == "validation_failed" and body["param"] == param
    assert _get(instances, account)[2]["settings"] == DEFAULTS


def test_a_proxy_password_is_sealed_and_never_shown(instances, svc, account, kms_key, public_dns) -> None:
    status, _, body = _patch(instances, account, {"proxy_url": "socks5://shop:s3cr%2Ft@example.com:1080"})
    assert status == 200
    assert body["settings"]["proxy_url"] == "socks5://shop:***@example.com:1080"
    assert "s3cr" not in json.dumps(_get(instances, account)[2])

    stored = svc.instances.view(account.instance_id).settings
    assert stored["proxy_url"] == "socks5://shop@example.com:1080" and "s3cr" not in json.dumps(stored)
    sealer = sealing.configured_sealer()
    assert sealer is not None and sealer.unseal(stored["proxy_secret"]) == "s3cr/t"
    [command] = control_commands(svc, account.instance_id, "settings")
    assert "s3cr" not in json.dumps(command)  # the worker reads the stored settings: nothing secret travels

    # null removes the proxy and its password
    status, _, body = _patch(instances, account, {"proxy_url": None})
    assert status == 200 and body["settings"]["proxy_url"] is None
    assert "proxy_secret" not in svc.instances.view(account.instance_id).settings


def test_a_proxy_with_a_password_needs_a_sealing_key(instances, account, public_dns) -> None:
    status, _, body = _patch(instances, account, {"proxy_url": "http://shop:pw@example.com:3128"})
    assert status == 403 and body["code"] == "not_supported"
    status, _, body = _patch(instances, account, {"proxy_url": "http://example.com:3128"})  # no password: fine
    assert status == 200 and body["settings"]["proxy_url"] == "http://example.com:3128"


def test_another_accounts_instance_is_not_found(instances, svc, account) -> None:
    other = make_account(svc)
    status, _, body = _patch(instances, other, {"reject_calls": True}, instance_id=account.instance_id)
    assert status == 404 and body["code"] == "not_found"


def test_changing_settings_takes_the_instances_write_scope() -> None:
    from bzapper.topology import ROUTES

    [route] = [r for r in ROUTES if (r.method, r.path) == ("PATCH", "/instances/{instance_id}")]
    assert route.scope == "instances:write"


# -- where the settings act ------------------------------------------------------------------------------


def _call(account: Account, phase: str, **extra) -> dict:
    return {
        "kind": "call",
        "instance_id": account.instance_id,
        "account_id": account.account_id,
        "livemode": False,
        "call_id": "CALL0001",
        "phase": phase,
        "from": {"jid": "5511988887777@s.whatsapp.net", "phone": CALLER, "lid": "99@lid"},
        "is_video": False,
        "at": 1_764_000_000_000,
        **extra,
    }


def _jobs(svc, account: Account) -> list[dict]:
    sqs = boto3.client("sqs")
    shard = svc.instances.get(account.instance_id).shard
    url = sqs.get_queue_url(QueueName=settings().queue(f"shard-{shard}", fifo=True))["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_a_rejected_call_is_reported_once_and_its_caller_gets_the_message_once(
    svc, account, published: CapturingPublisher
) -> None:
    wanted = InstanceSettings(reject_calls=True, reject_call_message="We only read messages here.")
    svc.instances.set_settings(account.instance_id, wanted.stored())

    apply_worker_report(svc, _call(account, "offer", rejected=True))
    apply_worker_report(svc, _call(account, "offer", rejected=True))  # a redelivered report
    apply_worker_report(svc, _call(account, "ended", reason="rejected", duration_s=0, at=1_764_000_000_500))

    received = published.of_type("call.received")
    assert len({event["id"] for event in received}) == 1
    assert received[0]["data"] == {
        "call_id": "CALL0001",
        "from": {"jid": "5511988887777@s.whatsapp.net", "phone": CALLER, "lid": "99@lid"},
        "is_video": False,
        "at": "2025-11-24T16:00:00.000Z",
        "rejected": True,
    }
    [ended] = published.of_type("call.ended")
    assert ended["data"]["reason"] == "rejected" and ended["data"]["duration_s"] == 0

    jobs = _jobs(svc, account)
    assert len(jobs) == 1  # the second report replayed the same send
    assert jobs[0]["type"] == "text" and jobs[0]["content"]["body"] == "We only read messages here."
    assert jobs[0]["to_jid"] == "5511988887777@s.whatsapp.net"
    record = svc.messages.get(jobs[0]["message_id"])
    assert record is not None and record.client_reference == "auto:reject_call"


def test_a_call_that_was_not_rejected_sends_nothing(svc, account, published: CapturingPublisher) -> None:
    svc.instances.set_settings(account.instance_id, InstanceSettings(reject_call_message="Hi").stored())
    apply_worker_report(svc, _call(account, "offer"))
    assert published.of_type("call.received")[0]["data"]["rejected"] is False
    assert _jobs(svc, account) == []
