"""Groups on the booted local stack, as a customer sees them (issue #18): create a group with three simulated
contacts, send a text and an image to it with a mention, promote and remove a participant, rotate the invite link,
a simulated contact joins by link; every step is one group event, delivered once by a signed webhook."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import requests
from support.media import png
from support.stack import Stack
from test_events import Receiver  # the same loopback endpoint as the events e2e

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("groups")]

ANA, BIA, CAIO, DANI = "+5511988880001", "+5511988880002", "+5511988880003", "+5511988880004"


def _call(stack: Stack, method: str, path: str, **body) -> requests.Response:
    payload = {"instance_id": stack.instance_id, **body}
    return requests.request(method, f"{stack.base_url}{path}", json=payload, headers=stack.auth, timeout=30)


def test_a_group_from_creation_to_a_join_by_link_one_webhook_per_step(stack: Stack):
    receiver = Receiver()
    try:
        hook = requests.post(
            f"{stack.base_url}/webhooks",
            json={"url": receiver.url, "events": ["group.*"]},
            headers=stack.auth,
            timeout=10,
        )
        assert hook.status_code == 201, hook.text

        created = _call(stack, "POST", "/groups", subject="Orders", participants=[ANA, BIA, CAIO])
        assert created.status_code == 201, created.text
        jid = created.json()["group"]["jid"]
        path = f"/groups/{quote(jid)}"

        text = _call(stack, "POST", "/messages/text", to=jid, body="@5511988880001 shipped", mentions=[ANA])
        assert text.status_code == 202, text.text
        upload = requests.post(
            f"{stack.base_url}/media",
            files={"file": ("box.png", png(8, 8), "image/png")},
            headers=stack.auth,
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
        image = _call(
            stack, "POST", "/messages/image", to=jid, media_id=upload.json()["media_id"], caption="@5511988880002 box",
            mentions=[BIA],
        )  # fmt: skip
        assert image.status_code == 202, image.text

        # The text's receipts, one per participant, before Bia leaves (a removed phone reports nothing more).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            shown = requests.get(
                f"{stack.base_url}/messages/{text.json()['message_id']}", headers=stack.auth, timeout=10
            )
            participants = shown.json().get("participants") or []
            if (
                shown.json()["status"] == "read"
                and len(participants) == 3
                and {p["status"] for p in participants} == {"read"}
            ):
                break
            time.sleep(0.5)

        assert _call(stack, "POST", f"{path}/participants", action="promote", participants=[ANA]).status_code == 200
        assert _call(stack, "POST", f"{path}/participants", action="remove", participants=[BIA]).status_code == 200
        rotated = _call(stack, "POST", f"{path}/invite-link/revoke")
        assert rotated.status_code == 200, rotated.text
        joined = requests.post(
            f"{stack.base_url}/sandbox/contacts/{quote(DANI)}/join",
            json={"invite_link": rotated.json()["invite_link"]},
            headers=stack.auth,
            timeout=30,
        )
        assert (joined.status_code, joined.json()) == (200, {"group_jid": jid})

        wanted = [
            ("group.joined", None),
            ("group.participants_changed", "promote"),
            ("group.participants_changed", "remove"),
            ("group.updated", None),
            ("group.participants_changed", "join"),
        ]
        got = receiver.wait_for(lambda got: len(got) >= len(wanted))
        time.sleep(2)  # anything more (a duplicate) would come now
        events = [json.loads(body) for _, body in receiver.received]
        assert [(e["type"], e["data"].get("action")) for e in events] == wanted, events
        assert len({h["webhook-id"] for h, _ in got}) == len(wanted)  # each delivered once

        # Both messages reached every participant with the group's JID, and their receipts show per participant.
        for phone in (ANA, CAIO):
            url = f"{stack.base_url}/sandbox/contacts/{quote(phone)}/messages"
            items = requests.get(url, headers=stack.auth, timeout=10).json()["data"]
            assert [i["message"]["type"] for i in items if i["group_jid"] == jid] == ["text", "image"]
        assert {p["phone"] for p in participants} == {ANA, BIA, CAIO}
    finally:
        receiver.close()
