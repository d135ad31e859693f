"""Media and every message type on the booted local stack, over HTTP as a customer uses them: uploads
(multipart and pre-signed straight to S3), downloads through the signed redirect, media by URL, every type
reaching `sent` at the sandbox, voice notes reaching `played`, and edits and deletions."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support.media import file_server, jpeg, ogg, pad, pdf, png, webp
from support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

TO = "+5511988888888"
VOICE_PLAYER = "+5511900003001"  # the sandbox's range of contacts that play voice notes


def _post(stack: Stack, path: str, **body) -> dict:
    response = requests.post(
        f"{stack.base_url}{path}",
        json={"instance_id": stack.instance_id, "to": TO, **body},
        headers=stack.auth,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()


def _received(stack: Stack, phone: str) -> list[dict]:
    url = f"{stack.base_url}/sandbox/contacts/{requests.utils.quote(phone)}/messages"
    return [item["message"] for item in requests.get(url, headers=stack.auth, timeout=10).json()["data"]]


def _upload(stack: Stack, data: bytes, filename: str, content_type: str) -> dict:
    response = requests.post(
        f"{stack.base_url}/media", files={"file": (filename, data, content_type)}, headers=stack.auth, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_an_upload_downloads_through_a_signed_expiring_redirect_for_its_account_only(stack: Stack):
    data = png(8, 8)
    media = _upload(stack, data, "logo.jpg", "image/jpeg")
    assert (media["mime_type"], media["size"], media["sha256"]) == (
        "image/png",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )

    answer = requests.get(
        f"{stack.base_url}/media/{media['media_id']}", headers=stack.auth, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and len(query["X-Amz-Signature"]) == 64
    assert query["X-Amz-Expires"] == "300" and query["X-Amz-Date"]
    served = requests.get(location, timeout=10)  # no API key: the signature is the authorization
    assert served.status_code == 200 and served.content == data
    assert served.headers["Content-Type"] == "image/png"

    other = requests.get(
        f"{stack.base_url}/media/{media['media_id']}", headers={"Authorization": "Bearer bz_test_x"}, timeout=10
    )
    assert other.status_code == 401
    missing = requests.get(f"{stack.base_url}/media/med_01JD5V6W4E7R8T9Y0U1I2O3P4Q", headers=stack.auth, timeout=10)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_a_large_file_goes_straight_to_s3_then_is_sent_by_id(stack: Stack):
    started = requests.post(f"{stack.base_url}/media/uploads", headers=stack.auth, timeout=10).json()
    data = pad(pdf(), 5 * 1024 * 1024)
    form = started["upload"]
    stored = requests.post(form["url"], data=form["fields"], files={"file": ("report.pdf", data)}, timeout=60)
    assert stored.status_code in (200, 201, 204), stored.text
    completed = requests.post(
        f"{stack.base_url}/media/uploads/{started['media_id']}/complete",
        json={"filename": "report.pdf"},
        headers=stack.auth,
        timeout=60,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["mime_type"] == "application/pdf" and completed.json()["size"] == len(data)

    accepted = _post(stack, "/messages/document", media_id=started["media_id"], caption="Relatório")
    stack.wait_for_status(accepted["message_id"], "sent")
    [sent] = [m for m in _received(stack, TO) if m.get("media", {}).get("media_id") == started["media_id"]]
    assert sent["type"] == "document" and sent["filename"] == "report.pdf" and sent["caption"] == "Relatório"


def test_every_type_reaches_the_sandbox_contact(stack: Stack):
    image_bytes = jpeg()
    with file_server({"/promo.jpg": (image_bytes, "image/jpeg"), "/s.webp": (webp(), "image/webp")}) as server:
        first = _post(stack, "/messages/image", url=f"{server.url}/promo.jpg", caption="Promo")
        sticker = _post(stack, "/messages/sticker", url=f"{server.url}/s.webp")
    sent = [
        first,
        sticker,
        _post(stack, "/messages/location", latitude=-23.56, longitude=-46.65, name="MASP"),
        _post(stack, "/messages/contact", contacts=[{"name": "Ana", "phones": [{"number": "+5511977770001"}]}]),
        _post(stack, "/messages/poll", name="Dia?", options=["Seg", "Qua"]),
        _post(stack, "/messages/reaction", message_id=first["message_id"], emoji="🔥"),
        _post(stack, "/messages/text", body="Veja acima", reply_to=first["message_id"], mentions=[TO]),
    ]
    for accepted in sent:
        stack.wait_for_status(accepted["message_id"], "sent")
    types = [message["type"] for message in _received(stack, TO)]
    for kind in ("image", "sticker", "location", "contact", "poll", "reaction", "text"):
        assert kind in types
    image = next(m for m in _received(stack, TO) if m["type"] == "image" and m.get("caption") == "Promo")
    assert image["media"]["sha256"] == hashlib.sha256(image_bytes).hexdigest()


def test_a_voice_note_reaches_played(stack: Stack):
    media = _upload(stack, ogg(), "voice.ogg", "audio/ogg")
    response = requests.post(
        f"{stack.base_url}/messages/audio",
        json={"instance_id": stack.instance_id, "to": VOICE_PLAYER, "media_id": media["media_id"], "voice": True},
        headers=stack.auth,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    message = stack.wait_for_status(response.json()["message_id"], "played")
    assert [change["status"] for change in message["history"]][-1] == "played"


def test_an_edit_and_a_deletion_reach_the_original(stack: Stack):
    original = _post(stack, "/messages/text", body="Reunião às 10h")
    stack.wait_for_status(original["message_id"], "sent")
    edit = requests.patch(
        f"{stack.base_url}/messages/{original['message_id']}",
        json={"body": "Reunião às 11h"},
        headers=stack.auth,
        timeout=30,
    )
    assert edit.status_code == 202, edit.text
    stack.wait_for_status(edit.json()["message_id"], "sent")
    shown = _wait_for(stack, original["message_id"], lambda message: message["edited"])
    assert shown["content"] == {"body": "Reunião às 11h"}

    deletion = requests.delete(f"{stack.base_url}/messages/{original['message_id']}", headers=stack.auth, timeout=30)
    assert deletion.status_code == 202, deletion.text
    stack.wait_for_status(deletion.json()["message_id"], "sent")
    assert _wait_for(stack, original["message_id"], lambda message: message["deleted"])["deleted"]
    kinds = [message["type"] for message in _received(stack, TO)]
    assert "edit" in kinds and "revoke" in kinds


def _wait_for(stack: Stack, message_id: str, done, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = requests.get(f"{stack.base_url}/messages/{message_id}", headers=stack.auth, timeout=10).json()
        if done(message):
            return message
        if time.monotonic() > deadline:
            raise AssertionError(f"{message_id}: {message}")
        time.sleep(0.1)
