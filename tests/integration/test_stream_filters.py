"""GET /stream refuses filters that could never match (the real handler on moto), and filters by families."""

from __future__ import annotations

import asyncio
import json

import pytest
from support.accounts import make_account
from support.apigw import LambdaContext, call, http_event

from bzapper.domain.clock import now_ms
from bzapper.domain.events import envelope
from bzapper.domain.model import Principal
from bzapper.services.stream import event_stream
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event


@pytest.fixture
def stream_api(aws, environment):
    environment.set("BZ_STREAM_MAX_SECONDS", "0")  # an accepted stream ends at once, after its `retry:`
    return load_function("stream").handler


def _get(stream_api, account, query: str):
    return call(stream_api, "GET", "/stream", query=query, headers=account.auth)


def _opens(stream_api, account, query: str) -> bool:
    """True when the stream is accepted: 200, an event stream, its first line the reconnection delay."""
    response = stream_api(http_event("GET", "/stream", query=query, headers=account.auth), LambdaContext())
    content_type = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-type", "")
    accepted = response["statusCode"] == 200 and content_type.startswith("text/event-stream")
    return accepted and response["body"].startswith("retry: ")


@pytest.mark.parametrize(
    "types",
    ["foo", "MESSAGE.SENT", "message.sent,message.teleported", "nothing.*", ",", "%20,%20"],
)
def test_unknown_or_empty_types_are_refused_at_types(stream_api, account, types):
    status, _, error = _get(stream_api, account, f"types={types}")
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "types")
    assert error["message"]


@pytest.mark.parametrize(
    "types", ["message.sent", "message.sent,%20message.read", "message.*", "message.*,webhook.test"]
)
def test_known_types_and_families_open_the_stream(stream_api, account, types):
    assert _opens(stream_api, account, f"types={types}")


def test_an_instance_of_another_account_or_a_made_up_one_is_not_found(stream_api, svc, account):
    other = make_account(svc)
    for instance_id in (other.instance_id, "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "nope"):
        status, _, error = _get(stream_api, account, f"instance_id={instance_id}")
        assert (status, error["code"]) == (404, "not_found")
    assert _opens(stream_api, account, f"instance_id={account.instance_id}")
    assert _opens(stream_api, other, f"instance_id={other.instance_id}")


def test_the_error_is_translated_in_the_accounts_locale(stream_api, svc):
    brazilian = make_account(svc, locale="pt-BR")
    _, _, error = _get(stream_api, brazilian, "types=foo")
    assert (error["locale"], error["message"]) == ("pt-BR", "Tipo de evento desconhecido em types.")


def _consume(*events: dict) -> None:
    records = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"rh{i}", "Body": json.dumps({"detail-type": e["type"], "detail": e})}
        for i, e in enumerate(events)
    ]
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-event-log"
    load_function("event_log").handler(sqs_event(records, arn, "us-east-1"), LambdaContext())


def test_a_family_filter_delivers_that_family_only(svc, account):
    def event(event_type: str, n: int) -> dict:
        return envelope(
            event_type,
            at_ms=now_ms(),
            account_id=account.account_id,
            instance_id=account.instance_id,
            livemode=False,
            data={"n": n},
            identity=(event_type, str(n)),
        )

    sent, test, read = event("message.sent", 1), event("webhook.test", 2), event("message.read", 3)
    _consume(sent, test, read)
    polls = iter(range(2))

    async def disconnected() -> bool:
        return next(polls, None) is None

    async def collect() -> list[str]:
        principal = Principal(account.account_id, "test", "en")
        body = event_stream(
            svc,
            principal,
            0,
            instance_id=None,
            types={"message.*"},
            disconnected=disconnected,
            recheck=lambda: principal,
        )
        return [chunk.split("\n")[0] async for chunk in body if chunk.startswith("id: ")]

    assert asyncio.run(collect()) == [f"id: {sent['id']}", f"id: {read['id']}"]
