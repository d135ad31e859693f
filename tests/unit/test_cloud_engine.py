"""The cloud engine's outbound side: our content as the Cloud API's message objects (builders), and the Graph
client against a fake Graph transport (recorded Meta answers, no network)."""

from __future__ import annotations

import json

import httpx
import pytest
from support.meta import PHONE_NUMBER_ID, WABA_ID, graph_error

from bzapper.domain.cloud import Credentials, GraphFailure, UnsupportedCloudContent
from bzapper.engines.cloud import builders
from bzapper.engines.cloud.graph import GraphApi

TO = "5511988887777@s.whatsapp.net"
MEDIA = {"media_id": "med_1", "key": "k", "mime_type": "image/jpeg", "size": 3, "sha256": "x"}


def build(kind: str, content: dict, media_id: str | None = None) -> dict:
    payload = builders.build(kind, content, TO, media_id)
    assert payload["messaging_product"] == "whatsapp" and payload["to"] == "5511988887777"
    return {k: v for k, v in payload.items() if k not in ("messaging_product", "recipient_type", "to")}


# --- builders -------------------------------------------------------------------------------------------------


def test_text_with_a_link_gets_a_preview():
    assert build("text", {"body": "hi"}) == {"type": "text", "text": {"body": "hi", "preview_url": False}}
    assert build("text", {"body": "see https://x.test"})["text"]["preview_url"] is True


def test_a_quoted_reply_is_the_context_of_any_type():
    reply = {"wa_message_id": "wamid.Q", "chat_jid": TO, "from_me": False}
    assert build("text", {"body": "yes", "reply_to": reply})["context"] == {"message_id": "wamid.Q"}
    assert build("location", {"latitude": 1.0, "longitude": 2.0, "reply_to": reply})["context"] == {
        "message_id": "wamid.Q"
    }


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("image", {"media": MEDIA, "caption": "c"}, {"id": "M", "caption": "c"}),
        ("video", {"media": MEDIA}, {"id": "M"}),
        (
            "document",
            {"media": MEDIA, "caption": "c", "filename": "a.pdf"},
            {"id": "M", "caption": "c", "filename": "a.pdf"},
        ),
        ("audio", {"media": MEDIA, "voice": True}, {"id": "M"}),
        ("sticker", {"media": MEDIA}, {"id": "M"}),
    ],
)
def test_media_name_metas_upload(kind, content, expected):
    assert build(kind, content, "M") == {"type": kind, kind: expected}


def test_media_without_an_upload_is_refused():
    with pytest.raises(UnsupportedCloudContent):
        builders.build("image", {"media": MEDIA}, TO, None)


def test_location_contacts_and_reaction():
    assert build("location", {"latitude": 1.5, "longitude": -2.5, "name": "N"}) == {
        "type": "location",
        "location": {"latitude": 1.5, "longitude": -2.5, "name": "N"},
    }
    card = {"name": "Ana", "phones": [{"number": "+55 11 98888-7777"}], "emails": ["a@x.test"], "organization": "O"}
    assert build("contact", {"contacts": [card], "vcards": ["…"]}) == {
        "type": "contacts",
        "contacts": [
            {
                "name": {"formatted_name": "Ana", "first_name": "Ana"},
                "phones": [{"phone": "+55 11 98888-7777", "type": "CELL", "wa_id": "5511988887777"}],
                "emails": [{"email": "a@x.test", "type": "WORK"}],
                "org": {"company": "O"},
            }
        ],
    }
    target = {"wa_message_id": "wamid.T", "chat_jid": TO, "from_me": False}
    assert build("reaction", {"target": target, "emoji": "👍"}) == {
        "type": "reaction",
        "reaction": {"message_id": "wamid.T", "emoji": "👍"},
    }


def test_buttons_and_lists_are_official_interactive_messages():
    buttons = {"body": "Pick", "footer": "f", "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}
    assert build("buttons", buttons) == {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Pick"},
            "footer": {"text": "f"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "a", "title": "A"}},
                    {"type": "reply", "reply": {"id": "b", "title": "B"}},
                ]
            },
        },
    }
    listing = {
        "body": "Menu",
        "button_text": "Open",
        "sections": [{"title": "S", "rows": [{"id": "r1", "title": "One", "description": "d"}]}],
    }
    assert build("list", listing)["interactive"] == {
        "type": "list",
        "body": {"text": "Menu"},
        "action": {
            "button": "Open",
            "sections": [{"title": "S", "rows": [{"id": "r1", "title": "One", "description": "d"}]}],
        },
    }


def test_past_metas_limits_buttons_and_lists_are_refused_never_cut():
    with pytest.raises(UnsupportedCloudContent):
        builders.build("buttons", {"body": "b", "buttons": [{"id": str(i), "title": "t"} for i in range(4)]}, TO)
    with pytest.raises(UnsupportedCloudContent):
        builders.build("buttons", {"body": "b", "buttons": [{"id": "1", "title": "x" * 21}]}, TO)
    rows = [{"id": str(i), "title": "t"} for i in range(11)]
    with pytest.raises(UnsupportedCloudContent):
        builders.build("list", {"body": "b", "button_text": "o", "sections": [{"rows": rows}]}, TO)


@pytest.mark.parametrize("kind", ["poll", "edit", "revoke", "otp"])
def test_what_the_cloud_api_lacks_is_refused(kind):
    with pytest.raises(UnsupportedCloudContent):
        builders.build(kind, {"body": "x"}, TO)


def test_groups_and_lids_are_not_recipients():
    for jid in ("120363025246125486@g.us", "123456789012345@lid"):
        with pytest.raises(UnsupportedCloudContent):
            builders.build("text", {"body": "x"}, jid)


# --- the Graph client -----------------------------------------------------------------------------------------

LIVE = Credentials(PHONE_NUMBER_ID, WABA_ID, "EAAG-live-token", True)
TEST = Credentials(PHONE_NUMBER_ID, WABA_ID, "any-token", False)


class FakeGraph:
    """Answers as Graph does; records each request."""

    def __init__(self, answers: list[httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def client(graph: FakeGraph) -> GraphApi:
    return GraphApi(
        live_url="https://graph.facebook.com",
        test_url="http://127.0.0.1:9/graph",
        version="v23.0",
        transport=httpx.MockTransport(graph),
    )


SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "5511988887777", "wa_id": "5511988887777"}],
    "messages": [{"id": "wamid.HBgM"}],
}


def test_a_text_is_one_call_with_the_bearer_token_and_returns_metas_id():
    graph = FakeGraph([httpx.Response(200, json=SENT)])
    job = {"type": "text", "content": {"body": "hi"}, "to_jid": TO}
    assert client(graph).send(LIVE, job) == "wamid.HBgM"
    [request] = graph.requests
    assert str(request.url) == f"https://graph.facebook.com/v23.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == "Bearer EAAG-live-token"
    assert json.loads(request.content)["text"] == {"body": "hi", "preview_url": False}


def test_a_test_number_talks_to_the_simulated_graph_api():
    graph = FakeGraph([httpx.Response(200, json=SENT)])
    client(graph).send(TEST, {"type": "text", "content": {"body": "hi"}, "to_jid": TO})
    assert str(graph.requests[0].url).startswith("http://127.0.0.1:9/graph/v23.0/")


def test_media_are_uploaded_then_sent_two_calls():
    graph = FakeGraph([httpx.Response(200, json={"id": "4490709327384033"}), httpx.Response(200, json=SENT)])
    job = {"type": "image", "content": {"media": MEDIA, "caption": "c"}, "to_jid": TO}
    assert client(graph).send(LIVE, job, b"\xff\xd8\xff") == "wamid.HBgM"
    upload, send = graph.requests
    assert str(upload.url).endswith(f"/{PHONE_NUMBER_ID}/media") and b"messaging_product" in upload.content
    assert json.loads(send.content)["image"] == {"id": "4490709327384033", "caption": "c"}


def test_an_unsupported_content_is_refused_before_any_call():
    graph = FakeGraph([])
    with pytest.raises(UnsupportedCloudContent):
        client(graph).send(LIVE, {"type": "poll", "content": {}, "to_jid": TO})
    assert graph.requests == []


def test_graph_errors_keep_metas_code_and_title_never_the_token():
    graph = FakeGraph([httpx.Response(400, json=graph_error(131056, "(#131056) Pair rate limit hit"))])
    with pytest.raises(GraphFailure) as raised:
        client(graph).send(LIVE, {"type": "text", "content": {"body": "x"}, "to_jid": TO})
    assert (raised.value.status, raised.value.code) == (400, 131056)
    assert raised.value.meta.retry == "rate"
    assert "EAAG-live-token" not in str(raised.value)


def test_the_number_check_and_a_refused_token():
    facts = {
        "display_phone_number": "+1 555-078-3881",
        "verified_name": "Acme",
        "quality_rating": "GREEN",
        "id": PHONE_NUMBER_ID,
    }
    graph = FakeGraph([httpx.Response(200, json=facts), httpx.Response(401, json=graph_error(190, "Expired"))])
    assert client(graph).number(LIVE) == facts
    assert graph.requests[0].url.params["fields"] == "display_phone_number,verified_name,quality_rating"
    with pytest.raises(GraphFailure) as raised:
        client(graph).number(LIVE)
    assert raised.value.meta.code == "cloud_token_invalid"


def test_an_unreachable_graph_is_transient():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = GraphApi(
        live_url="https://graph.facebook.com", test_url=None, version="v23.0", transport=httpx.MockTransport(down)
    )
    with pytest.raises(GraphFailure) as raised:
        api.mark_read(LIVE, "wamid.X")
    assert raised.value.status == 0 and raised.value.meta.retry == "transient"


def test_received_media_are_looked_up_then_downloaded_with_the_token():
    info = {
        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
        "mime_type": "image/jpeg",
        "sha256": "abc",
        "file_size": 3,
        "id": "M1",
        "messaging_product": "whatsapp",
    }
    graph = FakeGraph([httpx.Response(200, json=info), httpx.Response(200, content=b"\xff\xd8\xff")])
    assert client(graph).media(LIVE, "M1", 1024) == (b"\xff\xd8\xff", "image/jpeg")
    lookup, download = graph.requests
    assert str(lookup.url).endswith("/v23.0/M1") and download.headers["authorization"] == "Bearer EAAG-live-token"


def test_mark_read_is_metas_read_status():
    graph = FakeGraph([httpx.Response(200, json={"success": True})])
    client(graph).mark_read(LIVE, "wamid.IN")
    assert json.loads(graph.requests[0].content) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
    }


# --- the queue a job goes to ----------------------------------------------------------------------------------


def test_a_cloud_numbers_jobs_go_to_the_cloud_queue_one_group_per_conversation():
    from bzapper.adapters.aws.queues import job_group, job_queue_name
    from bzapper.domain.model import OutboundMessage
    from bzapper.topology import CLOUD_QUEUE, CLOUD_SHARD

    def message(shard: int, to: str = TO, kind: str = "text") -> OutboundMessage:
        return OutboundMessage("msg_1", "acct", "inst_1", False, kind, {}, to, None, None, "w", 0, shard)

    assert (job_queue_name(message(CLOUD_SHARD)), job_group(message(CLOUD_SHARD))) == (CLOUD_QUEUE, f"inst_1:{TO}")
    assert job_group(message(CLOUD_SHARD, "5511977776666@s.whatsapp.net")) != job_group(message(CLOUD_SHARD))
    assert (job_queue_name(message(2)), job_group(message(2))) == ("shard-2", "inst_1")  # unchanged for workers
    assert job_queue_name(message(2, kind="otp")) == "priority-2"


def test_the_wabas_templates_are_listed_page_after_page():
    first = {
        "data": [
            {
                "id": "1",
                "name": "order_update",
                "language": "en",
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [],
            }
        ],
        "paging": {"cursors": {"before": "A", "after": "B"}, "next": "https://graph.facebook.com/next"},
    }
    last = {
        "data": [
            {
                "id": "2",
                "name": "verification_code",
                "language": "pt_BR",
                "status": "APPROVED",
                "category": "AUTHENTICATION",
                "components": [],
            }
        ],
        "paging": {"cursors": {"before": "B"}},
    }
    graph = FakeGraph([httpx.Response(200, json=first), httpx.Response(200, json=last)])
    assert [t["name"] for t in client(graph).templates(LIVE)] == ["order_update", "verification_code"]
    one, two = graph.requests
    assert one.url.path == f"/v23.0/{WABA_ID}/message_templates" and "after" not in one.url.params
    assert two.url.params["after"] == "B"
