"""Messages to a group on moto: `to` takes a group JID (mentions and quoted replies included), the sandbox
delivers to every participant, and each participant's receipt shows in GET /messages/{id} while the message's
own status moves once per status (one message.delivered, one message.read)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import LambdaContext, call
from support.dynamo_calls import DynamoCalls
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.adapters import sealing
from bzapper.config import settings
from bzapper.domain.engine import SessionSpec
from bzapper.domain.model import StatusReport
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services.inbox import record_inbound
from bzapper.topology import shard_queue_name
from bzapper_dev.local.lambda_events import sqs_event
from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
ANA, BIA = "+5511988880001", "+5511988880002"
ANA_JID = "5511988880001@s.whatsapp.net"


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


def _post(handler: Any, account: Account, **body: Any) -> tuple[int, dict]:
    payload = {"instance_id": account.instance_id, **body}
    status, _, answer = call(handler, "POST", "/messages/text", body=payload, headers=account.auth)
    return status, answer


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


def _receipt_reports(sink: list[dict]) -> list[dict]:
    """What the worker reports for the engine's receipts (worker/runner.py)."""
    reports = []
    for event in sink:
        if event["kind"] == "receipt":
            report = {"kind": "status", **{k: event[k] for k in ("instance_id", "wa_message_id", "status", "at")}}
            reports.append(report | ({"participant": event["participant"]} if event.get("participant") else {}))
    return reports


def test_a_text_with_a_mention_reaches_each_participant_and_their_receipts_show(
    messages_handler, statuses_handler, svc, account, network, engine, clock, published, monkeypatch
):
    sandbox, sink = engine
    jid = network.create_group(account.account_id, account.instance_id, "Orders", [ANA, BIA])["group"]["jid"]

    status, accepted = _post(messages_handler, account, to=jid, body="@5511988880001 shipped", mentions=[ANA])
    assert status == 202, accepted
    [job] = _jobs(svc, account)
    assert (job["to_jid"], job["content"]["mentions"]) == (jid, [ANA_JID])
    ack = sandbox.send(account.instance_id, job)
    for phone in (ANA, BIA):
        [item] = network.received(account.account_id, phone)
        assert (item["group_jid"], item["message"]["mentions"]) == (jid, [ANA_JID])

    sent = StatusReport(account.instance_id, job["wa_message_id"], "sent", ack.server_timestamp_ms, job["message_id"])
    _report(statuses_handler, {"kind": "status", **sent.to_json()})
    clock.advance(1)
    sink.clear()
    sandbox.pump(0)
    receipts = _receipt_reports(sink)
    assert len(receipts) == 4  # delivered and read from each participant
    calls = DynamoCalls(monkeypatch)
    _report(statuses_handler, *receipts)
    # Storage cost: one UpdateItem per participant receipt (no read), beside the WhatsApp id lookup every receipt
    # makes; the message's own status moves (its usual transaction) with the first receipt of each status only.
    assert calls.names.count("UpdateItem") == 4 and calls.names.count("Query") == 4
    assert calls.names.count("TransactWriteItems") == 2

    status, _, shown = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=account.auth)
    assert status == 200
    assert shown["status"] == "read" and shown["to"] == jid
    assert [(p["phone"], p["lid"], p["status"]) for p in shown["participants"]] == [
        (ANA, lid_for(ANA), "read"),
        (BIA, lid_for(BIA), "read"),
    ]
    types = [event["type"] for event in published.events]
    assert types.count("message.delivered") == 1 and types.count("message.read") == 1

    # The same receipts again (a redelivery): nothing moves, and no participant goes back.
    _report(statuses_handler, *receipts)
    status, _, again = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=account.auth)
    assert again["participants"] == shown["participants"]


def test_a_quoted_reply_in_a_group_names_the_participant(messages_handler, svc, account, network, engine):
    jid = network.create_group(account.account_id, account.instance_id, "Orders", [ANA])["group"]["jid"]
    sender = {"jid": ANA_JID, "phone": ANA, "lid": lid_for(ANA), "push_name": "Ana"}
    event = {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "wa_message_id": "3AGROUP1",
        "chat_jid": jid,
        "from_me": False,
        "sender": sender,
        "type": "text",
        "content": {"body": "where is it?"},
        "at": 1_790_000_000_000,
        "account_id": account.account_id,
        "livemode": False,
    }
    record_inbound(svc, event)

    status, accepted = _post(messages_handler, account, to=jid, body="on its way", reply_to="3AGROUP1")
    assert status == 202, accepted
    [job] = _jobs(svc, account)
    quoted = job["content"]["reply_to"]
    assert (quoted["chat_jid"], quoted["sender_jid"], quoted["from_me"]) == (jid, ANA_JID, False)
    # A WhatsApp id we have no record of, in a group, cannot name its sender: refused, not guessed.
    status, refused = _post(messages_handler, account, to=jid, body="?", reply_to="3AUNKNOWN1")
    assert (status, refused["param"]) == (422, "reply_to")


def test_a_group_needs_the_number_when_several_are_connected(messages_handler, svc, account):
    second = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="2", status="connected")
    assert second.instance_id
    body = {"to": "120363025246125888@g.us", "body": "hi"}
    status, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "instance_id")
    assert "instance_id" in error["message"]


@pytest.mark.parametrize("to", ["120363025246125888@newsletter", "abc@g.us", "status@broadcast"])
def test_what_is_no_group_stays_refused(messages_handler, account, to):
    status, answer = _post(messages_handler, account, to=to, body="x")
    assert (status, answer["param"]) == (422, "to")


def test_an_otp_never_goes_to_a_group(messages_handler, svc, environment):
    arn = boto3.client("kms").create_key(Description="otp")["KeyMetadata"]["Arn"]
    environment.set(sealing.KMS_KEY_ENV, arn)
    account = make_account(svc)
    body = {"instance_id": account.instance_id, "to": "120363025246125888@g.us"}
    status, _, answer = call(messages_handler, "POST", "/messages/otp", body=body, headers=account.auth)
    assert (status, answer["param"]) == (422, "to")
