"""Event log, webhook endpoints, fan-out and signed delivery with retries — real handlers on moto."""

from __future__ import annotations

import dataclasses
import json

import pytest
from standardwebhooks.webhooks import Webhook
from support.accounts import make_account
from support.apigw import LambdaContext, call
from support.trickle import TRICKLE_BYTES, trickle_server

from bzapper.adapters import http as http_adapter
from bzapper.adapters.aws.models import WebhookModel
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.events import envelope
from bzapper.domain.transport import HttpOutcome
from bzapper.domain.webhooks import DISABLE_AFTER_MS, MAX_ATTEMPTS
from bzapper.services import webhooks as webhooks_service
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event

ARN = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-webhook-deliveries"


@pytest.fixture(autouse=True)
def _public_dns(public_dns):
    """Every test here registers endpoints on example.com."""


@pytest.fixture
def webhooks_api(aws):
    return load_function("webhooks").handler


def _event(account, event_type="message.sent", at=None, **data):
    return envelope(
        event_type,
        at_ms=at or now_ms(),
        account_id=account.account_id,
        instance_id=account.instance_id,
        livemode=False,
        data={"message_id": "msg_x", **data},
        identity=(event_type, str(at)),
    )


def _bridge(event: dict, message_id: str = "m1") -> dict:
    """What an EventBridge rule puts in SQS: the bus envelope, our event in `detail`."""
    body = {
        "version": "0",
        "id": "eb-1",
        "detail-type": event["type"],
        "source": "bzapper",
        "account": "123456789012",
        "time": event["created"],
        "region": "us-east-1",
        "resources": [],
        "detail": event,
    }
    return {"MessageId": message_id, "ReceiptHandle": "rh", "Body": json.dumps(body)}


class Receiver:
    """Stands for a customer's endpoint: answers from a script, records what it got."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, bytes, dict]] = []

    def post(self, url, body, headers, timeout):
        self.requests.append((url, body, headers))
        status = self.answers.pop(0) if self.answers else 200
        return HttpOutcome(status, 3, None)


def _create(webhooks_api, account, **body):
    return call(
        webhooks_api, "POST", "/webhooks", body={"url": "https://example.com/hook", **body}, headers=account.auth
    )


def test_webhook_crud_shows_the_secret_once_and_isolates_accounts(webhooks_api, svc, account):
    status, _, created = _create(webhooks_api, account, events=["message.*"], description="crm")
    assert status == 201
    assert created["secret"].startswith("whsec_") and created["status"] == "enabled"
    assert created["events"] == ["message.*"]

    _, _, listed = call(webhooks_api, "GET", "/webhooks", headers=account.auth)
    assert [item["id"] for item in listed["data"]] == [created["id"]]
    assert listed["data"][0]["secret"] is None

    status, _, patched = call(
        webhooks_api, "PATCH", f"/webhooks/{created['id']}", body={"events": ["message.read"]}, headers=account.auth
    )
    assert (status, patched["events"]) == (200, ["message.read"])

    other = make_account(svc)
    for method, path in (
        ("GET", f"/webhooks/{created['id']}"),
        ("DELETE", f"/webhooks/{created['id']}"),
        ("POST", f"/webhooks/{created['id']}/rotate-secret"),
    ):
        assert call(webhooks_api, method, path, headers=other.auth)[0] == 404

    assert call(webhooks_api, "DELETE", f"/webhooks/{created['id']}", headers=account.auth)[0] == 204
    assert call(webhooks_api, "GET", f"/webhooks/{created['id']}", headers=account.auth)[0] == 404


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("http://example.com/hook", "url"),
        ("https://127.0.0.1/hook", "url"),
        ("https://10.0.0.8/hook", "url"),
        ("https://169.254.169.254/latest", "url"),
        ("ftp://example.com/x", "url"),
        ("https://user:pw@example.com/h", "url"),
    ],
)
def test_unsafe_urls_are_refused_outside_local_mode(webhooks_api, account, url, param):
    status, _, error = _create(webhooks_api, account, url=url)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param)


def test_unknown_event_types_and_too_many_endpoints_are_refused(webhooks_api, account):
    status, _, error = _create(webhooks_api, account, events=["message.sent", "message.teleported"])
    assert (status, error["param"]) == (422, "events.1")
    for _ in range(5):
        assert _create(webhooks_api, account)[0] == 201
    status, _, error = _create(webhooks_api, account)
    assert (status, error["code"]) == (409, "limit_exceeded")


def test_the_plan_limit_holds_when_the_index_lags_behind_concurrent_creates(webhooks_api, account, monkeypatch):
    """F20: ten concurrent creates each saw the account's endpoints before the others wrote theirs, and all ten
    were made. Here every create sees the index as it was before them (empty), as concurrent ones do: the slots
    taken in the creates' own transactions still stop the sixth."""
    monkeypatch.setattr(WebhookModel.by_account, "query", lambda *args, **kwargs: iter(()))
    made = [_create(webhooks_api, account)[0] for _ in range(7)]
    assert made == [201] * 5 + [409] * 2
    monkeypatch.undo()
    status, _, listed = call(webhooks_api, "GET", "/webhooks", headers=account.auth)
    assert (status, len(listed["data"])) == (200, 5)


def test_deleting_an_endpoint_frees_its_slot_for_the_next(webhooks_api, account):
    created = [_create(webhooks_api, account)[2] for _ in range(5)]
    assert _create(webhooks_api, account)[0] == 409
    assert call(webhooks_api, "DELETE", f"/webhooks/{created[2]['id']}", headers=account.auth)[0] == 204
    assert _create(webhooks_api, account)[0] == 201
    assert _create(webhooks_api, account)[0] == 409


def test_an_empty_events_list_is_refused_and_omitting_it_means_every_event(webhooks_api, account):
    status, _, error = _create(webhooks_api, account, events=[])
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "events")
    assert call(webhooks_api, "GET", "/webhooks", headers=account.auth)[2]["data"] == []

    status, _, created = _create(webhooks_api, account)
    assert (status, created["events"]) == (201, None)
    path = f"/webhooks/{created['id']}"
    call(webhooks_api, "PATCH", path, body={"events": ["message.read"]}, headers=account.auth)
    status, _, error = call(webhooks_api, "PATCH", path, body={"events": []}, headers=account.auth)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "events")
    assert call(webhooks_api, "GET", path, headers=account.auth)[2]["events"] == ["message.read"]  # unchanged
    status, _, patched = call(webhooks_api, "PATCH", path, body={"events": None}, headers=account.auth)
    assert (status, patched["events"]) == (200, None)


def _fan_out_and_take_job(svc, event):
    load_function("webhook_fanout").handler(sqs_event([_bridge(event)], "arn:x:q", "us-east-1"), LambdaContext())
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries")["QueueUrl"]
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])


def _dispatch(messages):
    handler = load_function("webhook_dispatch").handler
    return handler(sqs_event(messages, ARN, "us-east-1"), LambdaContext())


def test_a_subscribed_endpoint_gets_one_signed_delivery(webhooks_api, svc, account):
    _, _, hook = _create(webhooks_api, account, events=["message.sent"])
    _, _, other_hook = _create(webhooks_api, account, events=["message.read"])
    receiver = Receiver(200)
    svc.http = receiver
    event = _event(account)

    jobs = _fan_out_and_take_job(svc, event)
    assert len(jobs) == 1  # only the subscribed endpoint
    assert _dispatch(jobs) == {"batchItemFailures": []}
    assert _fan_out_and_take_job(svc, event) == []  # a redelivered event finds its delivery done

    [(url, body, headers)] = receiver.requests
    assert url == "https://example.com/hook"
    assert headers["webhook-id"] == event["id"]
    assert Webhook(hook["secret"]).verify(body, headers) == event  # Standard Webhooks, over the exact bytes
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    [delivery] = deliveries["data"]
    assert delivery["status"] == "delivered" and delivery["attempts"][0]["status_code"] == 200
    assert other_hook["id"] != hook["id"]


def test_failures_are_retried_by_visibility_and_final_answers_are_not(webhooks_api, svc, account, monkeypatch):
    _, _, hook = _create(webhooks_api, account)
    postponed: list[int] = []
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda arn, handle, seconds: postponed.append(seconds))
    receiver = Receiver(503, 429, 200)
    svc.http = receiver
    jobs = _fan_out_and_take_job(svc, _event(account))

    assert _dispatch(jobs) == {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}
    assert _dispatch(jobs) == {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}
    assert _dispatch(jobs) == {"batchItemFailures": []}
    assert 4 <= postponed[0] <= 6 and 24 <= postponed[1] <= 36  # first retry within ~5 s, then backing off
    assert len({headers["webhook-id"] for _, _, headers in receiver.requests}) == 1  # stable across retries
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    assert [a["status_code"] for a in deliveries["data"][0]["attempts"]] == [503, 429, 200]

    gone = Receiver(410)
    svc.http = gone
    jobs = _fan_out_and_take_job(svc, _event(account, "message.read"))
    assert _dispatch(jobs) == {"batchItemFailures": []}  # a 410 is final: no retry
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    assert deliveries["data"][0]["status"] == "failed"


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_an_endpoint_answering_a_byte_at_a_time_is_a_timeout_recorded_and_retried(
    webhooks_api, svc, account, monkeypatch, mode
):
    # The real HTTP client against a local endpoint that trickles its answer, a byte every 0.1 s, under a 1 s
    # deadline: the attempt is given up long before the 200 bytes are out (the server says how far it got).
    local = dataclasses.replace(settings(), local_mode=True)
    monkeypatch.setattr(http_adapter, "settings", lambda: local)
    monkeypatch.setattr(webhooks_service, "settings", lambda: local)
    monkeypatch.setattr(webhooks_service, "TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda arn, handle, seconds: None)
    with trickle_server(mode) as server:
        _, _, hook = _create(webhooks_api, account, url=server.url)
        jobs = _fan_out_and_take_job(svc, _event(account))
        assert _dispatch(jobs) == {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}  # retried
    assert server.hung_up and server.sent < TRICKLE_BYTES // 2
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    [delivery] = deliveries["data"]
    [attempt] = delivery["attempts"]
    assert (delivery["status"], attempt["status_code"], attempt["error"]) == ("retrying", None, "timeout")


def test_the_last_attempt_marks_the_delivery_failed_and_moves_it_to_the_dlq(webhooks_api, svc, account, monkeypatch):
    import boto3

    _, _, hook = _create(webhooks_api, account)
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda *args: None)
    svc.http = Receiver(*([500] * MAX_ATTEMPTS))
    jobs = _fan_out_and_take_job(svc, _event(account))
    results = [_dispatch(jobs) for _ in range(MAX_ATTEMPTS)]
    retry_later = {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}
    assert results[:-1] == [retry_later] * (MAX_ATTEMPTS - 1)
    assert results[-1] == {"batchItemFailures": []}  # done with: deleted here, kept in the DLQ

    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    assert deliveries["data"][0]["status"] == "failed"
    assert len(deliveries["data"][0]["attempts"]) == MAX_ATTEMPTS
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries-dlq")["QueueUrl"]
    [dead] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(dead["Body"])["delivery_id"] == deliveries["data"][0]["id"]
    assert _dispatch(jobs) == {"batchItemFailures": []}  # anything after that is a no-op


def test_an_endpoint_failing_for_three_days_is_disabled_with_a_notice(webhooks_api, svc, account, monkeypatch):
    class Captured:
        def __init__(self):
            self.events = []

        def publish(self, events):
            self.events.extend(events)

    svc.events = Captured()
    svc.accounts.update(account.account_id, locale="pt-BR")
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda *args: None)
    _, _, hook = _create(webhooks_api, account)
    failing_since(hook["id"], now_ms() - DISABLE_AFTER_MS - 1)
    svc.http = Receiver(500)
    _dispatch(_fan_out_and_take_job(svc, _event(account)))

    _, _, after = call(webhooks_api, "GET", f"/webhooks/{hook['id']}", headers=account.auth)
    assert after["status"] == "disabled"
    [notice] = [e for e in svc.events.events if e["type"] == "webhook.disabled"]
    assert notice["data"]["webhook_id"] == hook["id"] and "desativado" in notice["data"]["message"]
    assert _fan_out_and_take_job(svc, _event(account, "message.read")) == []  # disabled: nothing more


def test_rotation_signs_with_both_secrets_and_replay_resends_the_same_event(webhooks_api, svc, account):
    _, _, hook = _create(webhooks_api, account)
    _, _, rotated = call(webhooks_api, "POST", f"/webhooks/{hook['id']}/rotate-secret", headers=account.auth)
    assert rotated["secret"] != hook["secret"]
    receiver = Receiver(200, 200)
    svc.http = receiver
    event = _event(account)
    _dispatch(_fan_out_and_take_job(svc, event))
    _, body, headers = receiver.requests[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(hook["secret"]).verify(body, headers)["id"] == event["id"]
    assert Webhook(rotated["secret"]).verify(body, headers)["id"] == event["id"]

    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    delivery_id = deliveries["data"][0]["id"]
    status, _, queued = call(
        webhooks_api, "POST", f"/webhooks/{hook['id']}/deliveries/{delivery_id}/replay", headers=account.auth
    )
    assert (status, queued["event_id"]) == (202, event["id"])
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries")["QueueUrl"]
    _dispatch(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    assert [headers["webhook-id"] for _, _, headers in receiver.requests] == [event["id"], event["id"]]
    assert receiver.requests[0][1] == receiver.requests[1][1]  # the same bytes


def test_test_event_goes_to_that_endpoint_only(webhooks_api, svc, account):
    _, _, hook = _create(webhooks_api, account, events=["message.read"])
    status, _, queued = call(webhooks_api, "POST", f"/webhooks/{hook['id']}/test", headers=account.auth)
    assert status == 202
    receiver = Receiver(200)
    svc.http = receiver
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries")["QueueUrl"]
    _dispatch(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    [(_, body, headers)] = receiver.requests
    assert json.loads(body)["type"] == "webhook.test" and headers["webhook-id"] == queued["event_id"]


def test_a_disabled_endpoint_gets_no_delivery_for_new_events_and_its_test_fails_without_a_post(
    webhooks_api, svc, account
):
    _, _, hook = _create(webhooks_api, account)
    path = f"/webhooks/{hook['id']}"
    call(webhooks_api, "PATCH", path, body={"status": "disabled"}, headers=account.auth)
    assert _fan_out_and_take_job(svc, _event(account)) == []  # no delivery: nothing to replay after re-enabling

    status, _, queued = call(webhooks_api, "POST", f"{path}/test", headers=account.auth)
    assert status == 202
    receiver = Receiver(200)
    svc.http = receiver
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries")["QueueUrl"]
    _dispatch(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    assert receiver.requests == []
    _, _, page = call(webhooks_api, "GET", f"{path}/deliveries", headers=account.auth)
    [delivery] = page["data"]
    assert (delivery["id"], delivery["status"]) == (queued["delivery_id"], "failed")
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [(None, "endpoint disabled or deleted")]


def test_patch_refuses_null_url_or_status(webhooks_api, account):
    _, _, hook = _create(webhooks_api, account)
    for body in ({"status": None}, {"url": None}):
        status, _, error = call(webhooks_api, "PATCH", f"/webhooks/{hook['id']}", body=body, headers=account.auth)
        assert (status, error["code"]) == (422, "validation_failed")
    assert call(webhooks_api, "GET", "/webhooks", headers=account.auth)[0] == 200


def test_entitlements_count_webhooks(webhooks_api, account):
    for _ in range(2):
        _create(webhooks_api, account)
    _, _, body = call(load_function("account").handler, "GET", "/me/entitlements", headers=account.auth)
    assert body["usage"]["webhooks"] == 2


def test_deliveries_page_with_a_cursor_bound_to_their_endpoint(webhooks_api, account):
    _, _, hook = _create(webhooks_api, account)
    _, _, other = _create(webhooks_api, account)
    sent = [call(webhooks_api, "POST", f"/webhooks/{hook['id']}/test", headers=account.auth)[2] for _ in range(3)]
    for _ in range(2):
        call(webhooks_api, "POST", f"/webhooks/{other['id']}/test", headers=account.auth)

    def page(webhook_id, **query):
        params = "&".join(f"{k}={v}" for k, v in {"limit": 2, **query}.items())
        return call(webhooks_api, "GET", f"/webhooks/{webhook_id}/deliveries", headers=account.auth, query=params)

    _, _, first = page(hook["id"])
    _, _, rest = page(hook["id"], cursor=first["next_cursor"])
    assert first["has_more"] is True and rest["has_more"] is False and rest["next_cursor"] is None
    assert sorted(d["id"] for d in first["data"] + rest["data"]) == sorted(s["delivery_id"] for s in sent)

    _, _, theirs = page(other["id"], limit=1)
    for cursor in (theirs["next_cursor"], "ZGx2X2FueXRoaW5n", "x" * 100, first["next_cursor"][:-2]):
        status, _, error = page(hook["id"], cursor=cursor)
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "cursor"), cursor


class AwsCalls:
    """Every AWS call this process makes (botocore's one entry point), as (operation, table or queue)."""

    def __init__(self, monkeypatch) -> None:
        import botocore.client

        self.calls: list[tuple[str, str]] = []
        real = botocore.client.BaseClient._make_api_call

        def counted(client, operation, params):
            tables = [params["TableName"]] if "TableName" in params else sorted(params.get("RequestItems", {}))
            self.calls.append((operation, ",".join(table.rsplit("-", 1)[-1] for table in tables) or "-"))
            return real(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)

    def during(self, action) -> list[tuple[str, str]]:
        self.calls.clear()
        action()
        return [call for call in self.calls if call[0] not in ("ReceiveMessage", "GetQueueUrl")]


def test_a_delivery_makes_three_dynamodb_calls_and_a_failing_streak_writes_once(
    webhooks_api, svc, account, monkeypatch
):
    _, _, hook = _create(webhooks_api, account)
    svc.http = Receiver(200, 503, 503, 200)
    aws = AwsCalls(monkeypatch)
    read = ("BatchGetItem", "deliveries,webhooks")

    jobs = _fan_out_and_take_job(svc, _event(account))
    assert aws.during(lambda: _dispatch(jobs)) == [read, ("UpdateItem", "deliveries"), ("UpdateItem", "usage")]

    jobs = _fan_out_and_take_job(svc, _event(account, "message.read"))
    first_failure = aws.during(lambda: _dispatch(jobs))
    assert first_failure == [
        read,
        ("UpdateItem", "deliveries"),
        ("UpdateItem", "webhooks"),  # failing_since, the streak's start
        ("ChangeMessageVisibility", "-"),
    ]
    since = svc.webhooks.get(hook["id"]).failing_since
    assert aws.during(lambda: _dispatch(jobs)) == [read, ("UpdateItem", "deliveries"), ("ChangeMessageVisibility", "-")]
    assert svc.webhooks.get(hook["id"]).failing_since == since  # the streak keeps its start

    # Success after a streak: the endpoint is healthy again, and a later failure starts a new streak.
    recovered = aws.during(lambda: _dispatch(jobs))
    assert recovered == [read, ("UpdateItem", "deliveries"), ("UpdateItem", "webhooks"), ("UpdateItem", "usage")]
    assert svc.webhooks.get(hook["id"]).failing_since is None
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    assert [a["status_code"] for a in deliveries["data"][0]["attempts"]] == [503, 503, 200]


def test_an_endpoint_changed_after_fan_out_is_used_as_it_is_at_dispatch(webhooks_api, svc, account):
    _, _, hook = _create(webhooks_api, account)
    receiver = Receiver()
    svc.http = receiver
    jobs = _fan_out_and_take_job(svc, _event(account))
    moved = {"url": "https://example.com/moved"}
    assert call(webhooks_api, "PATCH", f"/webhooks/{hook['id']}", body=moved, headers=account.auth)[0] == 200
    _, _, rotated = call(webhooks_api, "POST", f"/webhooks/{hook['id']}/rotate-secret", headers=account.auth)
    _dispatch(jobs)
    [(url, body, headers)] = receiver.requests
    assert url == moved["url"] and Webhook(rotated["secret"]).verify(body, headers)  # the new secret already signs

    jobs = _fan_out_and_take_job(svc, _event(account, "message.read"))
    call(webhooks_api, "PATCH", f"/webhooks/{hook['id']}", body={"status": "disabled"}, headers=account.auth)
    assert _dispatch(jobs) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1  # nothing POSTed to a disabled endpoint
    _, _, deliveries = call(webhooks_api, "GET", f"/webhooks/{hook['id']}/deliveries", headers=account.auth)
    assert {d["event_type"]: d["status"] for d in deliveries["data"]} == {
        "message.sent": "delivered",
        "message.read": "failed",
    }


def test_keys_the_batch_read_hands_back_are_read_again_else_the_job_is_retried(webhooks_api, svc, account, monkeypatch):
    from bzapper.adapters.aws import clients, webhooks

    _create(webhooks_api, account)
    svc.http = Receiver()
    monkeypatch.setattr(webhooks.time, "sleep", lambda seconds: None)
    client = clients.dynamodb_connection().client
    real = client.batch_get_item
    throttled = {"left": 2}

    def batch_get_item(RequestItems):
        if throttled["left"]:
            throttled["left"] -= 1
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        return real(RequestItems=RequestItems)

    monkeypatch.setattr(client, "batch_get_item", batch_get_item)
    assert _dispatch(_fan_out_and_take_job(svc, _event(account))) == {"batchItemFailures": []}
    assert len(svc.http.requests) == 1

    throttled["left"] = 100  # never read: the record fails, SQS brings the job back, nothing was POSTed
    jobs = _fan_out_and_take_job(svc, _event(account, "message.read"))
    assert _dispatch(jobs) == {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}
    assert len(svc.http.requests) == 1


class RecoversDuringPost(Receiver):
    """An endpoint that fails this POST while a concurrent delivery to it succeeds (and ends the streak)."""

    def __init__(self, svc, webhook_id: str, streak_restarted_at: int | None) -> None:
        super().__init__(500)
        self.svc, self.webhook_id, self.restarted = svc, webhook_id, streak_restarted_at

    def post(self, url, body, headers, timeout):
        self.svc.webhooks.note_success(self.webhook_id)  # the other delivery got a 2xx
        if self.restarted is not None:  # and yet another one failed since: a new, short streak
            self.svc.webhooks.note_failure(self.webhook_id, self.restarted)
        return super().post(url, body, headers, timeout)


@pytest.mark.parametrize("restarted", [False, True])
def test_an_endpoint_that_recovered_during_the_post_is_not_disabled_on_a_stale_streak(
    webhooks_api, svc, account, monkeypatch, restarted
):
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda *args: None)
    published: list[dict] = []
    monkeypatch.setattr(svc.events, "publish", published.extend)
    _, _, hook = _create(webhooks_api, account)
    failing_since(hook["id"], now_ms() - DISABLE_AFTER_MS - 1)
    jobs = _fan_out_and_take_job(svc, _event(account))  # read before the POST: failing for just over 3 days
    restarted_at = now_ms() - 60_000 if restarted else None
    svc.http = RecoversDuringPost(svc, hook["id"], restarted_at)

    _dispatch(jobs)  # a 500: retried later

    _, _, after = call(webhooks_api, "GET", f"/webhooks/{hook['id']}", headers=account.auth)
    assert after["status"] == "enabled" and not [e for e in published if e["type"] == "webhook.disabled"]
    since = svc.webhooks.get(hook["id"]).failing_since
    if restarted:
        assert since == restarted_at  # the other failure's streak, 1 minute old, is kept
    else:
        assert since is not None and since > now_ms() - 60_000  # this failure starts a new streak


def test_keys_left_unprocessed_raise_without_a_last_vain_sleep(webhooks_api, svc, account, monkeypatch):
    from bzapper.adapters.aws import clients, webhooks

    _create(webhooks_api, account)
    svc.http = Receiver()
    slept: list[float] = []
    monkeypatch.setattr(webhooks.time, "sleep", slept.append)
    client = clients.dynamodb_connection().client
    never_read = lambda RequestItems: {"Responses": {}, "UnprocessedKeys": RequestItems}  # noqa: E731
    monkeypatch.setattr(client, "batch_get_item", never_read)

    jobs = _fan_out_and_take_job(svc, _event(account))
    assert _dispatch(jobs) == {"batchItemFailures": [{"itemIdentifier": jobs[0]["MessageId"]}]}
    assert len(slept) == webhooks._UNPROCESSED_RETRIES  # a sleep between attempts, none after the last
    assert svc.http.requests == []


def test_an_endpoint_that_recovered_between_the_reread_and_the_disable_stays_enabled(
    webhooks_api, svc, account, monkeypatch
):
    monkeypatch.setattr(svc.delivery_jobs, "postpone", lambda *args: None)
    published: list[dict] = []
    monkeypatch.setattr(svc.events, "publish", published.extend)
    _, _, hook = _create(webhooks_api, account)
    failing_since(hook["id"], now_ms() - DISABLE_AFTER_MS - 1)
    jobs = _fan_out_and_take_job(svc, _event(account))
    svc.http = Receiver(500)
    real_get = svc.webhooks.get

    def reread_then_a_success_lands(webhook_id):
        current = real_get(webhook_id)  # still failing for over 3 days: the dispatcher goes on to disable
        svc.webhooks.note_success(webhook_id)  # ...while a concurrent delivery's 2xx ends the streak
        return current

    monkeypatch.setattr(svc.webhooks, "get", reread_then_a_success_lands)
    _dispatch(jobs)

    _, _, after = call(webhooks_api, "GET", f"/webhooks/{hook['id']}", headers=account.auth)
    assert after["status"] == "enabled" and not [e for e in published if e["type"] == "webhook.disabled"]


def failing_since(webhook_id: str, at: int) -> None:
    """The endpoint's failure streak started at `at` (written as the store writes it)."""
    WebhookModel(webhook_id).update(actions=[WebhookModel.failing_since.set(at)])


def test_a_batch_of_deliveries_adds_its_usage_with_one_update(webhooks_api, svc, account, monkeypatch):
    from bzapper.adapters.aws.models import UsageModel

    _create(webhooks_api, account)
    svc.http = Receiver(200, 200)
    jobs = _fan_out_and_take_job(svc, _event(account)) + _fan_out_and_take_job(svc, _event(account, "message.read"))
    assert len(jobs) == 2
    aws = AwsCalls(monkeypatch)
    read = ("BatchGetItem", "deliveries,webhooks")

    calls = aws.during(lambda: _dispatch(jobs))

    assert calls == [read, ("UpdateItem", "deliveries"), read, ("UpdateItem", "deliveries"), ("UpdateItem", "usage")]
    assert sum(int(row.webhook_deliveries or 0) for row in UsageModel.scan()) == 2
