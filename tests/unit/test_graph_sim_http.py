"""The simulated Cloud API through an HTTP client (an httpx transport, no socket): every endpoint of Meta's
that the sim serves, every error in Meta's shape, and the test controls under /graph-sim."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest
from support.graph_sim import Callback, fake_sim, graph_client
from support.sandbox import FakeClock

from bzapper_dev.sandbox.graph import GraphSim

NUMBER = "106540352242922"
WABA = "102290129340398"
CONTACT = "+5511988887777"
V = "/graph/v23.0"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> GraphSim:
    return fake_sim(clock)


@pytest.fixture
def client(sim: GraphSim) -> httpx.Client:
    c = graph_client(sim)
    # The token that names the WABA links the number to it, as a system user's token reaches its assets.
    assert c.get(f"{V}/{WABA}/message_templates").status_code == 200
    assert c.get(f"{V}/{NUMBER}").status_code == 200
    return c


def send(client: httpx.Client, message: dict[str, Any], number: str = NUMBER) -> httpx.Response:
    return client.post(f"{V}/{number}/messages", json={"messaging_product": "whatsapp"} | message)


def meta_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """The error of an answer in Meta's shape, checked."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and isinstance(error["fbtrace_id"], str)
    return error


def inbound(client: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/graph-sim/numbers/{NUMBER}/inbound", json={"from": CONTACT, "text": "Oi"} | (body or {}))
    assert response.status_code == 200, response.text
    return response.json()


# -- Meta's endpoints -----------------------------------------------------------------------------------------


def test_get_phone_number(client: httpx.Client) -> None:
    answer = client.get(f"{V}/{NUMBER}", params={"fields": "display_phone_number,verified_name,quality_rating"})
    assert answer.status_code == 200
    assert set(answer.json()) == {"display_phone_number", "verified_name", "quality_rating", "id"}
    assert answer.json()["id"] == NUMBER


def test_get_phone_number_without_fields_answers_metas_default_set(client: httpx.Client) -> None:
    answer = client.get(f"{V}/{NUMBER}").json()
    assert answer["platform_type"] == "CLOUD_API" and answer["code_verification_status"] == "VERIFIED"
    assert {"display_phone_number", "verified_name", "quality_rating", "id", "throughput"} <= set(answer)


def test_a_field_the_node_lacks_is_error_100(client: httpx.Client) -> None:
    error = meta_error(client.get(f"{V}/{NUMBER}", params={"fields": "verified_name,currency"}), 400, 100)
    assert "nonexisting field (currency)" in error["message"]


def test_get_waba(client: httpx.Client, sim: GraphSim) -> None:
    waba = client.get(f"{V}/{WABA}").json()
    assert waba["id"] == WABA and waba["currency"] == "USD" and "message_template_namespace" in waba
    # An id never seen, asked for WABA fields, is a WABA (and starts with the default templates).
    fresh = client.get(f"{V}/987654321", params={"fields": "name,currency"}).json()
    assert fresh == {"name": "Sandbox Business", "currency": "USD", "id": "987654321"}
    assert len(client.get(f"{V}/987654321/message_templates", params={"limit": 100}).json()["data"]) == 9


@pytest.mark.parametrize("version", ["v23.0", "v19.0", "v100.12"])
def test_any_version_is_accepted(sim: GraphSim, version: str) -> None:
    assert graph_client(sim).get(f"/graph/{version}/{NUMBER}").status_code == 200


def test_the_token_is_checked(sim: GraphSim) -> None:
    error = meta_error(graph_client(sim, "invalid-token").get(f"{V}/{NUMBER}"), 401, 190)
    assert error["type"] == "OAuthException"
    meta_error(graph_client(sim, None).get(f"{V}/{NUMBER}"), 400, 104)
    meta_error(graph_client(sim, "invalid-token").post(f"{V}/{NUMBER}/messages", json={}), 401, 190)
    # The token may come as the access_token parameter too.
    assert graph_client(sim, None).get(f"{V}/{NUMBER}", params={"access_token": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/graph/23.0/1"), ("GET", "/graph/v23.0"), ("GET", f"{V}/{NUMBER}/nope"), ("PUT", f"{V}/{NUMBER}")],
)
def test_unknown_paths_are_meta_errors(client: httpx.Client, method: str, path: str) -> None:
    meta_error(client.request(method, path), 400, 2500)


def test_send_text_answers_meta_shape(client: httpx.Client) -> None:
    inbound(client)
    answer = send(client, {"recipient_type": "individual", "to": CONTACT, "type": "text", "text": {"body": "Hi"}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CONTACT, "wa_id": CONTACT[1:]}]
    (message,) = body["messages"]
    assert message["id"].startswith("wamid.") and "message_status" not in message


def test_every_free_form_type_is_accepted(client: httpx.Client) -> None:
    inbound(client)
    upload = client.post(
        f"{V}/{NUMBER}/media",
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", b"\x89PNG...", "image/png")},
    )
    media_id = upload.json()["id"]
    messages = [
        {"type": "image", "image": {"id": media_id, "caption": "c"}},
        {"type": "video", "video": {"link": "https://example.com/v.mp4"}},
        {"type": "audio", "audio": {"link": "https://example.com/a.ogg"}},
        {"type": "document", "document": {"link": "https://example.com/d.pdf", "filename": "d.pdf"}},
        {"type": "sticker", "sticker": {"id": media_id}},
        {"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "SP"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}, "phones": [{"phone": "+5511999"}]}]},
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]},
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Pick"},
                "action": {"button": "Menu", "sections": [{"title": "S", "rows": [{"id": "r1", "title": "One"}]}]},
            },
        },
        {"type": "text", "text": {"body": "quoted"}, "context": {"message_id": "wamid.X"}},
    ]
    for message in messages:
        answer = send(client, {"to": CONTACT} | message)
        assert answer.status_code == 200, (message["type"], answer.text)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"to": CONTACT, "type": "text", "text": {"body": "x"}, "messaging_product": "sms"}, 100),
        ({"type": "text", "text": {"body": "x"}}, 131008),
        ({"to": "not a phone", "type": "text", "text": {"body": "x"}}, 100),
        ({"to": CONTACT, "type": "text", "text": {}}, 131008),
        ({"to": CONTACT, "type": "text", "text": {"body": "x" * 4097}}, 131009),
        ({"to": CONTACT, "type": "poll", "poll": {}}, 100),
        ({"to": CONTACT, "type": "image", "image": {}}, 100),
        ({"to": CONTACT, "type": "image", "image": {"id": "404"}}, 131009),
        ({"to": CONTACT, "type": "location", "location": {"latitude": 91, "longitude": 0}}, 131009),
        (
            {
                "to": CONTACT,
                "type": "interactive",
                "interactive": {"type": "button", "body": {"text": "x"}, "action": {"buttons": []}},
            },
            131009,
        ),
        (
            {
                "to": CONTACT,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "x"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "x" * 21}}]},
                },
            },
            131009,
        ),
        ({"to": CONTACT, "recipient_type": "group", "type": "text", "text": {"body": "x"}}, 100),
        ({"to": CONTACT, "type": "template", "template": {"name": "order_update"}}, 131008),
    ],
)
def test_invalid_sends_are_meta_errors(client: httpx.Client, message: dict[str, Any], code: int) -> None:
    response = client.post(f"{V}/{NUMBER}/messages", json={"messaging_product": "whatsapp"} | message)
    error = meta_error(response, 400, code)
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]


def test_a_body_that_is_not_json_is_a_meta_error(client: httpx.Client) -> None:
    meta_error(
        client.post(f"{V}/{NUMBER}/messages", content=b"{nope", headers={"Content-Type": "application/json"}), 400, 100
    )


def test_templates_in_three_languages_are_sent(client: httpx.Client) -> None:
    for language in ("en", "pt_BR", "es"):
        auth = send(
            client,
            {
                "to": CONTACT,
                "type": "template",
                "template": {
                    "name": "verification_code",
                    "language": {"code": language},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
                        {
                            "type": "button",
                            "sub_type": "url",
                            "index": "0",
                            "parameters": [{"type": "text", "text": "482913"}],
                        },
                    ],
                },
            },
        )
        assert auth.status_code == 200, auth.text
        assert auth.json()["messages"][0]["message_status"] == "accepted"
        order = send(
            client,
            {
                "to": CONTACT,
                "type": "template",
                "template": {
                    "name": "order_update",
                    "language": {"code": language},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1"}],
                        }
                    ],
                },
            },
        )
        assert order.status_code == 200, order.text


def test_template_errors_over_http(client: httpx.Client) -> None:
    missing = send(
        client, {"to": CONTACT, "type": "template", "template": {"name": "nope", "language": {"code": "en"}}}
    )
    assert "does not exist" in meta_error(missing, 404, 132001)["message"]
    wrong = send(
        client,
        {
            "to": CONTACT,
            "type": "template",
            "template": {"name": "order_update", "language": {"code": "en"}, "components": []},
        },
    )
    meta_error(wrong, 400, 132000)


def test_throughput_and_pair_rate_errors_over_http(client: httpx.Client) -> None:
    message = {
        "type": "template",
        "template": {
            "name": "weekly_offer",
            "language": {"code": "en"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    }
    assert (
        "throughput"
        in meta_error(send(client, {"to": "+5511900007100"} | message), 400, 130429)["error_data"]["details"]
    )
    meta_error(send(client, {"to": "+5511900007600"} | message), 400, 131056)


def test_mark_read(client: httpx.Client, sim: GraphSim) -> None:
    wamid = inbound(client)["id"]
    answer = client.post(
        f"{V}/{NUMBER}/messages", json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    )
    assert answer.status_code == 200 and answer.json() == {"success": True}
    assert client.get(f"/graph-sim/numbers/{NUMBER}").json()["reads"] == [wamid]
    unknown = client.post(
        f"{V}/{NUMBER}/messages", json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.NO"}
    )
    meta_error(unknown, 400, 131009)
    meta_error(
        client.post(f"{V}/{NUMBER}/messages", json={"messaging_product": "whatsapp", "status": "read"}), 400, 131008
    )


def test_media_upload_retrieve_download_delete(client: httpx.Client, sim: GraphSim) -> None:
    data = b"%PDF-1.4 sandbox"
    upload = client.post(
        f"{V}/{NUMBER}/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("doc.pdf", data, "application/pdf")},
    )
    assert upload.status_code == 200, upload.text
    media_id = upload.json()["id"]
    info = client.get(f"{V}/{media_id}").json()
    assert info == {
        "url": info["url"],
        "mime_type": "application/pdf",
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "id": media_id,
        "messaging_product": "whatsapp",
    }
    assert info["url"].startswith("http://sim.test/graph/")
    download = client.get(info["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "application/pdf"
    # The URL needs a token, and its hash.
    meta_error(graph_client(sim, None).get(info["url"]), 400, 104)
    assert client.get(info["url"].replace("hash=", "hash=0")).status_code == 404
    assert client.delete(f"{V}/{media_id}").json() == {"success": True}
    error = meta_error(client.get(f"{V}/{media_id}"), 400, 100)
    assert error["error_subcode"] == 33
    assert client.get(info["url"]).status_code == 404


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"type": "image/png"}, {"file": ("a.png", b"x", "image/png")}),
        ({"messaging_product": "whatsapp", "type": "image/png"}, None),
        ({"messaging_product": "whatsapp", "type": "png"}, {"file": ("a.png", b"x", "image/png")}),
    ],
)
def test_bad_uploads_are_meta_errors(client: httpx.Client, data: dict[str, str], files: Any) -> None:
    response = client.post(f"{V}/{NUMBER}/media", data=data, files=files or {"other": ("x", b"x")})
    meta_error(response, 400, 100)


@pytest.mark.parametrize("mime_type", ["image/gif", "video/quicktime", "font/woff"])
def test_a_media_type_meta_does_not_take_is_131053(client: httpx.Client, mime_type: str) -> None:
    response = client.post(
        f"{V}/{NUMBER}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": ("x", b"bytes", mime_type)},
    )
    assert "Unsupported file type" in meta_error(response, 400, 131053)["error_data"]["details"]


def test_a_json_upload_is_refused(client: httpx.Client) -> None:
    meta_error(client.post(f"{V}/{NUMBER}/media", json={"messaging_product": "whatsapp"}), 400, 100)


def test_message_templates_paging_and_filters(client: httpx.Client) -> None:
    first = client.get(f"{V}/{WABA}/message_templates", params={"limit": 4}).json()
    assert len(first["data"]) == 4
    assert set(first["data"][0]) == {"name", "components", "language", "status", "category", "id"}
    rest = client.get(
        f"{V}/{WABA}/message_templates", params={"limit": 100, "after": first["paging"]["cursors"]["after"]}
    )
    assert "next" in first["paging"] and "next" not in rest.json()["paging"]
    names = [(t["name"], t["language"]) for t in first["data"] + rest.json()["data"]]
    assert len(names) == len(set(names)) == 9
    only = client.get(f"{V}/{WABA}/message_templates", params={"name": "order_update", "language": "pt_BR"}).json()
    assert [(t["name"], t["language"]) for t in only["data"]] == [("order_update", "pt_BR")]
    auth = client.get(f"{V}/{WABA}/message_templates", params={"category": "authentication"}).json()
    assert {t["name"] for t in auth["data"]} == {"verification_code"}
    meta_error(client.get(f"{V}/{WABA}/message_templates", params={"limit": "x"}), 400, 100)
    meta_error(client.get(f"{V}/{WABA}/message_templates", params={"after": "!!"}), 400, 100)


def test_create_template_over_http(client: httpx.Client, clock: FakeClock, sim: GraphSim) -> None:
    body = {
        "name": "shipping_delay",
        "language": "es",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Tu pedido {{1}} se retrasa."}],
    }
    created = client.post(f"{V}/{WABA}/message_templates", json=body)
    assert created.status_code == 200 and created.json()["status"] == "PENDING"
    duplicate = client.post(f"{V}/{WABA}/message_templates", json=body)
    assert meta_error(duplicate, 400, 100)["error_subcode"] == 2388024
    meta_error(client.post(f"{V}/{WABA}/message_templates", json=body | {"name": "Bad Name"}), 400, 100)
    meta_error(client.post(f"{V}/{WABA}/message_templates", json=body | {"category": "OTHER"}), 400, 100)
    meta_error(client.post(f"{V}/{WABA}/message_templates", json=body | {"components": []}), 400, 100)
    clock.advance(5)
    listed = client.get(f"{V}/{WABA}/message_templates", params={"name": "shipping_delay"}).json()["data"]
    assert listed[0]["status"] == "APPROVED"


def test_waba_phone_numbers(client: httpx.Client) -> None:
    numbers = client.get(f"{V}/{WABA}/phone_numbers").json()["data"]
    assert [n["id"] for n in numbers] == [NUMBER]


# -- the controls ----------------------------------------------------------------------------------------------


def test_inbound_control_sends_a_signed_messages_webhook(client: httpx.Client, sim: GraphSim) -> None:
    answer = inbound(client, {"name": "Ana"})
    assert set(answer) == {"id", "webhook_id", "window_closes_at"}
    callback = Callback()
    sim.pump(callback)
    ((_url, body, headers),) = callback.received
    digest = hmac.new(b"bzapper-sandbox-cloud-app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={digest}"
    assert callback.bodies()[0]["entry"][0]["id"] == WABA
    assert callback.messages()[0]["id"] == answer["id"]


def test_inbound_media_and_other_types(client: httpx.Client, sim: GraphSim) -> None:
    image = inbound(
        client,
        {
            "type": "image",
            "caption": "look",
            "media": {"mime_type": "image/jpeg", "data_base64": "/9j/4AAQ"},
            "text": None,
        },
    )
    document = inbound(
        client,
        {"type": "document", "media": {"mime_type": "application/pdf", "data_base64": "JVBERg==", "filename": "a.pdf"}},
    )
    location = inbound(client, {"type": "location", "location": {"latitude": 1.5, "longitude": 2.5}})
    sticker = inbound(
        client, {"type": "sticker", "animated": True, "media": {"mime_type": "image/webp", "data_base64": "UklGRg=="}}
    )
    voice = inbound(
        client,
        {"type": "audio", "voice": True, "media": {"mime_type": "audio/ogg; codecs=opus", "data_base64": "T2dnUw=="}},
    )
    reply = inbound(
        client,
        {
            "type": "interactive",
            "context": "wamid.OURS",
            "interactive": {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}},
        },
    )
    assert len({image["id"], document["id"], location["id"], sticker["id"], voice["id"], reply["id"]}) == 6
    callback = Callback()
    sim.pump(callback)
    pictures, pdf, place, webp, ogg, button = callback.messages()
    assert webp["sticker"]["animated"] is True and webp["sticker"]["mime_type"] == "image/webp"
    assert ogg["audio"]["voice"] is True and "caption" not in ogg["audio"]
    assert pictures["image"]["caption"] == "look" and pictures["image"]["mime_type"] == "image/jpeg"
    media = client.get(f"{V}/{pictures['image']['id']}").json()
    assert client.get(media["url"]).content == b"\xff\xd8\xff\xe0\x00\x10"
    assert pdf["document"]["filename"] == "a.pdf"
    assert place["location"] == {"latitude": 1.5, "longitude": 2.5}
    assert button["context"]["id"] == "wamid.OURS" and button["interactive"]["type"] == "button_reply"


def test_an_inbound_with_a_chosen_id_is_delivered_again(client: httpx.Client, sim: GraphSim) -> None:
    first = inbound(client, {"id": "wamid.SAME"})
    second = inbound(client, {"id": "wamid.SAME"})
    assert first["id"] == second["id"] == "wamid.SAME" and first["webhook_id"] != second["webhook_id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "x"}, 400, "bad_request"),
        ({"from": "garbage", "text": "x"}, 400, "bad_request"),
        ({"from": "+5511900000001", "text": "x"}, 422, "not_on_whatsapp"),
        ({"from": CONTACT}, 400, "bad_request"),
        ({"from": CONTACT, "type": "image", "media": {"mime_type": "image/png"}}, 400, "bad_request"),
        ({"from": CONTACT, "type": "location"}, 400, "bad_request"),
        ({"from": CONTACT, "text": "x", "duplicate": "yes"}, 400, "bad_request"),
    ],
)
def test_inbound_control_errors(client: httpx.Client, body: dict[str, Any], status: int, code: str) -> None:
    response = client.post(f"/graph-sim/numbers/{NUMBER}/inbound", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_clock_control_closes_the_window(client: httpx.Client, sim: GraphSim) -> None:
    inbound(client)
    before = client.get("/graph-sim/clock").json()
    after = client.post("/graph-sim/clock", json={"advance_seconds": 86400}).json()
    assert after["offset_seconds"] == 86400 and after["now"] == before["now"] + 86400
    wamid = send(client, {"to": CONTACT, "type": "text", "text": {"body": "late"}}).json()["messages"][0]["id"]
    callback = Callback()
    sim.pump(callback)
    assert (wamid, "failed") in callback.statuses()
    for bad in ({}, {"advance_seconds": -1}, {"advance_seconds": True}):
        assert client.post("/graph-sim/clock", json=bad).status_code == 400


def test_webhooks_control_lists_and_redelivers(client: httpx.Client, sim: GraphSim) -> None:
    answer = inbound(client)
    listed = client.get("/graph-sim/webhooks", params={"phone_number_id": NUMBER, "field": "messages"}).json()["data"]
    (webhook,) = listed
    assert webhook["id"] == answer["webhook_id"] and webhook["body"]["object"] == "whatsapp_business_account"
    assert webhook["pending"] is True and webhook["delivered"] is False
    callback = Callback()
    sim.pump(callback)
    assert client.post(f"/graph-sim/webhooks/{webhook['id']}/redeliver").status_code == 200
    sim.pump(callback)
    assert len(callback.received) == 2 and callback.received[0][1] == callback.received[1][1]
    assert client.get("/graph-sim/webhooks", params={"after": webhook["id"]}).json()["data"] == []
    assert client.post("/graph-sim/webhooks/999/redeliver").status_code == 404
    assert client.post("/graph-sim/webhooks/abc/redeliver").status_code == 404


def test_numbers_control_provisions_and_shows_what_was_sent(client: httpx.Client) -> None:
    changed = client.post(
        "/graph-sim/numbers/777", json={"waba_id": "waba-7", "verified_name": "Loja", "quality_rating": "YELLOW"}
    )
    assert changed.json()["waba_id"] == "waba-7"
    assert client.get(f"{V}/777").json()["verified_name"] == "Loja"
    assert client.post("/graph-sim/numbers/777", json={"waba_id": ""}).status_code == 400
    inbound(client)
    sent = send(client, {"to": CONTACT, "type": "text", "text": {"body": "Hi"}}).json()["messages"][0]["id"]
    (message,) = client.get(f"/graph-sim/numbers/{NUMBER}/messages").json()["data"]
    assert message["id"] == sent and message["to"] == CONTACT and message["request"]["text"] == {"body": "Hi"}
    assert message["pricing"]["category"] == "service"


def test_template_status_control(client: httpx.Client, sim: GraphSim) -> None:
    template = client.get(f"{V}/{WABA}/message_templates", params={"name": "weekly_offer", "language": "en"}).json()
    template_id = template["data"][0]["id"]
    paused = client.post(f"/graph-sim/templates/{template_id}/status", json={"status": "PAUSED", "reason": "LOW"})
    assert paused.json()["status"] == "PAUSED"
    callback = Callback()
    sim.pump(callback)
    assert callback.values()[-1]["event"] == "PAUSED" and callback.values()[-1]["reason"] == "LOW"
    assert client.post(f"/graph-sim/templates/{template_id}/status", json={"status": "X"}).status_code == 400
    assert client.post("/graph-sim/templates/1/status", json={"status": "PAUSED"}).status_code == 404


def test_config_and_reset_controls(client: httpx.Client, sim: GraphSim) -> None:
    config = client.get("/graph-sim/config").json()
    assert config["app_secret"] == "bzapper-sandbox-cloud-app-secret"
    assert client.post("/graph-sim/config", json={"callback_url": "http://other.test/hook"}).json()["callback_url"] == (
        "http://other.test/hook"
    )
    assert client.post("/graph-sim/config", json={"callback_url": "ftp://x"}).status_code == 400
    assert client.post("/graph-sim/config", json={"callback_url": None}).json()["callback_url"] is None
    inbound(client)
    assert client.post("/graph-sim/reset").json() == {"ok": True}
    assert client.get("/graph-sim/webhooks").json()["data"] == []


def test_unknown_controls_and_bad_bodies(client: httpx.Client) -> None:
    assert client.get("/graph-sim/nope").status_code == 404
    bad = client.post(f"/graph-sim/numbers/{NUMBER}/inbound", content=b"[1]")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
