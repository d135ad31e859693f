"""The Groups API on moto: the `groups` function's handler asks the number's worker through the real control queue
and answers table; a worker thread (CommandHandler over the sandbox engine and an in-process network) answers.
Errors in our shape: not an admin is a 403 `forbidden` with a translated reason; a bad JID a 422 on `jid`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from support.accounts import Account
from support.apigw import LambdaContext, call
from support.media import png
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.adapters.aws.queues import SqsReader
from bzapper.api.schemas.groups import GroupJoinedEvent, GroupParticipantsChangedEvent, GroupUpdatedEvent
from bzapper.config import settings
from bzapper.domain.engine import SessionSpec
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.topology import control_queue_name
from bzapper.worker.control import CommandHandler
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event
from bzapper_dev.sandbox.network import SandboxNetwork

OWN, SECOND = "+5511955550001", "+5511955550002"
ANA, BIA, CAIO, DANI = "+5511988880001", "+5511988880002", "+5511988880003", "+5511988880004"


@pytest.fixture
def groups_api(aws: None) -> Any:
    return load_function("groups").handler


@pytest.fixture
def world(svc: Any, account: Account) -> Iterator[dict[str, Any]]:
    """The account's number (and a second one) paired on a network, and a worker answering their questions."""
    network: SandboxNetwork = fake_network(FakeClock())
    second = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="2", status="connected")
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    sink: list[dict] = []
    for instance_id, phone in ((account.instance_id, OWN), (second.instance_id, SECOND)):
        online(network, account.account_id, instance_id, phone)
        engine.open(SessionSpec(instance_id, account.account_id, False, phone), sink.append)

    def engine_call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(svc, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=engine_call)
    stop = threading.Event()
    shards = {svc.instances.get(i).shard for i in (account.instance_id, second.instance_id)}
    threads = [
        threading.Thread(
            target=handler.consume,
            args=(SqsReader(settings().queue(control_queue_name(shard), fifo=False)), stop, 1),
            daemon=True,
        )
        for shard in shards
    ]
    for thread in threads:
        thread.start()
    yield {"network": network, "second": second.instance_id, "engine": engine, "sink": sink}
    stop.set()
    for thread in threads:
        thread.join(5)


def api(handler: Any, account: Account, method: str, path: str, *, body: dict | None = None, **query: str):
    query_string = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    headers = account.auth | {"Accept-Language": "pt-BR"}
    return call(handler, method, path, body=body, headers=headers, query=query_string)


def test_the_groups_api_end_to_end(groups_api, account, world, svc):
    second = world["second"]
    status, _, created = api(
        groups_api, account, "POST", "/groups", body={"instance_id": account.instance_id, "subject": "Orders",
                                                      "participants": [ANA, BIA, SECOND]}
    )  # fmt: skip
    assert status == 201, created
    jid = created["group"]["jid"]
    assert [r["status"] for r in created["participants"]] == ["added", "added", "added"]
    path = f"/groups/{quote(jid)}"

    status, _, listed = api(groups_api, account, "GET", "/groups", instance_id=account.instance_id)
    assert (status, [g["jid"] for g in listed["data"]]) == (200, [jid])
    status, _, info = api(groups_api, account, "GET", path, instance_id=account.instance_id)
    assert (info["participants"][0]["phone"], info["participants"][0]["role"]) == (OWN, "superadmin")

    # The second number is a member: admin-only changes are refused with the reason, in the caller's language.
    status, _, error = api(groups_api, account, "PATCH", path, body={"instance_id": second, "announce": True})
    assert (status, error["code"], error["locale"]) == (403, "forbidden", "pt-BR")
    assert "administrador" in error["message"]

    body = {"instance_id": account.instance_id, "action": "promote", "participants": [SECOND]}
    status, _, results = api(groups_api, account, "POST", f"{path}/participants", body=body)
    assert (status, [r["status"] for r in results["data"]]) == (200, ["ok"])
    status, _, info = api(groups_api, account, "PATCH", path, body={"instance_id": second, "subject": "Orders 2"})
    assert (status, info["subject"]) == (200, "Orders 2")

    # A picture is one of the account's images (the engine is handed the stored file); anything else is a 422.
    picture = svc.media.put_bytes(account.account_id, False, png(), "image/png")
    body = {"instance_id": account.instance_id, "picture": picture["media_id"]}
    status, _, info = api(groups_api, account, "PATCH", path, body=body)
    assert (status, info["picture"]) == (200, picture["media_id"])
    text = svc.media.put_bytes(account.account_id, False, b"plain text", "text/plain")
    for media_id in (text["media_id"], "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q"):
        body = {"instance_id": account.instance_id, "picture": media_id}
        status, _, error = api(groups_api, account, "PATCH", path, body=body)
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "picture")

    status, _, link = api(groups_api, account, "GET", f"{path}/invite-link", instance_id=account.instance_id)
    status, _, new = api(
        groups_api, account, "POST", f"{path}/invite-link/revoke", body={"instance_id": account.instance_id}
    )
    assert status == 200 and new["invite_link"] != link["invite_link"]

    status, _, _ = api(groups_api, account, "POST", f"{path}/leave", body={"instance_id": second})
    assert status == 204
    status, _, error = api(groups_api, account, "GET", path, instance_id=second)
    assert (status, error["code"]) == (404, "not_found")
    status, _, joined = api(
        groups_api, account, "POST", "/groups/join", body={"instance_id": second, "invite_link": new["invite_link"]}
    )
    assert (status, joined["jid"]) == (200, jid)
    status, _, error = api(
        groups_api, account, "POST", "/groups/join", body={"instance_id": second, "invite_link": link["invite_link"]}
    )
    assert (status, error["param"]) == (422, "invite_link")


def test_bad_input_is_a_422_and_nothing_is_asked(groups_api, account):
    status, _, error = api(groups_api, account, "GET", "/groups/not-a-group", instance_id=account.instance_id)
    assert (status, error["param"]) == (422, "jid")
    body = {"instance_id": account.instance_id, "action": "kick", "participants": [ANA]}
    status, _, error = api(groups_api, account, "POST", "/groups/120363025246125888%40g.us/participants", body=body)
    assert (status, error["param"]) == (422, "action")
    status, _, error = api(groups_api, account, "GET", "/groups", instance_id="inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q")
    assert status == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "param"),
    [
        # Blank subjects passed the schema and came back from WhatsApp as a 422 naming no field (CI's fuzz).
        ("POST", "/groups", {"subject": "   "}, "subject"),
        ("PATCH", "/groups/120363025246125888%40g.us", {"subject": "\t "}, "subject"),
        # Null is not a subject, description or setting: omit the field to keep it.
        ("PATCH", "/groups/120363025246125888%40g.us", {"subject": None}, "subject"),
        ("PATCH", "/groups/120363025246125888%40g.us", {"description": None}, "description"),
        ("PATCH", "/groups/120363025246125888%40g.us", {"announce": None}, "announce"),
        ("PATCH", "/groups/120363025246125888%40g.us", {"locked": None}, "locked"),
    ],
)
def test_blank_subjects_and_nulls_are_a_422_on_their_field(groups_api, account, method, path, body, param):
    status, _, error = api(groups_api, account, method, path, body={"instance_id": account.instance_id, **body})
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param)


def _group_reports(account: Account, world: dict[str, Any]) -> list[dict]:
    """What the worker reports of the engine's group events (worker/runner.py)."""
    world["sink"].clear()
    world["engine"].pump(0)
    return [
        {k: v for k, v in event.items() if k != "ack"} | {"kind": "group", "account_id": account.account_id}
        | {"livemode": False}
        for event in world["sink"]
        if event["kind"] == "group"
    ]  # fmt: skip


def _consume(statuses_handler: Any, reports: list[dict]) -> None:
    records = [
        {
            "MessageId": f"g-{index}",
            "ReceiptHandle": f"rh-{index}",
            "Body": json.dumps(report),
            "Attributes": {"MessageGroupId": "g", "ApproximateReceiveCount": "1"},
        }
        for index, report in enumerate(reports)
    ]
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"
    assert statuses_handler(sqs_event(records, arn, "us-east-1"), LambdaContext()) == {"batchItemFailures": []}


def test_every_change_is_one_group_event_in_the_documented_shape(
    groups_api, statuses_handler, account, world, published
):
    network, second = world["network"], world["second"]
    body = {"instance_id": account.instance_id, "subject": "Orders", "participants": [ANA, BIA, CAIO]}
    status, _, created = api(groups_api, account, "POST", "/groups", body=body)
    jid = created["group"]["jid"]
    path = f"/groups/{quote(jid)}"
    steps = [
        ("POST", f"{path}/participants", {"action": "promote", "participants": [ANA]}),
        ("POST", f"{path}/participants", {"action": "remove", "participants": [BIA]}),
        ("POST", f"{path}/invite-link/revoke", {}),
        ("PATCH", path, {"subject": "Orders 2"}),
    ]
    for method, step_path, step_body in steps:
        status, _, answer = api(
            groups_api, account, method, step_path, body={"instance_id": account.instance_id} | step_body
        )
        assert status == 200, answer
    _, _, link = api(groups_api, account, "GET", f"{path}/invite-link", instance_id=account.instance_id)
    network.contact_join(account.account_id, DANI, link["invite_link"])  # a simulated contact joins by link
    status, _, _ = api(
        groups_api, account, "POST", "/groups/join", body={"instance_id": second, "invite_link": link["invite_link"]}
    )
    assert status == 200
    reports = _group_reports(account, world)
    _consume(statuses_handler, reports)
    assert _group_reports(account, world) == []  # in flight until the worker acks them: nothing new

    events = [(e["type"], e["instance_id"], e["data"].get("action")) for e in published.events]
    assert events == [
        ("group.joined", account.instance_id, None),
        ("group.participants_changed", account.instance_id, "promote"),
        ("group.participants_changed", account.instance_id, "remove"),
        ("group.updated", account.instance_id, None),
        ("group.updated", account.instance_id, None),
        ("group.participants_changed", account.instance_id, "join"),
        ("group.joined", second, None),
        ("group.participants_changed", account.instance_id, "join"),
    ]
    assert len({e["id"] for e in published.events}) == len(published.events)
    models = {
        "group.joined": GroupJoinedEvent,
        "group.updated": GroupUpdatedEvent,
        "group.participants_changed": GroupParticipantsChangedEvent,
    }
    for event in published.events:
        models[event["type"]].model_validate(event)
    assert published.events[2]["data"]["participants"][0]["phone"] == BIA
    assert published.events[2]["data"]["by"]["phone"] == OWN
    assert published.events[3]["data"]["changes"] == {"invite_link": "revoked"}
    assert published.events[5]["data"]["by"]["phone"] == DANI

    # A redelivered report publishes the same event again (same id: consumers dedupe on it), never a new one.
    ids = [e["id"] for e in published.events]
    _consume(statuses_handler, reports)
    assert [e["id"] for e in published.events] == ids + ids
