"""Status posts on the booted local stack, as a customer sees them (issue #18 part 6): post a text and an image
status, the simulated contacts see them (and a stranger does not), one status.posted per post delivered once by a
signed webhook, the wallet charged one message per post, and an Idempotency-Key replay posts nothing twice."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import requests
from support.media import png
from support.stack import Stack
from test_events import Receiver  # the same loopback endpoint as the events e2e

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("status_posts")]

ANA, BIA, CAIO = "+5511988880101", "+5511988880102", "+5511988880103"
STATUS = "status@broadcast"
PRICE = 1  # centavos per send on the local account's plan (payg): a post costs one message (docs/status.md)


def _post(stack: Stack, path: str, key: str | None = None, **body) -> requests.Response:
    headers = {**stack.auth, **({"Idempotency-Key": key} if key else {})}
    payload = {"instance_id": stack.instance_id, **body}
    return requests.post(f"{stack.base_url}{path}", json=payload, headers=headers, timeout=30)


def _balance(stack: Stack) -> int:
    return requests.get(f"{stack.base_url}/billing/wallet", headers=stack.auth, timeout=10).json()["balance"]


def _statuses(stack: Stack, phone: str) -> list[dict]:
    url = f"{stack.base_url}/sandbox/contacts/{quote(phone)}/messages"
    return [
        item for item in requests.get(url, headers=stack.auth, timeout=10).json()["data"] if item["to_jid"] == STATUS
    ]


def test_text_and_image_statuses_reach_the_contacts_once_each_with_one_webhook(stack: Stack):
    receiver = Receiver()
    try:
        hook = requests.post(
            f"{stack.base_url}/webhooks",
            json={"url": receiver.url, "events": ["status.posted"]},
            headers=stack.auth,
            timeout=10,
        )
        assert hook.status_code == 201, hook.text
        # Ana and Bia become the number's contacts: it writes to them (the posts queue behind these texts).
        for phone in (ANA, BIA):
            sent = _post(stack, "/messages/text", to=phone, body="Hi!")
            assert sent.status_code == 202, sent.text
        upload = requests.post(
            f"{stack.base_url}/media",
            files={"file": ("promo.png", png(8, 8), "image/png")},
            headers=stack.auth,
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
        before = _balance(stack)

        text = _post(stack, "/status/text", key="status-e2e-1", text="Open Sunday", background_color="#25D366")
        assert text.status_code == 202, text.text
        replay = _post(stack, "/status/text", key="status-e2e-1", text="Open Sunday", background_color="#25D366")
        assert (replay.status_code, replay.json()) == (202, text.json())
        assert replay.headers.get("Idempotent-Replayed") == "true"
        image = _post(stack, "/status/image", media_id=upload.json()["media_id"], caption="New")
        assert image.status_code == 202, image.text
        posts = {text.json()["message_id"], image.json()["message_id"]}
        assert _balance(stack) == before - 2 * PRICE  # one message each; the replay charged nothing

        got = receiver.wait_for(lambda got: len(got) >= 2)
        time.sleep(2)  # anything more (a duplicate, a post made twice) would come now
        events = [json.loads(body) for _, body in receiver.received]
        assert sorted(e["type"] for e in events) == ["status.posted", "status.posted"], events
        assert {e["data"]["message_id"] for e in events} == posts
        assert {e["data"]["kind"] for e in events} == {"text", "image"}
        assert len({h["webhook-id"] for h, _ in got}) == 2  # each delivered once

        for phone in (ANA, BIA):
            seen = _statuses(stack, phone)
            assert [item["message"]["kind"] for item in seen] == ["text", "image"], seen
            assert seen[0]["message"]["body"] == "Open Sunday" and seen[1]["message"]["caption"] == "New"
            assert {item["group_jid"] for item in seen} == {None}
        assert _statuses(stack, CAIO) == []  # never exchanged a message with the number

        # The post's record: type status, its viewers' receipts per viewer.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            shown = requests.get(
                f"{stack.base_url}/messages/{text.json()['message_id']}", headers=stack.auth, timeout=10
            )
            viewers = shown.json().get("participants") or []
            if shown.json()["status"] == "read" and {(v["phone"], v["status"]) for v in viewers} == {
                (ANA, "read"),
                (BIA, "read"),
            }:
                break
            time.sleep(0.5)
        body = shown.json()
        assert (body["type"], body["to"], body["status"]) == ("status", STATUS, "read"), body
        assert sorted(v["phone"] for v in viewers) == [ANA, BIA]
    finally:
        receiver.close()
