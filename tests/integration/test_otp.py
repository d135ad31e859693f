"""POST /messages/otp through the real handlers on moto (KMS included): one send, sealed in the priority
lane, the code in no table or queue in clear; the phone gets both messages; the echo is masked; every way
an OTP can fail (not queued, never taken, dead job, expired, unopenable) fails it refunded, never re-sent."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import LambdaContext, call
from support.environment import Environment
from support.leaks import dynamodb_items, leaks, sqs_messages, where
from support.reports import CapturingPublisher
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.adapters import sealing
from bzapper.adapters.aws.models import MessageModel
from bzapper.adapters.aws.usage import hour_of
from bzapper.config import settings
from bzapper.domain import otp
from bzapper.domain.clock import now_ms
from bzapper.domain.engine import PermanentFailure, SessionSpec
from bzapper.domain.inbox import OTP_MASK
from bzapper.domain.model import wallet_id
from bzapper.engines.sandbox.derived import otp_code_message_id
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services import otp as otp_service
from bzapper.services.outbox import sweep
from bzapper.topology import priority_queue_name, shard_queue_name
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import scheduled_event, sqs_event

TO = "+5511988888888"
ECHO_TO = "+5511900008123"  # the sandbox's echo range: the phone's own device shows what was sent
OWN_PHONE = "+5511955550001"


@pytest.fixture
def kms_key(aws, environment: Environment) -> str:
    arn = boto3.client("kms").create_key(Description="otp")["KeyMetadata"]["Arn"]
    environment.set(sealing.KMS_KEY_ENV, arn)
    return arn


@pytest.fixture
def otp_account(svc, kms_key) -> Account:
    return make_account(svc)


def _post(handler, account: Account, key: str | None = None, headers: dict | None = None, **body):
    headers = {**account.auth, **({"Idempotency-Key": key} if key else {}), **(headers or {})}
    payload = {"instance_id": account.instance_id, "to": TO, **body}
    return call(handler, "POST", "/messages/otp", body=payload, headers=headers)


def _balance(svc, account: Account) -> int:
    return svc.wallets.balance(wallet_id(account.account_id, "test"))


def _queue_url(name: str) -> str:
    return boto3.client("sqs").get_queue_url(QueueName=settings().queue(name, fifo=True))["QueueUrl"]


def _jobs(svc, account: Account, lane: str = "priority") -> list[dict]:
    shard = svc.instances.get(account.instance_id).shard
    name = priority_queue_name(shard) if lane == "priority" else shard_queue_name(shard)
    answer = boto3.client("sqs").receive_message(QueueUrl=_queue_url(name), MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def _stored(code: str) -> list[tuple[str, str]]:
    """Where, among every DynamoDB item and every queued message, the code is in any form."""
    return where({**dynamodb_items(boto3.client("dynamodb")), **sqs_messages(boto3.client("sqs"))}, [code])


def _engine(network) -> SandboxEngine:
    return SandboxEngine("http://unused", client=InProcessClient(network), unseal=sealing.engine_unseal())  # type: ignore[arg-type]


def _open(engine: SandboxEngine, network, account: Account, sink) -> None:
    online(network, account.account_id, account.instance_id, OWN_PHONE)
    engine.open(SessionSpec(account.instance_id, account.account_id, False, OWN_PHONE), sink)


# --- accepted, charged once, sealed -----------------------------------------------------------------------


def test_an_otp_is_one_send_sealed_in_the_priority_lane_and_stored_masked(messages_handler, svc, otp_account):
    before = _balance(svc, otp_account)
    status, _, accepted = _post(messages_handler, otp_account, client_reference="login-42")

    assert status == 202
    assert set(accepted) == {"message_id", "status", "client_reference", "code"}
    code = accepted["code"]
    assert len(code) == otp.CODE_LENGTH_DEFAULT and code.isdigit()
    price = before - _balance(svc, otp_account)
    assert price > 0
    entries, _ = svc.wallets.entries(wallet_id(otp_account.account_id, "test"), 10, None)
    assert len(entries) == 2  # the account's top-up, and one debit for two WhatsApp messages
    [usage] = svc.usage.hourly(otp_account.account_id, False, hour_of(now_ms()), hour_of(now_ms()))
    assert (usage.counts["sends"], usage.counts["otps"]) == (1, 1)

    item = MessageModel.get(accepted["message_id"])
    assert item.type == "otp"
    assert item.content["code"] == OTP_MASK and set(item.content) == {"body", "code", "expires"}
    assert "Test" in item.content["body"] and "10 minutes" in item.content["body"]

    assert _jobs(svc, otp_account, "shard") == []
    [job] = _jobs(svc, otp_account)
    assert job["message_id"] == accepted["message_id"]
    assert set(job["content"]) == {"body", "code_sealed"}
    assert job["content"]["code_sealed"].startswith("bzs1.")
    assert not leaks(json.dumps(job), code)
    assert _stored(code) == []

    status, _, shown = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=otp_account.auth)
    assert status == 200 and shown["content"]["code"] == OTP_MASK and code not in json.dumps(shown)


def test_the_phone_gets_the_text_then_the_code_and_the_echo_is_masked_everywhere(
    messages_handler, statuses_handler, svc, otp_account
):
    clock = FakeClock()
    network = fake_network(clock)
    sink: list[dict] = []
    engine = _engine(network)
    _open(engine, network, otp_account, sink.append)
    publisher = CapturingPublisher()
    svc.events = publisher

    code = "6047193528"
    status, _, accepted = _post(messages_handler, otp_account, to=ECHO_TO, code=code)
    assert status == 202 and "code" not in accepted  # a code we did not generate is never answered
    [job] = _jobs(svc, otp_account)
    engine.send(otp_account.instance_id, job)

    received = network.received(otp_account.account_id, ECHO_TO)
    assert [m["message"] for m in received] == [
        {"type": "text", "body": MessageModel.get(accepted["message_id"]).content["body"]},
        {"type": "text", "body": code},
    ]
    assert received[1]["wa_message_id"] == otp_code_message_id(job["wa_message_id"])

    # What the phone's own device shows comes back as fromMe inbound messages: the host guards them.
    sink.clear()
    engine.pump(0)
    echoes = [otp.guard_event(event) for event in sink if event["kind"] == "inbound"]
    assert len(echoes) == 2 and not any(leaks(json.dumps(event), code) for event in echoes)
    records = [
        {
            "MessageId": f"in-{index}",
            "ReceiptHandle": f"rh-{index}",
            "Body": json.dumps(
                {**{k: v for k, v in event.items() if k != "ack"}, "account_id": otp_account.account_id}
                | {"livemode": False}
            ),
            "Attributes": {"MessageGroupId": "g", "ApproximateReceiveCount": "1"},
        }
        for index, event in enumerate(echoes)
    ]
    # The inbox guards again what it stores (an engine that did not): the raw echo goes in too.
    raw = next(event for event in sink if event["kind"] == "inbound" and event["content"].get("body") == code)
    raw_body = {k: v for k, v in raw.items() if k != "ack"} | {"account_id": otp_account.account_id, "livemode": False}
    records.insert(0, {**records[0], "MessageId": "raw", "Body": json.dumps(raw_body)})
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"
    assert statuses_handler(sqs_event(records, arn, "us-east-1"), LambdaContext()) == {"batchItemFailures": []}

    inbox = load_function("inbox").handler
    status, _, thread = call(
        inbox,
        "GET",
        f"/conversations/{ECHO_TO}/messages",
        query=f"instance_id={otp_account.instance_id}",
        headers=otp_account.auth,
    )
    assert status == 200
    [bubble] = [m for m in thread["data"] if m["wa_message_id"] == otp_code_message_id(job["wa_message_id"])]
    assert bubble["content"] == {"body": OTP_MASK} and bubble["sent_from"] == "phone"
    assert code not in json.dumps(thread)
    # The text's echo is our own message (dropped); the code bubble's is stored once, masked, whichever
    # delivery came first, and every delivery publishes the same event.
    assert {(e["type"], e["id"]) for e in publisher.events} == {("message.received", publisher.events[0]["id"])}
    assert publisher.events[0]["data"]["content"] == {"body": OTP_MASK}
    assert not leaks(json.dumps(publisher.events), code)
    assert _stored(code) == []


def test_the_generated_text_speaks_the_accounts_language_or_the_requested_one(messages_handler, svc, kms_key):
    account = make_account(svc, locale="pt-BR")
    account_handler = load_function("account").handler

    def body_of(**request: Any) -> str:
        status, _, accepted = _post(messages_handler, account, **request)
        assert status == 202, accepted
        return MessageModel.get(accepted["message_id"]).content["body"]

    assert body_of(ttl_seconds=300).startswith("Test: seu código de verificação está na próxima mensagem")
    assert "5 minutos" in body_of(ttl_seconds=300)
    assert body_of(language="es", ttl_seconds=3600).startswith("Test: tu código de verificación")
    assert "It expires in 1 minute." in body_of(language="en", ttl_seconds=60)
    status, _, _ = call(account_handler, "PATCH", "/me", body={"locale": "es"}, headers=account.auth)
    assert status == 200
    assert body_of().startswith("Test: tu código de verificación")  # at once, not after the auth cache
    assert body_of(body="Acme: seu código chegou.") == "Acme: seu código chegou."


@pytest.mark.parametrize(
    ("request_body", "param"),
    [
        ({"code": "12ab56"}, "code"),
        ({"code": "123"}, "code"),
        ({"code": "12345678901"}, "code"),
        ({"code": "123456\n"}, "code"),
        ({"code": "123456", "length": 8}, "length"),
        ({"length": 3}, "length"),
        ({"length": 11}, "length"),
        ({"ttl_seconds": 59}, "ttl_seconds"),
        ({"ttl_seconds": 3601}, "ttl_seconds"),
        ({"language": "fr"}, "language"),
        ({"body": ""}, "body"),
        ({"code": "482913", "body": "Your code: 482913"}, "body"),
        ({"reply_to": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q"}, "reply_to"),
    ],
)
def test_what_an_otp_request_may_not_be(messages_handler, svc, otp_account, request_body: dict, param: str):
    before = _balance(svc, otp_account)
    status, _, error = _post(messages_handler, otp_account, **request_body)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param)
    assert _balance(svc, otp_account) == before and _jobs(svc, otp_account) == []
    for value in request_body.values():
        if isinstance(value, str) and value.strip().isdigit():
            # An error never repeats a code (the request id is random hex: "123" may turn up in it by chance).
            assert value.strip() not in json.dumps({k: v for k, v in error.items() if k != "request_id"})


def test_errors_are_translated_accept_language_first(messages_handler, svc, kms_key):
    account = make_account(svc, locale="es")
    status, _, error = _post(messages_handler, account, code="482913", body="Tu código: 482913")
    assert status == 422 and error["locale"] == "es"
    assert error["message"] == "El texto no debe contener el código: el código va solo en el segundo mensaje."
    status, _, error = _post(
        messages_handler, account, headers={"Accept-Language": "pt-BR"}, code="482913", body="Código 482913"
    )
    assert error["locale"] == "pt-BR"
    assert error["message"] == "O texto não pode conter o código: o código vai sozinho na segunda mensagem."


def test_without_a_sealing_key_otps_are_not_supported(messages_handler, svc, account, environment):
    environment.unset(sealing.KMS_KEY_ENV)
    before = _balance(svc, account)
    status, _, error = _post(messages_handler, account)
    assert (status, error["code"]) == (403, "not_supported")
    assert "sealing key" in error["message"]
    assert _balance(svc, account) == before


def test_kms_unavailable_is_a_503_and_nothing_is_charged(messages_handler, svc, otp_account, environment):
    environment.set(sealing.KMS_KEY_ENV, "arn:aws:kms:us-east-1:123456789012:key/00000000-dead-beef-0000-000000000000")
    before = _balance(svc, otp_account)
    status, headers, error = _post(messages_handler, otp_account, key="kms-down")
    assert (status, error["code"], headers.get("retry-after")) == (503, "temporarily_unavailable", "1")
    assert _balance(svc, otp_account) == before and _jobs(svc, otp_account) == []
    assert MessageModel.count() == 0
    environment.set(sealing.KMS_KEY_ENV, boto3.client("kms").create_key()["KeyMetadata"]["Arn"])
    status, _, _ = _post(messages_handler, otp_account, key="kms-down")  # the key was released: retry works
    assert status == 202


# --- idempotency --------------------------------------------------------------------------------------------


def test_a_replay_answers_the_same_message_without_the_code_which_is_stored_nowhere(messages_handler, svc, otp_account):
    status, _, first = _post(messages_handler, otp_account, key="login-7", length=10)
    code = first["code"]
    balance = _balance(svc, otp_account)

    status, headers, replay = _post(messages_handler, otp_account, key="login-7", length=10)
    assert status == 202 and headers["idempotent-replayed"] == "true"
    assert replay == {k: v for k, v in first.items() if k != "code"}
    assert _balance(svc, otp_account) == balance and len(_jobs(svc, otp_account)) == 1

    # The key's fingerprint leaves the code out (a hash of a few digits is the code): another code replays.
    status, _, given = _post(messages_handler, otp_account, key="login-8", code="5820193746")
    status, _, again = _post(messages_handler, otp_account, key="login-8", code="9999999999")
    assert again["message_id"] == given["message_id"]
    status, _, conflict = _post(messages_handler, otp_account, key="login-8", code="5820193746", to="+5511977776666")
    assert (status, conflict["code"]) == (422, "idempotency_conflict")
    assert _stored(code) == [] and _stored("5820193746") == []


# --- failing, never re-sending ------------------------------------------------------------------------------


class FailingQueue:
    def enqueue(self, message) -> None:
        raise ConnectionError("SQS unreachable")


def _status(message_id: str) -> tuple[str, str | None]:
    item = MessageModel.get(message_id, consistent_read=True)
    return item.status, item.error.code if item.error else None


def test_an_otp_that_could_not_be_queued_fails_at_once_refunded(messages_handler, svc, otp_account):
    publisher = CapturingPublisher()
    svc.events = publisher
    svc.jobs = FailingQueue()
    before = _balance(svc, otp_account)
    status, _, accepted = _post(messages_handler, otp_account)

    assert status == 202
    assert _status(accepted["message_id"]) == ("failed", otp.NOT_QUEUED)
    assert _balance(svc, otp_account) == before
    assert [e["type"] for e in publisher.events] == ["message.queued", "message.failed"]
    assert not leaks(json.dumps(publisher.events), accepted["code"])
    # The sweeper finds nothing to re-send: the record could not rebuild the job anyway.
    created = int(MessageModel.get(accepted["message_id"]).created_at)
    assert sweep(svc, grace_ms=30_000, now=created + 10**7) == 0


def test_the_outbox_never_resends_an_otp_and_fails_it_at_its_expiry(messages_handler, svc, otp_account, monkeypatch):
    # The process dies between the commit and the queue: neither the job nor the immediate failure happen.
    svc.jobs = FailingQueue()
    monkeypatch.setattr(otp_service, "fail_unsent", lambda *args: None)
    before = _balance(svc, otp_account)
    _, _, accepted = _post(messages_handler, otp_account, ttl_seconds=120)
    monkeypatch.undo()
    svc.jobs = __import__("bzapper.adapters.aws.queues", fromlist=["SqsJobQueue"]).SqsJobQueue()
    message_id = accepted["message_id"]
    item = MessageModel.get(message_id)
    created, expires = int(item.created_at), otp.expires_at_ms(item.content)
    assert created < expires <= created + 120_000  # the TTL runs from the request (sealed before the commit)

    assert sweep(svc, grace_ms=30_000, now=created + 31_000) == 0  # due, but never re-sent
    assert _jobs(svc, otp_account) == [] and _status(message_id) == ("queued", None)
    assert MessageModel.get(message_id).outbox_due == expires  # looked at again when it expires

    handler = load_function("outbox").handler
    monkeypatch.setattr("bzapper.services.outbox.now_ms", lambda: expires + 1)
    assert handler(scheduled_event("arn:aws:scheduler:x", "us-east-1"), LambdaContext()) == {"resent": 0}
    assert _status(message_id) == ("failed", otp.EXPIRED)
    assert _balance(svc, otp_account) == before and _jobs(svc, otp_account) == []
    assert _stored(accepted["code"]) == []


def test_a_dead_job_holds_only_the_sealed_code_and_fails_refunded(messages_handler, svc, otp_account):
    publisher = CapturingPublisher()
    svc.events = publisher
    sqs = boto3.client("sqs")
    shard = svc.instances.get(otp_account.instance_id).shard
    url, dlq_url = _queue_url(priority_queue_name(shard)), _queue_url(f"{priority_queue_name(shard)}-dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Operators' setting for this test: the lane gives up after one receive.
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    before = _balance(svc, otp_account)
    _, _, accepted = _post(messages_handler, otp_account, length=10)
    code = accepted["code"]

    assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) == 1  # a worker failed
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []) == []  # moved to the DLQ
    [dead] = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    job = json.loads(dead["Body"])
    assert job["content"]["code_sealed"].startswith("bzs1.") and not leaks(json.dumps(dead), code)

    dead_jobs = load_function("dead_jobs").handler
    answer = dead_jobs(sqs_event([dead], dlq_arn, "us-east-1"), LambdaContext())
    assert answer == {"batchItemFailures": []}
    assert _status(accepted["message_id"]) == ("failed", "send_failed")
    assert _balance(svc, otp_account) == before
    assert "message.failed" in [e["type"] for e in publisher.events]
    assert not leaks(json.dumps(publisher.events), code) and _stored(code) == []


def test_a_worker_never_sends_an_expired_or_unopenable_code(svc, otp_account):
    network = fake_network(FakeClock())
    engine = _engine(network)
    _open(engine, network, otp_account, lambda event: None)
    sealer = sealing.configured_sealer()
    assert sealer is not None

    def job(sealed: str, wa_id: str) -> dict:
        return {
            "message_id": "msg_1",
            "account_id": otp_account.account_id,
            "instance_id": otp_account.instance_id,
            "livemode": False,
            "type": "otp",
            "content": {"body": "Acme: your code follows.", "code_sealed": sealed},
            "to_jid": "5511988888888@s.whatsapp.net",
            "wa_message_id": wa_id,
        }

    expired = sealer.seal("3141592653", account_id=otp_account.account_id, expires_at_ms=now_ms() - 1)
    with pytest.raises(PermanentFailure) as failure:
        engine.send(otp_account.instance_id, job(expired, "3EB0EXPIRED"))
    assert failure.value.code == otp.EXPIRED
    local = sealing.LocalSealer(__import__("secrets").token_bytes(32))
    with pytest.raises(PermanentFailure) as failure:
        engine.send(
            otp_account.instance_id,
            job(local.seal("3141592653", account_id="a", expires_at_ms=now_ms() + 60_000), "3EB0OTHER"),
        )
    assert failure.value.code == otp.UNSEALABLE
    assert network.received(otp_account.account_id, TO) == []  # not even the text went out

    fresh = sealer.seal("3141592653", account_id=otp_account.account_id, expires_at_ms=now_ms() + 60_000)
    engine.send(otp_account.instance_id, job(fresh, "3EB0FRESH"))
    assert [m["message"]["body"] for m in network.received(otp_account.account_id, TO)][1] == "3141592653"


# --- the host: the code is in clear only inside it ----------------------------------------------------------


def test_a_real_host_opens_the_code_and_masks_its_echo_before_it_leaves(monkeypatch, tmp_path):
    import queue

    from bzapper.worker.hosts import HostPool
    from bzapper_dev.sandbox.network import SandboxNetwork
    from bzapper_dev.sandbox.server import serve_network

    key = sealing.new_local_key()
    monkeypatch.setenv(sealing.LOCAL_KEY_ENV, key)
    monkeypatch.setenv("BZ_LOCAL_MODE", "1")  # the host is a fresh process: it reads these at start
    network = SandboxNetwork()
    server, _ = serve_network(network, host="127.0.0.1", port=0)
    events: queue.Queue = queue.Queue()
    pool = HostPool("sandbox", {"sandbox_url": f"http://127.0.0.1:{server.server_address[1]}"}, events.put, per_host=1)
    try:
        online(network, "acct_1", "inst_1", OWN_PHONE)
        pool.open(SessionSpec("inst_1", "acct_1", False, OWN_PHONE))
        code = "2718281828"
        sealed = sealing.LocalSealer(__import__("base64").b64decode(key)).seal(
            code, account_id="acct_1", expires_at_ms=now_ms() + 60_000
        )
        job = {
            "message_id": "msg_1",
            "account_id": "acct_1",
            "instance_id": "inst_1",
            "livemode": False,
            "type": "otp",
            "content": {"body": "Acme: your code follows.", "code_sealed": sealed},
            "to_jid": "5511900008123@s.whatsapp.net",
            "wa_message_id": "3EB0HOST",
        }
        deadline = time.monotonic() + 30
        while True:  # the host opens the session asynchronously
            try:
                pool.call("inst_1", "send", job=job)
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert [m["message"]["body"] for m in network.received("acct_1", ECHO_TO)] == [
            "Acme: your code follows.",
            code,
        ]
        inbound: list[dict] = []
        while len(inbound) < 2:
            event = events.get(timeout=30)
            if event["kind"] == "inbound":
                inbound.append(event)
        assert {event["content"]["body"] for event in inbound} == {"Acme: your code follows.", OTP_MASK}
        assert not any(leaks(json.dumps(event), code) for event in inbound)
    finally:
        pool.shutdown()
        server.shutdown()
        server.server_close()
