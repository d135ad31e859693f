"""Status posts through the real handlers on moto (issue #18 part 6): POST /status/{text,image,video} queue a
message of type status to status@broadcast on the number's shard queue, charged as one message, with the
Idempotency-Key honoured; the sandbox engine posts it to the simulated contacts; status.posted is published once
when the ack is applied, and GET /messages/{id} shows the viewers. Hostile input is a 4xx in our shape."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import LambdaContext, call
from support.media import jpeg, pdf
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.config import settings
from bzapper.domain.engine import SessionSpec
from bzapper.domain.model import StatusReport, wallet_id
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services.inbox import record_inbound
from bzapper.topology import shard_queue_name
from bzapper_dev.local.lambda_events import sqs_event
from bzapper_dev.sandbox.network import SandboxNetwork

OWN = "+5511955550001"
ANA, BIA = "+5511988880001", "+5511988880002"
STATUS = "status@broadcast"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def network(clock: FakeClock) -> SandboxNetwork:
    return fake_network(clock)


@pytest.fixture
def engine(network: SandboxNetwork, account: Account) -> tuple[SandboxEngine, list[dict]]:
    sink: list[dict] = []
    online(network, account.account_id, account.instance_id, OWN)
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    engine.open(SessionSpec(account.instance_id, account.account_id, False, OWN), sink.append)
    return engine, sink


def _post(
    handler: Any, account: Account, kind: str, headers: dict | None = None, **body: Any
) -> tuple[int, dict, dict]:
    payload = {"instance_id": account.instance_id, **body}
    status, answer_headers, answer = call(
        handler, "POST", f"/status/{kind}", body=payload, headers={**account.auth, **(headers or {})}
    )
    return status, answer_headers, answer


def _jobs(svc: Any, account: Account) -> list[dict]:
    shard = svc.instances.get(account.instance_id).shard
    url = boto3.client("sqs").get_queue_url(QueueName=settings().queue(shard_queue_name(shard), fifo=True))["QueueUrl"]
    answer = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def _report(statuses_handler: Any, *reports: dict) -> None:
    records = [
        {
            "MessageId": f"r-{index}",
            "ReceiptHandle": f"rh-{index}",
            "Body": json.dumps(report),
            "Attributes": {"MessageGroupId": "g", "ApproximateReceiveCount": "1"},
        }
        for index, report in enumerate(reports)
    ]
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"
    assert statuses_handler(sqs_event(records, arn, "us-east-1"), LambdaContext()) == {"batchItemFailures": []}


def _balance(svc: Any, account: Account) -> int:
    return svc.wallets.balance(wallet_id(account.account_id, "test"))


def test_a_text_status_is_queued_posted_to_the_contacts_and_reported_once(
    messages_handler, statuses_handler, svc, account, network, engine, clock, published
):
    sandbox, sink = engine
    for phone in (ANA, BIA):  # contacts: they wrote to the number
        network.inject_inbound(account.account_id, account.instance_id, phone, "text", {"body": "oi"})
    before = _balance(svc, account)

    status, _, accepted = _post(
        messages_handler,
        account,
        "text",
        headers={"Idempotency-Key": "status-1"},
        text="Open Sunday",
        background_color="#25d366",
        font="bold",
        client_reference="promo-7",
    )
    assert status == 202, accepted
    again_status, again_headers, again = _post(
        messages_handler,
        account,
        "text",
        headers={"Idempotency-Key": "status-1"},
        text="Open Sunday",
        background_color="#25d366",
        font="bold",
        client_reference="promo-7",
    )
    replayed = {name.lower(): value for name, value in again_headers.items()}.get("idempotent-replayed")
    assert (again_status, again, replayed) == (202, accepted, "true")
    assert _balance(svc, account) == before - 1  # one message's price, once
    [job] = _jobs(svc, account)
    assert (job["type"], job["to_jid"], job["content"]["font"]) == ("status", STATUS, "bold")

    ack = sandbox.send(account.instance_id, job)
    for phone in (ANA, BIA):
        [item] = [i for i in network.received(account.account_id, phone) if i["to_jid"] == STATUS]
        assert item["message"]["body"] == "Open Sunday" and item["message"]["background_color"] == "#25D366"

    sent = StatusReport(account.instance_id, job["wa_message_id"], "sent", ack.server_timestamp_ms, job["message_id"])
    _report(statuses_handler, {"kind": "status", **sent.to_json()})
    _report(statuses_handler, {"kind": "status", **sent.to_json()})  # a redelivered report
    clock.advance(1)
    sink.clear()
    sandbox.pump(0)
    receipts = [
        {"kind": "status", **{k: e[k] for k in ("instance_id", "wa_message_id", "status", "at", "participant")}}
        for e in sink
        if e["kind"] == "receipt"
    ]
    assert len(receipts) == 4
    _report(statuses_handler, *receipts)

    posted = [event for event in published.events if event["type"] == "status.posted"]
    assert len({event["id"] for event in posted}) == 1
    assert posted[0]["data"]["message_id"] == accepted["message_id"]
    assert posted[0]["data"]["client_reference"] == "promo-7" and posted[0]["data"]["kind"] == "text"

    status, _, shown = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=account.auth)
    assert status == 200
    assert (shown["type"], shown["to"], shown["status"]) == ("status", STATUS, "read")
    assert sorted((p["phone"], p["status"]) for p in shown["participants"]) == [(ANA, "read"), (BIA, "read")]
    # A redelivered report publishes the same events again (the same ids: deliveries are per event id).
    ids = {(event["type"], event["id"]) for event in published.events}
    assert sorted(kind for kind, _ in ids) == ["message.delivered", "message.read", "message.sent", "status.posted"]


def test_an_image_status_takes_an_uploaded_image_of_this_account_only(messages_handler, svc, account):
    image = svc.media.put_bytes(account.account_id, False, jpeg(), "image/jpeg", None)
    document = svc.media.put_bytes(account.account_id, False, pdf(), "application/pdf", "x.pdf")
    other = make_account(svc)
    theirs = svc.media.put_bytes(other.account_id, False, jpeg(), "image/jpeg", None)

    status, _, accepted = _post(messages_handler, account, "image", media_id=image["media_id"], caption="New")
    assert status == 202, accepted
    [job] = _jobs(svc, account)
    assert (job["content"]["kind"], job["content"]["caption"]) == ("image", "New")
    assert job["content"]["media"]["media_id"] == image["media_id"]

    for kind, media_id in (
        ("image", document["media_id"]),
        ("image", theirs["media_id"]),
        ("video", image["media_id"]),
    ):
        status, _, error = _post(messages_handler, account, kind, media_id=media_id)
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "media_id"), error
    status, _, error = _post(messages_handler, account, "video", media_id=image["media_id"], url="https://x.io/a")
    assert (status, error["code"]) == (422, "validation_failed")


def test_another_tenants_number_is_a_404_and_a_cloud_number_a_422(messages_handler, svc, account):
    other = make_account(svc)
    status, _, error = _post(messages_handler, other, "text", instance_id=account.instance_id, text="x")
    assert (status, error["code"]) == (404, "not_found")
    cloud = svc.instances.create(account.account_id, livemode=False, engine="cloud", name="C", status="connected")
    status, _, error = _post(messages_handler, account, "text", instance_id=cloud.instance_id, text="x")
    assert (status, error["code"]) == (422, "not_supported") and "cloud" in error["message"]
    assert _jobs(svc, account) == []


@pytest.mark.parametrize(
    ("kind", "body", "param"),
    [
        ("text", {"text": "x" * 70_000}, "text"),
        ("text", {"text": "a\u0000b"}, "text"),
        ("text", {"text": ""}, "text"),
        ("text", {"text": "x", "background_color": "red"}, "background_color"),
        ("text", {"text": "x", "background_color": "#12345G"}, "background_color"),
        ("text", {"text": "x", "background_color": "#1234567"}, "background_color"),
        ("text", {"text": "x", "font": "comic_sans"}, "font"),
        ("text", {"text": 5}, "text"),
        ("text", {"text": ["x"]}, "text"),
        ("text", {"text": "x", "audience": "+5511988880001"}, "audience"),
        ("text", {"text": "x", "audience": []}, "audience"),
        ("text", {"text": "x", "audience": ["+5511988880001", "nope"]}, "audience.1"),
        ("text", {"text": "x", "audience": ["+5511988880001", "5511988880001@s.whatsapp.net"]}, "audience.1"),
        ("text", {"text": "x", "to": "+5511988880001"}, "to"),
        ("image", {"caption": "x"}, "url"),  # neither source: named as POST /messages/image names it
        ("image", {"media_id": "med_nope"}, "media_id"),
        ("image", {"url": "ftp://example.com/a.jpg"}, "url"),
        ("image", {"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ("image", {"media_id": "med_01JD5V6W4E7R8T9Y0V1W2X3Y4Z", "caption": "a\u0000"}, "caption"),
        ("video", {"media_id": 5}, "media_id"),
    ],
)
def test_hostile_status_bodies_are_422s_in_our_shape(messages_handler, svc, account, kind, body, param):
    status, _, error = _post(messages_handler, account, kind, **body)
    assert (status, error["code"], error.get("param")) == (422, "validation_failed", param), error
    assert {"message", "locale", "request_id"} <= set(error)
    assert _jobs(svc, account) == []


def test_wrong_shapes_and_keys_are_4xx_never_500(messages_handler, account):
    for body in (None, [], "x", {"instance_id": None, "text": None}):
        status, _, error = call(messages_handler, "POST", "/status/text", body=body, headers=account.auth)
        assert 400 <= status < 500 and {"code", "message", "locale"} <= set(error), (body, status)
    status, _, _ = call(messages_handler, "POST", "/status/audio", body={"text": "x"}, headers=account.auth)
    assert status in (404, 405)
    status, _, error = call(messages_handler, "POST", "/status/text", body={"instance_id": "x", "text": "x"})
    assert (status, error["code"]) == (401, "unauthorized")


def test_a_contacts_status_never_lands_in_the_inbox(svc, account, published):
    """Someone's status reaching the number (status@broadcast traffic) is dropped before the inbox and events."""
    event = {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "wa_message_id": "3ASTATUS1",
        "chat_jid": STATUS,
        "from_me": False,
        "sender": {"jid": "5511988880001@s.whatsapp.net", "phone": ANA},
        "type": "text",
        "content": {"body": "my day"},
        "at": 1_790_000_000_000,
        "account_id": account.account_id,
        "livemode": False,
    }
    record_inbound(svc, event)
    assert published.events == []
    assert svc.messages.find_by_wa_id("3ASTATUS1", account.instance_id) is None
