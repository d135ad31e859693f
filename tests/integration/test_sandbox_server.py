"""The sandbox network's real HTTP server on 127.0.0.1 (a free port), driven by the real client."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bzapper.domain.engine import NotConnected, SessionSpec
from bzapper.engines.sandbox.client import SandboxNetworkClient, SandboxNetworkError
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.server import serve_network

JID = "5511988888888@s.whatsapp.net"
PHONE = "+5511988888888"
TEXT = {"type": "text", "body": "Hi"}


@pytest.fixture
def network() -> SandboxNetwork:
    # Real clock, short delays: receipts come within the test's patience.
    return SandboxNetwork(delivered_after=0.3, read_after=0.6)


@pytest.fixture
def base_url(network: SandboxNetwork) -> Iterator[str]:
    server, thread = serve_network(network)
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def online(client: SandboxNetworkClient, account_id: str, instance_id: str, phone: str | None = None) -> None:
    """Connect and pair an instance over HTTP, and ack its state events: ready to send."""
    client.connect(account_id, instance_id)
    client.scan(account_id, instance_id, phone)
    client.ack([e["event_id"] for e in client.poll([instance_id]) if e["kind"] == "state"])


@pytest.fixture
def client(base_url: str) -> Iterator[SandboxNetworkClient]:
    with SandboxNetworkClient(base_url) as c:
        for account_id in ("acc_1", "acc_2"):
            online(c, account_id, "ins_1")
        yield c


def test_health(client: SandboxNetworkClient) -> None:
    assert client.health() is True


def test_health_is_false_when_nobody_listens(base_url: str) -> None:
    with SandboxNetworkClient("http://127.0.0.1:9", timeout=1) as c:
        assert c.health() is False
        with pytest.raises(SandboxNetworkError) as info:
            c.reset()
        assert info.value.status_code is None


def test_send_then_the_contact_received_it(client: SandboxNetworkClient) -> None:
    ack = client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert ack["wa_message_id"] == "3EB0A"
    assert ack["duplicate"] is False
    assert isinstance(ack["server_timestamp_ms"], int)

    # "+" travels URL-encoded as %2B; the bare number and the JID name the same contact.
    for who in (PHONE, "5511988888888", JID):
        messages = client.received("acc_1", who)
        assert [(m["wa_message_id"], m["instance_id"], m["message"]) for m in messages] == [("3EB0A", "ins_1", TEXT)]
        assert messages[0]["received_at"] == ack["server_timestamp_ms"]


def test_encoded_plus_in_the_path(client: SandboxNetworkClient, base_url: str) -> None:
    client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    response = httpx.get(f"{base_url}/v1/accounts/acc_1/contacts/%2B5511988888888/messages")
    assert response.status_code == 200
    assert [m["wa_message_id"] for m in response.json()["data"]] == ["3EB0A"]


def test_repeated_wa_id_is_acked_again_and_dropped(client: SandboxNetworkClient) -> None:
    first = client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    again = client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert again == {**first, "duplicate": True}
    assert len(client.received("acc_1", PHONE)) == 1


def test_accounts_are_separate(client: SandboxNetworkClient) -> None:
    client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert client.received("acc_2", PHONE) == []


def test_long_poll_returns_as_soon_as_a_receipt_is_due(client: SandboxNetworkClient) -> None:
    # Timed from before the send: the receipt is due 0.3 s after the server took it, so it cannot come sooner
    # however long the send's answer took to reach us on a loaded machine.
    started = time.monotonic()
    client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)

    events = client.poll(["ins_1"], wait_seconds=20)

    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 10  # woken by the due receipt, far before the 20 s wait ends
    got = [(e["status"], e["wa_message_id"], e["kind"]) for e in events]
    delivered, read = ("delivered", "3EB0A", "receipt"), ("read", "3EB0A", "receipt")
    # The delivered receipt woke it; the read one (due 0.3 s later) is there too only when the wake-up was late.
    assert got in ([delivered], [delivered, read])


def test_long_poll_ends_empty(client: SandboxNetworkClient) -> None:
    started = time.monotonic()
    assert client.poll(["nobody"], wait_seconds=0.3) == []
    assert time.monotonic() - started >= 0.25


def test_ack_and_reappearance_after_a_worker_crash(client: SandboxNetworkClient, base_url: str) -> None:
    client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    time.sleep(0.7)
    # Invisible long enough that the next poll surely comes inside it, even on a loaded machine.
    taken = client.poll(["ins_1"], visibility_timeout=3)
    assert [e["status"] for e in taken] == ["delivered", "read"]
    assert client.poll(["ins_1"]) == []

    # The worker that took them dies without acking; a new one picks them up once they are visible.
    client.close()
    with SandboxNetworkClient(base_url) as successor:
        again = successor.poll(["ins_1"], wait_seconds=20)
        assert again == taken
        assert successor.ack([e["event_id"] for e in again] + [123456789]) == 2
        assert successor.poll(["ins_1"], wait_seconds=0.5) == []


def test_reset(client: SandboxNetworkClient) -> None:
    client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    client.reset()
    assert client.received("acc_1", PHONE) == []
    assert client.instance("acc_1", "ins_1")["paired"] is False
    online(client, "acc_1", "ins_1")
    assert client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)["duplicate"] is False


def test_bad_json_is_a_400(base_url: str) -> None:
    response = httpx.post(f"{base_url}/v1/send", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"account_id": "acc_1"},
        {"account_id": "acc_1", "instance_id": "i", "to_jid": JID, "wa_message_id": "w", "message": "hi"},
        {"account_id": "acc_1", "instance_id": "i", "to_jid": "garbage", "wa_message_id": "w", "message": {}},
    ],
)
def test_invalid_send_is_a_400(base_url: str, body: object) -> None:
    response = httpx.post(f"{base_url}/v1/send", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"instance_ids": "ins_1"},
        {"instance_ids": ["ins_1"], "max_events": 0},
        {"instance_ids": ["ins_1"], "wait_seconds": 21},
        {"instance_ids": ["ins_1"], "visibility_timeout": -1},
    ],
)
def test_invalid_poll_is_a_400(base_url: str, body: object) -> None:
    assert httpx.post(f"{base_url}/v1/poll", json=body).status_code == 400


def test_client_raises_on_an_error_answer(client: SandboxNetworkClient) -> None:
    with pytest.raises(SandboxNetworkError) as info:
        client.poll(["ins_1"], wait_seconds=60)
    assert info.value.status_code == 400
    assert info.value.body["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("POST", "/v1/nope", 404),
        ("GET", "/v1/accounts/acc_1/contacts", 404),
        ("GET", "/v1/send", 405),
        ("POST", "/v1/health", 405),
    ],
)
def test_unknown_paths_and_methods(base_url: str, method: str, path: str, status: int) -> None:
    response = httpx.request(method, base_url + path)
    assert response.status_code == status
    assert "error" in response.json()


def test_keep_alive_survives_errors(client: SandboxNetworkClient) -> None:
    # One connection serves an error then more requests: the server read every body it was sent.
    with pytest.raises(SandboxNetworkError):
        client.received("acc_1", "garbage")
    assert client.health() is True
    assert client.ack([]) == 0


def test_standalone_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bzapper_dev.sandbox.server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("sandbox network listening on http://127.0.0.1:")
        with SandboxNetworkClient(line.rsplit(" ", 1)[1].strip()) as c:
            assert c.health() is True
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


# -- devices, contacts and inbound over HTTP -----------------------------------------------------------


def test_pairing_by_code_over_http(client: SandboxNetworkClient) -> None:
    pairing = client.connect("acc_1", "ins_7")
    assert (pairing["state"], pairing["paired"]) == ("pairing", False)
    assert pairing["qr"].startswith("2@")

    code = client.pairing_code("acc_1", "ins_7", "+5511955550001")
    with pytest.raises(SandboxNetworkError) as wrong:
        client.scan("acc_1", "ins_7", code="AAAA-AAAA")
    assert (wrong.value.status_code, wrong.value.code) == (422, "invalid_pairing_code")
    state = client.scan("acc_1", "ins_7", code=code, push_name="Loja")

    assert (state["state"], state["phone"], state["push_name"]) == ("connected", "+5511955550001", "Loja")
    assert client.instance("acc_1", "ins_7") == state
    assert [(e["kind"], e["state"]) for e in client.poll(["ins_7"])] == [("state", "pairing"), ("state", "connected")]


def test_not_connected_is_a_409_that_the_client_raises_again(client: SandboxNetworkClient, base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/v1/send",
        json={"account_id": "acc_1", "instance_id": "ins_9", "to_jid": JID, "wa_message_id": "w", "message": TEXT},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["state"]) == ("not_connected", "disconnected")

    client.disconnect("acc_1", "ins_1")
    with pytest.raises(NotConnected) as held:
        client.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert held.value.state == "disconnected"
    client.logout("acc_1", "ins_1")
    with pytest.raises(NotConnected) as logged_out:
        client.check_numbers("acc_1", "ins_1", [PHONE])
    assert logged_out.value.state == "logged_out"


def test_a_refusal_is_a_422_with_its_code(client: SandboxNetworkClient) -> None:
    with pytest.raises(SandboxNetworkError) as refused:
        client.send("acc_1", "ins_1", "5511900000001@s.whatsapp.net", "3EB0A", TEXT)
    assert (refused.value.status_code, refused.value.code) == (422, "not_on_whatsapp")


def test_check_numbers_over_http(client: SandboxNetworkClient) -> None:
    [known, unknown] = client.check_numbers("acc_1", "ins_1", [PHONE, "123456789012345@lid"])
    assert (known["exists"], known["jid"], known["lid"].endswith("@lid")) == (True, JID, True)
    assert unknown["exists"] is False


def test_inbound_media_read_and_ack_over_http(client: SandboxNetworkClient) -> None:
    data = bytes(range(256)) * 64
    content = {"media": {"mime_type": "application/pdf", "data_base64": base64.b64encode(data).decode()}}
    wa_id = client.inject_inbound("acc_1", "ins_1", PHONE, "document", content | {"filename": "a.pdf"})

    [event] = client.poll(["ins_1"])

    assert (event["kind"], event["wa_message_id"], event["type"]) == ("inbound", wa_id, "document")
    media_id = event["content"]["media"]["sandbox_media_id"]
    assert client.media(media_id) == ("application/pdf", data)
    client.mark_read("acc_1", "ins_1", JID, [wa_id])
    assert [r["wa_message_ids"] for r in client.reads("acc_1", "ins_1")] == [[wa_id]]
    assert client.sent_by("acc_1", PHONE)[0]["read_at"] is not None
    assert client.ack([event["event_id"]]) == 1
    with pytest.raises(SandboxNetworkError) as gone:
        client.media(media_id)
    assert gone.value.status_code == 404


def test_a_group_message_and_its_receipt_over_http(client: SandboxNetworkClient) -> None:
    group = "120363025246125888@g.us"
    wa_id = client.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "oi"}, group=group, group_name="Orders")

    [event] = client.poll(["ins_1"])

    assert (event["wa_message_id"], event["chat_jid"], event["chat_name"]) == (wa_id, group, "Orders")
    assert event["sender"]["jid"] == JID
    client.mark_read("acc_1", "ins_1", group, [wa_id], sender_jid=JID)
    assert client.reads("acc_1", "ins_1")[-1]["sender_jid"] == JID
    assert client.sent_by("acc_1", PHONE)[0]["read_at"] is not None
    with pytest.raises(SandboxNetworkError) as refused:
        client.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"}, group="12ab@g.us")
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/connect", {"account_id": "acc_1"}),
        ("/v1/connect", {"account_id": "acc_1", "instance_id": "i", "phone": "garbage"}),
        ("/v1/scan", {"account_id": "acc_1", "instance_id": "i", "phone": 5511}),
        ("/v1/pairing-code", {"account_id": "acc_1", "instance_id": "i"}),
        ("/v1/check", {"account_id": "acc_1", "instance_id": "ins_1", "inputs": PHONE}),
        ("/v1/inbound", {"account_id": "acc_1", "instance_id": "ins_1", "from": PHONE, "type": "otp"}),
        ("/v1/inbound", {"account_id": "acc_1", "instance_id": "ins_1", "from": "garbage", "type": "text"}),
        ("/v1/inbound", {"account_id": "acc_1", "instance_id": "ins_1", "from": PHONE, "type": "text", "content": []}),
        (
            "/v1/inbound",
            {"account_id": "acc_1", "instance_id": "ins_1", "from": PHONE, "type": "text", "content": {}, "from_me": 1},
        ),
        (
            "/v1/inbound",
            {
                "account_id": "acc_1",
                "instance_id": "ins_1",
                "from": PHONE,
                "type": "image",
                "content": {"media": {"mime_type": "image/png", "data_base64": "%%%"}},
            },
        ),
        ("/v1/read", {"account_id": "acc_1", "instance_id": "ins_1", "chat_jid": JID, "wa_message_ids": [1]}),
    ],
)
def test_invalid_device_and_contact_calls_are_400s(client: SandboxNetworkClient, base_url: str, path, body) -> None:
    response = httpx.post(base_url + path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"


# -- the engine over HTTP ------------------------------------------------------------------------------


def test_the_engine_over_http(base_url: str, tmp_path) -> None:
    engine = SandboxEngine(base_url, media_dir=str(tmp_path), visibility_timeout=10)
    events: list[dict] = []
    engine.open(SessionSpec("ins_e", "acc_1", livemode=False), events.append)
    engine.pump(2)
    assert [(e["kind"], e["state"]) for e in events] == [("state", "pairing")]
    engine.client.scan("acc_1", "ins_e", "+5511955550001")

    engine.pump(2)
    ack = engine.send(
        "ins_e",
        {
            "message_id": "msg_1",
            "account_id": "acc_1",
            "instance_id": "ins_e",
            "livemode": False,
            "type": "text",
            "content": {"body": "Hi"},
            "to_jid": JID,
            "wa_message_id": "3EB0E",
        },
    )
    engine.client.inject_inbound(
        "acc_1", "ins_e", PHONE, "image", {"media": {"mime_type": "image/png", "data_base64": "iVBORw=="}}
    )
    deadline = time.monotonic() + 30  # a condition, not a timing: a loaded machine may take a while
    while len(events) < 5 and time.monotonic() < deadline:
        engine.pump(2)

    assert ack.wa_message_id == "3EB0E"
    assert [(e["kind"], e.get("state") or e.get("status") or e.get("type")) for e in events[:2]] == [
        ("state", "pairing"),
        ("state", "connected"),
    ]
    # The inbound and the receipts in whatever order the real clock made them.
    assert sorted((e["kind"], e.get("status") or e.get("type")) for e in events[2:]) == [
        ("inbound", "image"),
        ("receipt", "delivered"),
        ("receipt", "read"),
    ]
    [image] = [e for e in events if e["kind"] == "inbound"]
    assert Path(image["media_path"]).read_bytes() == base64.b64decode("iVBORw==")
    engine.ack([e["ack"] for e in events])
    engine.pump(0.2)
    assert len(events) == 5
    engine.shutdown()
    assert engine.client.instance("acc_1", "ins_e")["open"] is False


def test_the_engine_answers_the_port_by_keyword_as_session_hosts_call_it(base_url: str) -> None:
    from bzapper.bootstrap import build_engine

    engine = build_engine("sandbox", {"sandbox_url": base_url})
    events: list[dict] = []
    engine.open(SessionSpec(instance_id="ins_k", account_id="acc_1", livemode=False), events.append)
    code = engine.pairing_code(instance_id="ins_k", phone="+5511955550001")
    SandboxNetworkClient(base_url).scan("acc_1", "ins_k", code=code)
    assert engine.check_numbers(instance_id="ins_k", inputs=[PHONE])[0]["exists"] is True
    engine.mark_read(instance_id="ins_k", chat_jid=JID, wa_message_ids=["3A1"])
    engine.pump(wait_seconds=1)
    engine.ack(acks=[e["ack"] for e in events])
    assert [e["state"] for e in events] == ["pairing", "connected"]
    engine.logout(instance_id="ins_k")
    engine.close(instance_id="ins_k")
    engine.shutdown()


def test_a_client_hanging_up_mid_request_prints_nothing(base_url: str, client: SandboxNetworkClient, capfd) -> None:
    """A worker killed during a request resets its connection: normal, so no traceback on the stack's output."""
    import socket
    import struct
    import time

    host, port = base_url.removeprefix("http://").split(":")
    for _ in range(5):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b'POST /v1/poll HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"instance_ids"')
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        sock.close()
    time.sleep(0.3)
    assert client.health()  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_groups_over_http(client: SandboxNetworkClient) -> None:
    """Every group call of the client reaches the network and comes back in the same shape; refusals are 422s."""
    online(client, "acc_1", "ins_2", "+5511955550002")
    created = client.create_group("acc_1", "ins_1", "Orders", [PHONE, "+5511900010001"])
    jid = created["group"]["jid"]
    assert [r["status"] for r in created["participants"]] == ["added", "invite_required"]
    assert client.group_info("acc_1", "ins_1", jid)["subject"] == "Orders"
    assert [g["jid"] for g in client.joined_groups("acc_1", "ins_1")] == [jid]
    assert client.update_group("acc_1", "ins_1", jid, {"description": "d"})["description"] == "d"
    link = client.invite_link("acc_1", "ins_1", jid, reset=True)
    assert client.join_with_link("acc_1", "ins_2", link)["jid"] == jid
    client.contact_join("acc_1", "+5511988880003", link)
    results = client.update_participants("acc_1", "ins_1", jid, "promote", ["+5511955550002"])
    assert results[0]["status"] == "ok"
    client.leave_group("acc_1", "ins_2", jid)
    with pytest.raises(SandboxNetworkError) as refused:
        client.group_info("acc_1", "ins_2", jid)
    assert (refused.value.status_code, refused.value.code) == (422, "not_a_participant")
    with pytest.raises(SandboxNetworkError) as bad:
        client.update_participants("acc_1", "ins_1", jid, "kick", [PHONE])
    assert bad.value.status_code == 400
    client.send("acc_1", "ins_1", jid, "3EB0GG", TEXT)
    (item,) = [m for m in client.received("acc_1", PHONE) if m.get("group_jid") == jid and "message" in m]
    assert item["message"] == TEXT
