"""The sandbox API group against moto, with the sandbox network served on a loopback thread."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from support.accounts import Account, make_account
from support.apigw import call
from support.sandbox import point_at, served_network

from bzapper.config import settings
from bzapper.engines.sandbox.derived import default_phone
from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

PHONE = "+5511988888888"
JID = "5511988888888@s.whatsapp.net"
OWN = "+5511955550001"
GROUP = "120363025246125888@g.us"


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxNetwork]:
    yield from served_network(monkeypatch)


@pytest.fixture
def sandbox(aws: None, network: SandboxNetwork) -> Any:
    return load_function("sandbox").handler


@pytest.fixture
def unpaired(svc: Any, account: Account, network: SandboxNetwork) -> Account:
    """The account with a new sandbox instance that no phone has scanned yet (the test account's own is paired)."""
    ref = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="New", status="disconnected")
    return Account(account.account_id, account.api_key, ref.instance_id)


def scan(handler: Any, account: Account, body: dict | None = None, instance_id: str | None = None, **headers: str):
    path = f"/sandbox/instances/{instance_id or account.instance_id}/scan"
    return call(handler, "POST", path, body=body, headers=account.auth | headers)


def inbound(handler: Any, account: Account, body: dict, instance_id: str | None = None):
    path = f"/sandbox/instances/{instance_id or account.instance_id}/inbound"
    return call(handler, "POST", path, body=body, headers=account.auth)


def events(network: SandboxNetwork, account: Account) -> list[dict]:
    taken = network.poll([account.instance_id], max_events=100)
    network.ack([event["event_id"] for event in taken])
    return taken


# -- scan ------------------------------------------------------------------------------------------------


def test_scanning_the_qr_of_an_open_instance_connects_it(sandbox, network, unpaired) -> None:
    network.connect(unpaired.account_id, unpaired.instance_id)  # what the worker does when it opens it

    status, _, body = scan(sandbox, unpaired)

    phone = default_phone(unpaired.instance_id)
    assert status == 200
    assert body == {
        "instance_id": unpaired.instance_id,
        "state": "connected",
        "phone": phone,
        "lid": lid_for(phone),
        "push_name": f"Sandbox {phone[-4:]}",
    }
    assert [(e["kind"], e["state"]) for e in events(network, unpaired)] == [
        ("state", "pairing"),
        ("state", "connected"),
    ]


def test_scanning_before_the_worker_opened_it_pairs_it_for_then(sandbox, network, unpaired) -> None:
    status, _, body = scan(sandbox, unpaired, {"phone": "+55 11 95555-0001"})

    assert (status, body["state"], body["phone"]) == (200, "disconnected", OWN)
    assert network.connect(unpaired.account_id, unpaired.instance_id)["state"] == "connected"


def test_confirming_a_pairing_code(sandbox, network, unpaired) -> None:
    network.connect(unpaired.account_id, unpaired.instance_id)
    code = network.pairing_code(unpaired.account_id, unpaired.instance_id, OWN)

    status, _, wrong = scan(sandbox, unpaired, {"code": "AAAA-AAAA"}, **{"Accept-Language": "pt-BR"})
    assert (status, wrong["code"], wrong["param"], wrong["locale"]) == (422, "validation_failed", "code", "pt-BR")
    assert "código de pareamento" in wrong["message"]

    status, _, body = scan(sandbox, unpaired, {"code": code})
    assert (status, body["state"], body["phone"]) == (200, "connected", OWN)


def test_scanning_with_another_number_once_paired_is_a_409(sandbox, network, unpaired) -> None:
    scan(sandbox, unpaired, {"phone": OWN})
    assert scan(sandbox, unpaired, {"phone": OWN})[0] == 200  # the same phone again: nothing changes
    status, _, body = scan(sandbox, unpaired, {"phone": "+5511955550002"})
    assert (status, body["code"]) == (409, "already_connected")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"phone": "+5511900000001"}, "not_on_whatsapp", "phone"),
        ({"phone": "not a phone"}, "validation_failed", "phone"),
        ({"phone": lid_for(PHONE)}, "validation_failed", "phone"),
        ({"code": "short"}, "validation_failed", "code"),
        ({"surprise": 1}, "validation_failed", "surprise"),
    ],
)
def test_invalid_scans_are_422s(sandbox, network, unpaired, body, code, param) -> None:
    status, _, error = scan(sandbox, unpaired, body)
    assert (status, error["code"], error["param"]) == (422, code, param)
    assert network.instance(unpaired.account_id, unpaired.instance_id)["paired"] is False


# -- inbound ----------------------------------------------------------------------------------------------


def test_a_contact_writes_to_the_instance(sandbox, network, unpaired) -> None:
    network.connect(unpaired.account_id, unpaired.instance_id, OWN)
    events(network, unpaired)

    status, _, body = inbound(sandbox, unpaired, {"from": PHONE, "type": "text", "body": "Oi!", "push_name": "Ana"})

    assert status == 202
    [event] = events(network, unpaired)
    assert event["wa_message_id"] == body["wa_message_id"]
    assert (event["kind"], event["chat_jid"], event["type"], event["content"]) == (
        "inbound",
        JID,
        "text",
        {"body": "Oi!"},
    )
    assert event["sender"] == {"jid": JID, "phone": PHONE, "lid": lid_for(PHONE), "push_name": "Ana"}


def test_inbound_media_and_from_me(sandbox, network, unpaired) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    image = {"mime_type": "image/png", "data_base64": base64.b64encode(b"png bytes").decode()}

    status, _, body = inbound(
        sandbox,
        unpaired,
        {"from": JID, "type": "image", "content": {"media": image, "caption": "eu"}, "from_me": True},
    )

    assert status == 202
    network.connect(unpaired.account_id, unpaired.instance_id)
    [message] = [e for e in network.poll([unpaired.instance_id]) if e["kind"] == "inbound"]
    assert (message["from_me"], message["sender"]["phone"]) == (True, OWN)
    assert network.media(message["content"]["media"]["sandbox_media_id"]) == ("image/png", b"png bytes")
    assert message["wa_message_id"] == body["wa_message_id"]


def test_a_given_wa_id_is_kept(sandbox, network, unpaired) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    body = {"from": PHONE, "type": "text", "body": "x", "wa_message_id": "3AFIXED01"}
    assert inbound(sandbox, unpaired, body)[2] == {"wa_message_id": "3AFIXED01"}


def test_a_participant_writes_in_a_group(sandbox, network, unpaired) -> None:
    network.connect(unpaired.account_id, unpaired.instance_id, OWN)
    events(network, unpaired)
    group = {"from": PHONE, "type": "text", "group": GROUP, "group_name": "Orders team"}

    status, _, body = inbound(sandbox, unpaired, {**group, "body": "Oi, grupo", "push_name": "Maria"})
    status_me, _, _ = inbound(sandbox, unpaired, {**group, "body": "eu", "from_me": True})

    assert (status, status_me) == (202, 202)
    participant, own = events(network, unpaired)
    assert participant["wa_message_id"] == body["wa_message_id"]
    assert (participant["chat_jid"], participant["chat_name"], participant["from_me"]) == (GROUP, "Orders team", False)
    assert participant["sender"] == {"jid": JID, "phone": PHONE, "lid": lid_for(PHONE), "push_name": "Maria"}
    assert (own["chat_jid"], own["from_me"], own["sender"]["phone"]) == (GROUP, True, OWN)
    # The participant's phone shows it written in the group: a group receipt naming them reads it.
    [sent] = network.sent_by(unpaired.account_id, PHONE)
    assert sent["group_jid"] == GROUP


@pytest.mark.parametrize("group", ["12ab@g.us", "120363025246125888@s.whatsapp.net", "status@broadcast", ""])
def test_an_invalid_group_is_a_422(sandbox, network, unpaired, group) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    status, _, error = inbound(sandbox, unpaired, {"from": PHONE, "type": "text", "body": "x", "group": group})
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "group"), error


def test_inbound_to_an_unpaired_instance_is_a_409(sandbox, network, unpaired) -> None:
    status, _, body = inbound(sandbox, unpaired, {"from": PHONE, "type": "text", "body": "x"})
    assert (status, body["code"]) == (409, "instance_not_connected")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"from": "+5511900000001", "type": "text", "body": "x"}, "not_on_whatsapp", "from"),
        ({"from": "123456789012345@lid", "type": "text", "body": "x"}, "not_on_whatsapp", "from"),
        ({"from": "garbage", "type": "text", "body": "x"}, "validation_failed", "from"),
        ({"from": PHONE, "type": "otp", "body": "x"}, "validation_failed", "type"),
        ({"from": PHONE, "type": "text"}, "validation_failed", "content.body"),
        (
            {"from": PHONE, "type": "image", "content": {"media": {"mime_type": "image/png", "data_base64": "%"}}},
            "validation_failed",
            "content",
        ),
        ({"type": "text", "body": "x"}, "validation_failed", "from"),
    ],
)
def test_invalid_inbound_is_a_422(sandbox, network, unpaired, body, code, param) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    status, _, error = inbound(sandbox, unpaired, body)
    assert (status, error["code"], error["param"]) == (422, code, param), error
    network.connect(unpaired.account_id, unpaired.instance_id)
    assert [e for e in events(network, unpaired) if e["kind"] == "inbound"] == []


_TARGET = {"wa_message_id": "3AFIXED01", "chat_jid": JID, "from_me": True}
_MEDIA = {"mime_type": "image/png", "data_base64": base64.b64encode(b"png bytes").decode()}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"type": "location", "content": {"latitude": "x"}}, "content.latitude"),
        ({"type": "location", "content": {"latitude": 999, "longitude": 0}}, "content.latitude"),
        ({"type": "location", "content": {"latitude": 0}}, "content.longitude"),
        ({"type": "reaction", "content": {}}, "content.target"),
        ({"type": "reaction", "content": {"target": _TARGET, "emoji": "no"}}, "content.emoji"),
        ({"type": "reaction", "content": {"target": {"wa_message_id": "3A"}, "emoji": ""}}, "content.target.chat_jid"),
        ({"type": "edit", "content": {}}, "content.target"),
        ({"type": "edit", "content": {"target": _TARGET, "body": ""}}, "content.body"),
        ({"type": "revoke", "content": {"target": _TARGET, "extra": 1}}, "content.extra"),
        ({"type": "text", "body": ""}, "body"),
        ({"type": "text", "content": {"body": ""}}, "content.body"),
        ({"type": "text", "content": {"body": "x" * 70_000}}, "content.body"),
        ({"type": "text", "body": "x", "content": {"body": "y"}}, "content.body"),
        ({"type": "image", "body": "x", "content": {"media": _MEDIA}}, "body"),
        ({"type": "image", "content": {"caption": "no media"}}, "content.media"),
        ({"type": "image", "content": {"media": {**_MEDIA, "mime_type": "png"}}}, "content.media.mime_type"),
        ({"type": "poll", "content": {"name": "Day?", "options": ["Mon", "mon"]}}, "content.options"),
        ({"type": "poll", "content": {"name": "Day?", "options": ["Mon"]}}, "content.options"),
        ({"type": "contact", "content": {"contacts": [{"name": "Maria", "phones": []}]}}, "content.contacts.0.phones"),
        ({"type": "unknown", "content": {}}, "content.raw_type"),
        ({"type": "text", "body": "x", "group_name": "Orders team"}, "group_name"),
    ],
)
def test_content_no_phone_could_send_is_a_422(sandbox, network, unpaired, extra, param) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    status, _, error = inbound(sandbox, unpaired, {"from": PHONE, **extra})
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param), error
    network.connect(unpaired.account_id, unpaired.instance_id)
    assert [e for e in events(network, unpaired) if e["kind"] == "inbound"] == []


def test_an_invalid_content_message_is_translated(sandbox, network, unpaired) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    body = {"from": PHONE, "type": "location", "content": {"latitude": 999, "longitude": 0}}
    path = f"/sandbox/instances/{unpaired.instance_id}/inbound"
    status, _, error = call(sandbox, "POST", path, body=body, headers=unpaired.auth | {"Accept-Language": "pt-BR"})
    assert (status, error["locale"]) == (422, "pt-BR")
    assert error["message"] == "O campo 'content.latitude' é inválido."


@pytest.mark.parametrize(
    ("message_type", "content", "delivered"),
    [
        ("location", {"latitude": -23.5, "longitude": -46.6, "name": "MASP"}, None),
        ("reaction", {"target": _TARGET, "emoji": "👍"}, None),
        ("reaction", {"target": _TARGET, "emoji": ""}, None),
        ("edit", {"target": _TARGET, "body": "fixed"}, None),
        ("revoke", {"target": _TARGET}, None),
        (
            "poll",
            {"name": "Day?", "options": ["Mon", "Tue"]},
            {"name": "Day?", "options": ["Mon", "Tue"], "selectable_count": 1},
        ),
        ("unknown", {"raw_type": "eventMessage"}, None),
        (
            "text",
            {"body": "sim", "reply_to": {**_TARGET, "preview": "Oi"}, "mentions": [JID]},
            None,
        ),
    ],
)
def test_content_as_whatsapp_delivers_it_is_injected(
    sandbox, network, unpaired, message_type, content, delivered
) -> None:
    network.connect(unpaired.account_id, unpaired.instance_id, OWN)
    events(network, unpaired)
    status, _, body = inbound(sandbox, unpaired, {"from": PHONE, "type": message_type, "content": content})
    assert status == 202, body
    [event] = events(network, unpaired)
    assert (event["type"], event["content"]) == (message_type, delivered or content)


def test_injected_content_gets_the_shapes_required_fields(sandbox, network, unpaired) -> None:
    """What every phone sends is filled in: an audio's voice flag, a document's name, a contact's vCards."""
    network.connect(unpaired.account_id, unpaired.instance_id, OWN)
    events(network, unpaired)
    card = {"name": "Maria", "phones": [{"number": "+5511977770001"}]}
    for message_type, content in (
        ("audio", {"media": _MEDIA}),
        ("document", {"media": {**_MEDIA, "filename": "menu.png"}}),
        ("contact", {"contacts": [card]}),
    ):
        assert inbound(sandbox, unpaired, {"from": PHONE, "type": message_type, "content": content})[0] == 202
    audio, document, contact = events(network, unpaired)
    assert audio["content"]["voice"] is False
    assert document["content"]["filename"] == "menu.png"
    assert contact["content"]["contacts"] == [card]
    assert contact["content"]["vcards"][0].startswith("BEGIN:VCARD")


def test_the_invalid_content_message_says_why(sandbox, network, unpaired) -> None:
    network.scan(unpaired.account_id, unpaired.instance_id, OWN)
    bad = {"from": PHONE, "type": "image", "content": {"media": {"mime_type": "image/png", "data_base64": "%"}}}
    assert "data_base64" in inbound(sandbox, unpaired, bad)[2]["message"]


# -- who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["scan", "inbound"])
def test_another_accounts_instance_is_not_found(sandbox, network, svc, account, action) -> None:
    other = make_account(svc)
    before = network.instance(other.account_id, other.instance_id)
    body = {"from": PHONE, "type": "text", "body": "x"} if action == "inbound" else {}
    for instance_id in (other.instance_id, "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "nonsense"):
        path = f"/sandbox/instances/{instance_id}/{action}"
        status, _, error = call(sandbox, "POST", path, body=body, headers=account.auth)
        assert (status, error["code"]) == (404, "not_found")
    assert network.instance(other.account_id, other.instance_id) == before  # nothing reached it


def test_live_keys_are_refused(sandbox, network, svc, account) -> None:
    live_key = svc.accounts.create_key(account.account_id, "live")
    headers = {"Authorization": f"Bearer {live_key}"}
    for action, body in (("scan", {}), ("inbound", {"from": PHONE, "type": "text", "body": "x"})):
        path = f"/sandbox/instances/{account.instance_id}/{action}"
        status, _, error = call(sandbox, "POST", path, body=body, headers=headers)
        # A live key can never reach the sandbox: it finds nothing there, as for a route that does not exist
        # (docs/accounts.md; it was a 403 before self-serve live keys existed).
        assert (status, error["code"]) == (404, "not_found")


def test_no_key_is_a_401(sandbox, account) -> None:
    status, _, error = call(sandbox, "POST", f"/sandbox/instances/{account.instance_id}/scan", body={})
    assert (status, error["code"]) == (401, "unauthorized")


def test_an_unreachable_network_is_a_503(aws, account, monkeypatch) -> None:
    point_at(monkeypatch, "http://127.0.0.1:9")
    try:
        status, headers, error = scan(load_function("sandbox").handler, account)
    finally:
        settings.cache_clear()
    assert (status, error["code"], headers.get("retry-after")) == (503, "temporarily_unavailable", "1")


def test_without_a_sandbox_network_it_is_not_supported(aws, account, monkeypatch) -> None:
    point_at(monkeypatch, None)
    status, _, error = scan(load_function("sandbox").handler, account)
    assert (status, error["code"]) == (403, "not_supported")


# -- what contacts received -------------------------------------------------------------------------------


def test_what_a_contact_received(sandbox, network, account) -> None:
    network.connect(account.account_id, account.instance_id, OWN)
    network.send(account.account_id, account.instance_id, JID, "3EB0A", {"type": "text", "body": "Hi"})
    status, _, body = call(sandbox, "GET", "/sandbox/contacts/%2B5511988888888/messages", headers=account.auth)
    assert status == 200
    assert [(m["wa_message_id"], m["message"]) for m in body["data"]] == [("3EB0A", {"type": "text", "body": "Hi"})]


def test_what_a_contact_received_in_a_group(sandbox, network, account) -> None:
    network.connect(account.account_id, account.instance_id, OWN)
    created = network.create_group(account.account_id, account.instance_id, "Orders", [PHONE, "+5511900010001"])
    jid = created["group"]["jid"]
    network.send(account.account_id, account.instance_id, jid, "3EB0G", {"type": "text", "body": "Hi all"})
    status, _, body = call(sandbox, "GET", "/sandbox/contacts/%2B5511988888888/messages", headers=account.auth)
    assert status == 200
    assert [(m["wa_message_id"], m["group_jid"], m["message"]) for m in body["data"]] == [
        ("3EB0G", jid, {"type": "text", "body": "Hi all"})
    ]
    # The invite-only contact got an invite to the group instead.
    status, _, body = call(sandbox, "GET", "/sandbox/contacts/%2B5511900010001/messages", headers=account.auth)
    [invite] = body["data"]
    assert (invite["group_jid"], invite["message"]["type"]) == (jid, "group_invite")
    # A one-to-one message names no group.
    network.send(account.account_id, account.instance_id, JID, "3EB0H", {"type": "text", "body": "Hi"})
    status, _, body = call(sandbox, "GET", "/sandbox/contacts/%2B5511988888888/messages", headers=account.auth)
    assert body["data"][-1]["group_jid"] is None


def test_a_simulated_contact_joins_a_group_by_its_link(sandbox, network, account) -> None:
    network.connect(account.account_id, account.instance_id, OWN)
    jid = network.create_group(account.account_id, account.instance_id, "Orders", [])["group"]["jid"]
    link = network.invite_link(account.account_id, account.instance_id, jid)
    path = "/sandbox/contacts/%2B5511988888888/join"
    status, _, body = call(sandbox, "POST", path, body={"invite_link": link}, headers=account.auth)
    assert (status, body) == (200, {"group_jid": jid})
    phones = [p["phone"] for p in network.group_info(account.account_id, account.instance_id, jid)["participants"]]
    assert phones[1:] == [PHONE]  # after the creator
    revoked = network.invite_link(account.account_id, account.instance_id, jid, reset=True)
    assert revoked != link
    status, _, error = call(sandbox, "POST", path, body={"invite_link": link}, headers=account.auth)
    assert (status, error["param"]) == (422, "invite_link")
