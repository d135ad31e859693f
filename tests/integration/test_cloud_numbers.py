"""A Cloud API number through the real handlers on moto (KMS included), Graph being a fake transport that answers
as Meta documents: connected with its token sealed, a send through the cloud-sends queue and its consumer, Meta's
signed webhooks through /cloud/webhook and the statuses consumer into message statuses, events and the inbox."""

from __future__ import annotations

import itertools
import json
import time

import boto3
import httpx
import pytest
from support.accounts import Account, make_account
from support.apigw import LambdaContext, call, http_event
from support.environment import Environment
from support.meta import PHONE_NUMBER_ID, TEST_SECRET, WABA_ID, contacts, envelope, signed, status, text_message
from support.reports import CapturingPublisher

from bzapper.adapters import sealing
from bzapper.adapters.aws.models import InstanceModel, MessageModel
from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.engines.cloud.graph import GraphApi
from bzapper.topology import CLOUD_QUEUE
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.pollers import deliver_batch

TOKEN = "EAAG-integration-token-9876"
TO = "+5511988888888"


class FakeGraph:
    """The few Graph endpoints a send and a connection use, answering in Meta's shapes."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._ids = itertools.count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") == "Bearer invalid-token":
            return httpx.Response(
                401,
                json={
                    "error": {
                        "message": "Invalid OAuth access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "x",
                    }
                },
            )
        path = request.url.path
        if request.method == "GET" and path.endswith(f"/{PHONE_NUMBER_ID}"):
            return httpx.Response(
                200,
                json={
                    "display_phone_number": "+1 555-078-3881",
                    "verified_name": "Acme Inc",
                    "quality_rating": "GREEN",
                    "id": PHONE_NUMBER_ID,
                },
            )
        if request.method == "POST" and path.endswith("/messages"):
            body = json.loads(request.content)
            if body.get("status") == "read":
                return httpx.Response(200, json={"success": True})
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": f"wamid.FAKE{next(self._ids)}"}],
                },
            )
        return httpx.Response(404, json={"error": {"message": "Unknown path", "code": 100}})

    def sends(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/messages")]


@pytest.fixture
def graph(svc, aws, environment: Environment) -> FakeGraph:
    environment.set(sealing.KMS_KEY_ENV, boto3.client("kms").create_key(Description="tokens")["KeyMetadata"]["Arn"])
    fake = FakeGraph()
    svc.cloud = GraphApi(
        live_url="https://graph.test",
        test_url="http://sim.test/graph",
        version="v23.0",
        transport=httpx.MockTransport(fake),
    )
    return fake


@pytest.fixture
def tenant(svc, graph) -> Account:
    return make_account(svc)


@pytest.fixture
def instances_handler(aws):
    return load_function("instances").handler


@pytest.fixture
def cloud_handler(aws):
    return load_function("cloud").handler


def connect(handler, account: Account, token: str = TOKEN):
    body = {
        "name": "Official",
        "engine": "cloud",
        "cloud": {"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID, "access_token": token},
    }
    return call(handler, "POST", "/instances", body=body, headers=account.auth)


def drain(queue: str, handler_name: str) -> None:
    reader = SqsReader(settings().queue(queue, fifo=True))
    handler = load_function(handler_name).handler
    while deliver_batch(reader, handler, handler_name, settings().region):
        pass


def contact_writes_first(cloud_handler, to: str = TO) -> None:
    """Free-form messages need the contact's 24-hour window open: the contact writes first, through Meta."""
    digits = to.lstrip("+")
    message = text_message("hi", wamid=f"wamid.first-{digits}", at=int(time.time()), **{"from": digits})
    assert webhook(cloud_handler, envelope({"contacts": contacts(wa_id=digits), "messages": [message]}))[0] == 200
    drain("status-updates", "statuses")


def webhook(handler, payload, secret=TEST_SECRET, tamper: bool = False):
    body, header = signed(payload, secret)
    if tamper:
        body = body.replace(b"hello", b"HELLO")
    return call(handler, "POST", "/cloud/webhook", raw_body=body.decode(), headers={"X-Hub-Signature-256": header})


def test_a_cloud_number_is_connected_with_its_token_sealed_and_never_shown(instances_handler, tenant, graph):
    status, _, body = connect(instances_handler, tenant)

    assert status == 201, body
    assert (body["engine"], body["status"], body["phone"], body["push_name"]) == (
        "cloud",
        "connected",
        "+15550783881",
        "Acme Inc",
    )
    assert body["cloud"] == {
        "phone_number_id": PHONE_NUMBER_ID,
        "waba_id": WABA_ID,
        "token_last4": "9876",
        "display_phone_number": "+1 555-078-3881",
        "verified_name": "Acme Inc",
        "quality_rating": "GREEN",
    }
    assert TOKEN not in json.dumps(InstanceModel.get(body["id"]).cloud)
    assert graph.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    _, _, listed = call(instances_handler, "GET", "/instances", headers=tenant.auth)
    assert TOKEN not in json.dumps(listed)


def test_a_refused_token_and_a_taken_number_are_refused_in_our_shape(instances_handler, tenant, svc):
    status, _, body = connect(instances_handler, tenant, token="invalid-token")
    assert (status, body["code"], body["param"]) == (422, "cloud_token_invalid", "cloud.access_token")
    assert "token" in body["message"]

    assert connect(instances_handler, tenant)[0] == 201
    status, _, body = connect(instances_handler, make_account(svc))
    assert (status, body["code"]) == (409, "cloud_number_taken")


@pytest.mark.parametrize("token", ["EAAG\u00e9token", "EAAG token", "EAAG\ttoken", "\u0000"])
def test_a_token_that_cannot_travel_in_a_header_is_a_422_not_a_500(instances_handler, tenant, token):
    """The contract fuzz: a non-ASCII token crashed the Graph call encoding its Authorization header."""
    status, _, body = connect(instances_handler, tenant, token=token)
    assert (status, body["code"], body["param"]) == (422, "validation_failed", "cloud.access_token")


def test_send_webhook_statuses_and_a_duplicate(instances_handler, messages_handler, cloud_handler, tenant, graph, svc):
    _, _, instance = connect(instances_handler, tenant)
    contact_writes_first(cloud_handler)
    publisher = CapturingPublisher()
    svc.events = publisher

    status, _, accepted = call(
        messages_handler,
        "POST",
        "/messages/text",
        headers=tenant.auth,
        body={"instance_id": instance["id"], "to": TO, "body": "hello"},
    )
    assert status == 202
    drain(CLOUD_QUEUE, "cloud_send")  # the cloud consumer sends it through Graph

    [sent] = graph.sends()
    assert (sent["to"], sent["type"], sent["text"]["body"]) == ("5511988888888", "text", "hello")
    wamid = MessageModel.get(accepted["message_id"]).wa_message_id
    assert wamid == "wamid.FAKE1"

    payload = envelope({"statuses": [status_of(wamid, "sent"), status_of(wamid, "delivered")]})
    assert webhook(cloud_handler, payload)[:1] == (200,)
    assert webhook(cloud_handler, payload)[0] == 200  # Meta delivers it again
    drain("status-updates", "statuses")

    _, _, message = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=tenant.auth)
    assert message["status"] == "delivered"
    assert [change["status"] for change in message["history"]] == ["queued", "sending", "sent", "delivered"]
    types = [event["type"] for event in publisher.events if event["type"].startswith("message.")]
    assert sorted(set(types)) == ["message.delivered", "message.queued", "message.sent"]
    assert len({event["id"] for event in publisher.events if event["type"] == "message.sent"}) == 1

    drain(CLOUD_QUEUE, "cloud_send")
    assert len(graph.sends()) == 1  # nothing sent twice


def status_of(wamid: str, state: str) -> dict:
    return status(wamid, state)


def test_inbound_reaches_the_inbox_and_a_tampered_webhook_changes_nothing(
    instances_handler, cloud_handler, inbox_api, tenant, graph, svc
):
    _, _, instance = connect(instances_handler, tenant)
    payload = envelope({"contacts": contacts(), "messages": [text_message("hello from meta")]})

    status, _, refused = webhook(cloud_handler, payload, tamper=True)
    assert (status, refused["code"]) == (401, "unauthorized") and refused["request_id"]
    assert webhook(cloud_handler, payload, secret="someone-elses-secret")[0] == 401
    drain("status-updates", "statuses")
    _, _, listed = call(inbox_api, "GET", "/conversations", query=f"instance_id={instance['id']}", headers=tenant.auth)
    assert listed["data"] == []

    status, _, queued = webhook(cloud_handler, payload)
    assert (status, queued) == (200, {"queued": 1})
    drain("status-updates", "statuses")

    _, _, listed = call(inbox_api, "GET", "/conversations", query=f"instance_id={instance['id']}", headers=tenant.auth)
    [row] = listed["data"]
    assert row["unread_count"] == 1 and row["last_message"]["text"] == "hello from meta"
    assert (row["phone"], row["name"]) == ("+16315551181", "Kerry Fisher")


def test_the_webhook_verification_challenge(cloud_handler, environment: Environment):
    environment.set("BZ_CLOUD_VERIFY_TOKEN", "verify-me")
    response = cloud_handler(
        http_event(
            "GET", "/cloud/webhook", query="hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"
        ),
        LambdaContext(),
    )
    assert (response["statusCode"], response["body"]) == (200, "1158201444")
    status, _, body = call(
        cloud_handler, "GET", "/cloud/webhook", query="hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"
    )
    assert (status, body["code"]) == (403, "forbidden")


def test_a_pair_rate_refusal_hides_the_job_and_keeps_it(
    instances_handler, messages_handler, cloud_handler, tenant, graph, svc
):
    _, _, instance = connect(instances_handler, tenant)
    contact_writes_first(cloud_handler)
    refusals = [
        httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#131056) Pair rate limit hit",
                    "type": "OAuthException",
                    "code": 131056,
                    "fbtrace_id": "y",
                }
            },
        )
    ]
    answer = graph.__call__

    def first_refused(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages") and refusals:
            graph.requests.append(request)
            return refusals.pop()
        return answer(request)

    svc.cloud = GraphApi(
        live_url="https://graph.test",
        test_url="http://sim.test/graph",
        version="v23.0",
        transport=httpx.MockTransport(first_refused),
    )
    status, _, accepted = call(
        messages_handler,
        "POST",
        "/messages/text",
        headers=tenant.auth,
        body={"instance_id": instance["id"], "to": TO, "body": "paced"},
    )
    assert status == 202
    reader = SqsReader(settings().queue(CLOUD_QUEUE, fifo=True))
    handler = load_function("cloud_send").handler
    postpone, hidden = svc.delivery_jobs.postpone, []

    def recorded(queue_arn: str, receipt_handle: str, seconds: int) -> None:
        postpone(queue_arn, receipt_handle, seconds)  # the real ChangeMessageVisibility, on moto
        hidden.append((queue_arn.rsplit(":", 1)[-1], seconds))

    svc.delivery_jobs.postpone = recorded

    assert deliver_batch(reader, handler, "cloud_send", settings().region) == 0  # refused: kept, not deleted
    assert hidden == [(settings().queue(CLOUD_QUEUE, fifo=True), 6)]  # Meta's pair rate: 6 s at least
    assert MessageModel.get(accepted["message_id"]).status == "sending"
    assert reader.receive(wait_seconds=0) == []  # hidden for its backoff (6 s), by ChangeMessageVisibility


def test_a_test_contact_writes_to_a_cloud_number_through_the_simulators_control(instances_handler, tenant, svc):
    _, _, instance = connect(instances_handler, tenant)
    forwarded = []

    class Simulator:
        enabled = True

        def cloud_inbound(self, phone_number_id, sender, message_type, content, push_name):
            forwarded.append((phone_number_id, sender, message_type, content, push_name))
            return "wamid.SIM1"

    svc.sandbox = Simulator()  # type: ignore[assignment]
    status, _, body = call(
        load_function("sandbox").handler,
        "POST",
        f"/sandbox/instances/{instance['id']}/inbound",
        body={"from": "+5511966660001", "type": "text", "body": "oi", "push_name": "Maria"},
        headers=tenant.auth,
    )

    assert (status, body) == (202, {"wa_message_id": "wamid.SIM1"})
    assert forwarded == [(PHONE_NUMBER_ID, "+5511966660001", "text", {"body": "oi"}, "Maria")]
