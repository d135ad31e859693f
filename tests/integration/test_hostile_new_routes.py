"""Hostile input on the routes of the groups, settings, templates and Cloud API work: every refusal is a 4xx in
our error shape, never a 500 (a verified Meta webhook may still carry any JSON at all)."""

from __future__ import annotations

import json

import pytest
from support.accounts import make_account
from support.apigw import call
from support.meta import PHONE_NUMBER_ID, TEST_SECRET

from bzapper.domain.cloud import sign
from bzapper_dev.local.functions import load_function

GROUP = "120363025246125888@g.us"

REQUESTS = [
    ("groups", "GET", "/groups", None, "instance_id=%00"),
    ("groups", "GET", "/groups/%00%40g.us", None, "instance_id=inst_x"),
    ("groups", "GET", "/groups/1234%2F5%40g.us", None, "instance_id=inst_x"),
    ("groups", "POST", "/groups", {"instance_id": "inst_x", "subject": "x" * 5000, "participants": ["+1"]}, None),
    ("groups", "POST", "/groups", {"instance_id": None, "subject": None, "participants": "abc"}, None),
    ("groups", "PATCH", f"/groups/{GROUP}", {"instance_id": "inst_x", "picture": "../../etc"}, None),
    ("groups", "POST", "/groups/join", {"instance_id": "inst_x", "invite_link": "javascript:alert(1)"}, None),
    ("groups", "POST", f"/groups/{GROUP}/participants", {"instance_id": "inst_x", "action": "nuke"}, None),
    ("messages", "GET", "/templates", None, "instance_id=../../x"),
    (
        "messages",
        "POST",
        "/messages/template",
        {"instance_id": "inst_x", "to": "+5511988888888", "template": {"name": "", "language": "\u0000"}},
        None,
    ),
    (
        "messages",
        "POST",
        "/messages/template",
        {
            "instance_id": "inst_x",
            "to": "+5511988888888",
            "template": {"name": "a", "language": "en", "components": "x"},
        },
        None,
    ),
    ("instances", "PATCH", "/instances/inst_x", {"settings": {"proxy_url": "socks5://[::1"}}, None),
    ("instances", "PATCH", "/instances/inst_x", {"settings": {"proxy_url": "http://u:p@169.254.169.254:80"}}, None),
    ("instances", "PATCH", "/instances/inst_x", {"settings": "x"}, None),
    (
        "instances",
        "POST",
        "/instances",
        {
            "name": "c",
            "engine": "cloud",
            "cloud": {"phone_number_id": "\u0000", "waba_id": "1" * 500, "access_token": ""},
        },
        None,
    ),
    ("instances", "POST", "/instances", {"name": "c", "engine": "cloud", "cloud": "x"}, None),
    ("sandbox", "POST", "/sandbox/instances/inst_x/call", {"from": "not a number"}, None),
    ("sandbox", "POST", "/sandbox/contacts/%00/join", {"invite_link": "x"}, None),
]


@pytest.mark.parametrize(("group", "method", "path", "body", "query"), REQUESTS)
def test_hostile_requests_are_refused_in_our_shape(aws, svc, group, method, path, body, query):
    account = make_account(svc)
    kwargs = {
        "headers": account.auth,
        **({"body": body} if body is not None else {}),
        **({"query": query} if query else {}),
    }
    status, _, answer = call(load_function(group).handler, method, path, **kwargs)
    assert 400 <= status < 500 and {"code", "message", "locale"} <= set(answer)


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/messages/image", {"to": "+5511988887777"}),
        ("/messages/video", {"to": "+5511988887777"}),
        ("/status/image", {}),
    ],
)
def test_an_empty_media_id_is_an_unknown_file_not_a_500(aws, svc, path, extra):
    """Found by a hostile pass: `media_id: ""` passed the one-of-two check (it is not None), then the send read it
    as absent and asserted a URL."""
    account = make_account(svc)
    body = {"instance_id": account.instance_id, "media_id": "", "caption": "c", **extra}
    status, _, answer = call(load_function("messages").handler, "POST", path, headers=account.auth, body=body)
    assert (status, answer["code"], answer["param"]) == (422, "validation_failed", "media_id")


def _change(value: object) -> bytes:
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry, "x", None]}).encode()


def _meta_value(**fields: object) -> dict:
    return {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID}, **fields}


SIGNED_BODIES = [
    b"not json",
    b"[]",
    b'{"object": "whatsapp_business_account", "entry": "x"}',
    _change("x"),
    _change({"metadata": "x", "messages": [1, 2]}),
    _change(_meta_value(statuses="x", contacts=7, messages={"a": 1})),
    _change(_meta_value(statuses=[{"id": "wamid.1", "status": "failed", "errors": "boom"}])),
    _change(_meta_value(statuses=[{"id": "wamid.1", "status": "failed", "errors": [7]}])),
    _change(
        _meta_value(
            messages=[{"id": "w1", "from": "5511988887777", "type": "location", "location": {"latitude": "north"}}]
        )
    ),
    _change(
        _meta_value(
            messages=[{"id": "w2", "from": "5511988887777", "type": "contacts", "contacts": [{"name": "x", "org": 3}]}]
        )
    ),
    _change(
        _meta_value(
            messages=[
                {
                    "id": "w3",
                    "from": "5511988887777",
                    "type": "interactive",
                    "interactive": {"type": "list_reply", "list_reply": "x"},
                }
            ]
        )
    ),
    _change(
        _meta_value(
            contacts=[{"wa_id": "5511988887777", "profile": "x"}],
            messages=[{"id": "w4", "from": "5511988887777", "type": "text"}],
        )
    ),
]


@pytest.mark.parametrize("body", SIGNED_BODIES)
def test_a_verified_webhook_with_any_json_is_answered_never_a_500(aws, svc, body):
    status, _, answer = call(
        load_function("cloud").handler,
        "POST",
        "/cloud/webhook",
        raw_body=body.decode(),
        headers={"X-Hub-Signature-256": sign(body, TEST_SECRET)},
    )
    assert status in (200, 400), answer


@pytest.mark.parametrize(
    "header", ["", "sha256=", "sha256=zz", "md5=abc", "sha256=" + "0" * 64 + ",sha256=" + "0" * 64]
)
def test_a_malformed_signature_is_a_401(aws, svc, header):
    status, _, answer = call(
        load_function("cloud").handler, "POST", "/cloud/webhook", raw_body="{}", headers={"X-Hub-Signature-256": header}
    )
    assert (status, answer["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=%00",
        "hub.challenge=" + "9" * 300,
    ],
)
def test_a_malformed_verification_is_refused(aws, svc, query):
    status, _, answer = call(load_function("cloud").handler, "GET", "/cloud/webhook", query=query)
    assert 400 <= status < 500 and answer["code"]
