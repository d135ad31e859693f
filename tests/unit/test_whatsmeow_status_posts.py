"""Status posts on whatsmeow, offline against the fake neonize client: what neonize 0.5.2's send_message gets for
status@broadcast (an ExtendedTextMessage with background, text color and font; an image or a video with its
caption, uploaded first), what it cannot do (an audience: not_supported, nothing sent), and the viewers'
receipts and other people's statuses as the mapping reads them."""

from __future__ import annotations

import pytest
from test_whatsmeow_engine import INSTANCE, Harness, job

from bzapper.domain.engine import PermanentFailure
from bzapper.engines.whatsmeow import builders, jids, lib, mapping
from bzapper.engines.whatsmeow.lib import e2e
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb

STATUS = "status@broadcast"
VIEWER = "5511988880001@s.whatsapp.net"
VIEWER_LID = "100000000000000001@lid"


@pytest.fixture
def h(tmp_path) -> Harness:
    return Harness(tmp_path)


MEDIA = {"media_id": "med_1", "key": "acc_1/med_1", "mime_type": "video/mp4", "size": 10, "sha256": "00"}


def test_a_text_status_is_an_extended_text_on_its_background_in_its_font(h):
    h.connect()
    content = {"kind": "text", "body": "Open Sunday", "background_color": "#25D366", "font": "mono"}
    ack = h.engine.send(INSTANCE, job("status", content, to=STATUS))
    [(to, message)] = h.client.sent
    assert to == STATUS and h.client.queries == []  # status@broadcast is not looked up as a number
    text = message.extendedTextMessage
    assert (text.text, text.backgroundArgb, text.textArgb) == ("Open Sunday", 0xFF25D366, 0xFFFFFFFF)
    assert text.font == e2e.ExtendedTextMessage.COURIERPRIME_BOLD
    assert ack.wa_message_id == "3EB0SRV1"


def test_a_text_status_without_choices_gets_whatsapps_teal_and_the_system_font(h):
    h.connect()
    h.engine.send(INSTANCE, job("status", {"kind": "text", "body": "x"}, to=STATUS))
    text = h.client.sent[0][1].extendedTextMessage
    assert (text.backgroundArgb, text.font) == (0xFF128C7E, e2e.ExtendedTextMessage.SYSTEM)


@pytest.mark.parametrize(
    ("kind", "media_type", "field"),
    [("image", lib.MediaType.MediaImage, "imageMessage"), ("video", lib.MediaType.MediaVideo, "videoMessage")],
)
def test_a_media_status_is_uploaded_then_sent_with_its_caption(h, kind, media_type, field):
    h.connect()
    h.engine.send(INSTANCE, job("status", {"kind": kind, "media": MEDIA, "caption": "New"}, to=STATUS))
    assert h.fetched == [MEDIA]
    [(data, uploaded_as)] = h.client.uploads
    assert (data, uploaded_as) == (b"IMAGEBYTES", media_type)
    [(to, message)] = h.client.sent
    sent = getattr(message, field)
    assert (to, sent.caption, sent.URL, sent.mimetype) == (STATUS, "New", "https://mmg/x", "video/mp4")


def test_an_audience_is_not_supported_and_nothing_is_sent(h):
    h.connect()
    content = {"kind": "text", "body": "x", "audience": [VIEWER]}
    with pytest.raises(PermanentFailure) as failure:
        h.engine.send(INSTANCE, job("status", content, to=STATUS))
    assert failure.value.code == "not_supported"
    assert h.client.sent == [] and h.client.uploads == []


def test_an_unknown_status_kind_is_not_supported(h):
    h.connect()
    with pytest.raises(PermanentFailure) as failure:
        h.engine.send(INSTANCE, job("status", {"kind": "poll"}, to=STATUS))
    assert failure.value.code == "not_supported" and h.client.sent == []


def test_every_font_has_whatsapps_own():
    ctx = builders.Context(own_jid="5511900000001@s.whatsapp.net", now_ms=0)
    fonts = {
        name: builders.build("status", {"kind": "text", "body": "x", "font": name}, ctx)[0].extendedTextMessage.font
        for name in builders.FONTS
    }
    assert len(set(fonts.values())) == len(builders.FONTS)


def test_a_viewers_receipt_names_the_viewer():
    source = pb.MessageSource(Chat=jids.to_proto(STATUS), Sender=jids.to_proto(VIEWER_LID))
    source.SenderAlt.CopyFrom(jids.to_proto(VIEWER))
    event = pb.Receipt(MessageSource=source, MessageIDs=["3EB0A"], Timestamp=1_700_000_100, Type=pb.Receipt.READ)
    [found] = mapping.receipts(INSTANCE, event, 0)
    assert (found["chat_jid"], found["status"], found["wa_message_id"]) == (STATUS, "read", "3EB0A")
    assert found["participant"] == {"jid": VIEWER_LID, "lid": VIEWER_LID, "phone": "+5511988880001"}


@pytest.mark.parametrize(
    "message",
    [
        e2e.Message(extendedTextMessage=e2e.ExtendedTextMessage(text="my day", backgroundArgb=0xFF000000)),
        e2e.Message(imageMessage=e2e.ImageMessage(caption="beach", mimetype="image/jpeg")),
    ],
)
def test_a_contacts_status_never_becomes_an_inbox_message(message):
    """Someone else's status (status@broadcast traffic) is dropped by the mapping: no inbound event at all."""
    source = pb.MessageSource(Chat=jids.to_proto(STATUS), Sender=jids.to_proto(VIEWER), IsGroup=True)
    event = pb.Message(Info=pb.MessageInfo(MessageSource=source, ID="3EB0THEIRS", Timestamp=1), Message=message)
    assert mapping.inbound(INSTANCE, event, 0, frozenset({"5511900000001@s.whatsapp.net"})) is None
