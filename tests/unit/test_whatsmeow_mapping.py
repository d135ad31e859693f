"""neonize events (built as the Go side encodes them) -> engine events."""

from __future__ import annotations

import pytest

from bzapper.engines.whatsmeow import jids, mapping, vcards
from bzapper.engines.whatsmeow.lib import MessageKey, e2e
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb

INSTANCE = "inst_1"
OWN = "5511900000001@s.whatsapp.net"
OWN_LID = "111111111111111@lid"
OWNS = frozenset({OWN, OWN_LID})
PEER = "5511988887777@s.whatsapp.net"
PEER_LID = "222222222222222@lid"
GROUP = "120363000000000001@g.us"
NOW = 1_700_000_999_000


def jid(value: str) -> pb.JID:
    return jids.to_proto(value)


def event(
    message: e2e.Message,
    *,
    chat: str = PEER,
    sender: str = PEER,
    sender_alt: str = "",
    recipient_alt: str = "",
    from_me: bool = False,
    timestamp: int = 1_700_000_000_000,
    push_name: str = "Ana",
    message_id: str = "3EB0IN",
) -> pb.Message:
    source = pb.MessageSource(Chat=jid(chat), Sender=jid(sender), IsFromMe=from_me, IsGroup=chat.endswith("@g.us"))
    # goneonize always encodes both alternates; an unknown one is the empty JID.
    source.SenderAlt.CopyFrom(jid(sender_alt) if sender_alt else pb.JID(IsEmpty=True))
    source.RecipientAlt.CopyFrom(jid(recipient_alt) if recipient_alt else pb.JID(IsEmpty=True))
    info = pb.MessageInfo(MessageSource=source, ID=message_id, Timestamp=timestamp, Pushname=push_name)
    return pb.Message(Info=info, Message=message)


def inbound(message: e2e.Message, lookup=None, **kwargs) -> tuple[dict, e2e.Message | None]:
    found = mapping.inbound(INSTANCE, event(message, **kwargs), NOW, OWNS, lookup)
    assert found is not None
    return found


def test_text_message():
    found, media = inbound(e2e.Message(conversation="oi"))
    assert media is None
    assert found == {
        "kind": "inbound",
        "instance_id": INSTANCE,
        "wa_message_id": "3EB0IN",
        "chat_jid": PEER,
        "from_me": False,
        "sender": {"jid": PEER, "phone": "+5511988887777", "push_name": "Ana"},
        "type": "text",
        "content": {"body": "oi"},
        "at": 1_700_000_000_000,
    }


def test_times_in_seconds_become_milliseconds():
    found, _ = inbound(e2e.Message(conversation="oi"), timestamp=1_700_000_000)
    assert found["at"] == 1_700_000_000_000
    assert mapping.to_ms(0, NOW) == NOW


def test_lid_addressed_chat_is_reported_by_its_phone_when_the_event_knows_it():
    found, _ = inbound(e2e.Message(conversation="oi"), chat=PEER_LID, sender=PEER_LID, sender_alt=PEER)
    assert found["chat_jid"] == PEER
    assert found["sender"] == {"jid": PEER_LID, "phone": "+5511988887777", "lid": PEER_LID, "push_name": "Ana"}


def test_lid_addressed_chat_uses_the_store_lookup_else_stays_a_lid():
    known, _ = inbound(e2e.Message(conversation="oi"), chat=PEER_LID, sender=PEER_LID, lookup={PEER_LID: PEER}.get)
    assert known["chat_jid"] == PEER
    assert known["sender"]["phone"] == "+5511988887777"
    unknown, _ = inbound(e2e.Message(conversation="oi"), chat=PEER_LID, sender=PEER_LID)
    assert unknown["chat_jid"] == PEER_LID
    assert "phone" not in unknown["sender"]


def test_from_me_echo_of_the_phone_names_the_peer_as_the_chat():
    found, _ = inbound(
        e2e.Message(conversation="sent from my phone"),
        chat=PEER_LID,
        sender=OWN,
        recipient_alt=PEER,
        from_me=True,
    )
    assert found["from_me"] is True
    assert found["chat_jid"] == PEER
    assert found["sender"]["jid"] == OWN


def test_source_pairs_give_every_phone_lid_pair():
    source = event(e2e.Message(conversation="x"), chat=PEER_LID, sender=PEER_LID, sender_alt=PEER).Info.MessageSource
    assert mapping.source_pairs(source) == [("+5511988887777", PEER_LID)]
    plain = event(e2e.Message(conversation="x")).Info.MessageSource
    assert mapping.source_pairs(plain) == []


def test_group_message_keeps_the_group_as_the_chat():
    found, _ = inbound(e2e.Message(conversation="hi all"), chat=GROUP, sender=PEER)
    assert found["chat_jid"] == GROUP
    assert found["sender"]["jid"] == PEER


@pytest.mark.parametrize("chat", ["status@broadcast", "120363000000000009@newsletter"])
def test_statuses_and_newsletters_are_not_inbox_messages(chat):
    assert mapping.inbound(INSTANCE, event(e2e.Message(conversation="x"), chat=chat), NOW, OWNS) is None


def test_reply_and_mentions_come_back_in_bzappers_shape():
    text = e2e.ExtendedTextMessage(
        text="yes @5511900000001",
        contextInfo=e2e.ContextInfo(
            stanzaID="3EB0OURS",
            participant=OWN,
            quotedMessage=e2e.Message(conversation="Are you coming?"),
            mentionedJID=[OWN],
        ),
    )
    found, _ = inbound(e2e.Message(extendedTextMessage=text))
    assert found["content"] == {
        "body": "yes @5511900000001",
        "reply_to": {
            "wa_message_id": "3EB0OURS",
            "chat_jid": PEER,
            "from_me": True,
            "sender_jid": OWN,
            "preview": "Are you coming?",
        },
        "mentions": [OWN],
    }


def test_image_reports_its_media_and_hands_back_the_part_to_download():
    image = e2e.ImageMessage(mimetype="image/jpeg", fileLength=2048, fileSHA256=b"\x01\x02", caption="sunset")
    found, media = inbound(e2e.Message(imageMessage=image))
    assert found["type"] == "image"
    assert found["content"] == {
        "media": {"mime_type": "image/jpeg", "size": 2048, "sha256": "0102"},
        "caption": "sunset",
    }
    assert media is not None and media.imageMessage == image


def test_document_with_caption_is_unwrapped():
    document = e2e.DocumentMessage(mimetype="application/pdf", fileLength=9, fileName="r.pdf", caption="Q3")
    wrapped = e2e.Message(
        documentWithCaptionMessage=e2e.FutureProofMessage(message=e2e.Message(documentMessage=document))
    )
    found, media = inbound(wrapped)
    assert found["type"] == "document"
    assert found["content"]["filename"] == "r.pdf"
    assert found["content"]["caption"] == "Q3"
    assert found["content"]["media"]["filename"] == "r.pdf"
    assert media is not None and media.documentMessage.fileName == "r.pdf"


def test_voice_note_video_and_sticker():
    voice, _ = inbound(e2e.Message(audioMessage=e2e.AudioMessage(mimetype="audio/ogg; codecs=opus", PTT=True)))
    assert (voice["type"], voice["content"]["voice"]) == ("audio", True)
    video, _ = inbound(e2e.Message(videoMessage=e2e.VideoMessage(mimetype="video/mp4")))
    assert video["type"] == "video"
    sticker, media = inbound(e2e.Message(stickerMessage=e2e.StickerMessage(mimetype="image/webp")))
    assert sticker["type"] == "sticker"
    assert media is not None and media.HasField("stickerMessage")


def test_view_once_and_ephemeral_wrappers_are_unwrapped():
    inner = e2e.Message(imageMessage=e2e.ImageMessage(mimetype="image/png"))
    once, _ = inbound(e2e.Message(viewOnceMessageV2=e2e.FutureProofMessage(message=inner)))
    assert once["type"] == "image"
    ephemeral, _ = inbound(e2e.Message(ephemeralMessage=e2e.FutureProofMessage(message=e2e.Message(conversation="x"))))
    assert ephemeral["content"] == {"body": "x"}


def test_locations():
    place = e2e.LocationMessage(degreesLatitude=-23.5, degreesLongitude=-46.6, name="Sé", address="Centro")
    found, _ = inbound(e2e.Message(locationMessage=place))
    assert found["content"] == {"latitude": -23.5, "longitude": -46.6, "name": "Sé", "address": "Centro"}
    live, _ = inbound(
        e2e.Message(liveLocationMessage=e2e.LiveLocationMessage(degreesLatitude=1.5, degreesLongitude=2.5))
    )
    assert live["content"] == {"latitude": 1.5, "longitude": 2.5}


def test_contacts_are_parsed_from_their_vcards():
    card = vcards.build({"name": "Ana", "phones": [{"number": "+5511988887777", "type": "cell"}]})
    found, _ = inbound(e2e.Message(contactMessage=e2e.ContactMessage(displayName="Ana", vcard=card)))
    assert found["content"] == {
        "contacts": [{"name": "Ana", "phones": [{"number": "+5511988887777", "type": "cell"}]}],
        "vcards": [card],
    }
    several = e2e.ContactsArrayMessage(
        contacts=[e2e.ContactMessage(displayName="A", vcard=card), e2e.ContactMessage(displayName="B", vcard="")]
    )
    found, _ = inbound(e2e.Message(contactsArrayMessage=several))
    assert [c["name"] for c in found["content"]["contacts"]] == ["Ana", "B"]  # the display name when the card has none


def test_poll():
    poll = e2e.PollCreationMessage(
        name="Lunch?",
        options=[e2e.PollCreationMessage.Option(optionName=o) for o in ("Y", "N")],
        selectableOptionsCount=1,
    )
    found, _ = inbound(e2e.Message(pollCreationMessageV3=poll))
    assert (found["type"], found["content"]) == (
        "poll",
        {"name": "Lunch?", "options": ["Y", "N"], "selectable_count": 1},
    )


def test_reaction_keys_are_read_from_the_reactors_side():
    # The peer reacts to our message: in their key it is not "from me".
    on_ours = e2e.ReactionMessage(key=MessageKey(remoteJID=OWN, fromMe=False, ID="3EB0OURS"), text="👍")
    found, _ = inbound(e2e.Message(reactionMessage=on_ours))
    assert found["type"] == "reaction"
    assert found["content"] == {
        "target": {"wa_message_id": "3EB0OURS", "chat_jid": PEER, "from_me": True},
        "emoji": "👍",
    }
    # The peer reacts to their own message.
    on_theirs = e2e.ReactionMessage(key=MessageKey(remoteJID=OWN, fromMe=True, ID="3EB0THEIRS"), text="")
    found, _ = inbound(e2e.Message(reactionMessage=on_theirs))
    assert found["content"]["target"]["from_me"] is False
    # Our phone reacts (an echo): the key is already from our side.
    echo, _ = inbound(e2e.Message(reactionMessage=on_theirs), sender=OWN, from_me=True)
    assert echo["content"]["target"]["from_me"] is True


def test_revoke_and_edit():
    revoke = e2e.ProtocolMessage(
        type=e2e.ProtocolMessage.REVOKE, key=MessageKey(remoteJID=OWN, fromMe=True, ID="3EB0X")
    )
    found, _ = inbound(e2e.Message(protocolMessage=revoke))
    assert found["type"] == "revoke"
    assert found["content"] == {"target": {"wa_message_id": "3EB0X", "chat_jid": PEER, "from_me": False}}
    edit = e2e.ProtocolMessage(
        type=e2e.ProtocolMessage.MESSAGE_EDIT,
        key=MessageKey(remoteJID=OWN, fromMe=True, ID="3EB0X"),
        editedMessage=e2e.Message(conversation="fixed"),
    )
    found, _ = inbound(e2e.Message(protocolMessage=edit))
    assert found["type"] == "edit"
    assert found["content"] == {
        "target": {"wa_message_id": "3EB0X", "chat_jid": PEER, "from_me": False},
        "body": "fixed",
    }


def test_protocol_traffic_is_not_a_message():
    keys = e2e.ProtocolMessage(type=e2e.ProtocolMessage.APP_STATE_SYNC_KEY_SHARE)
    assert mapping.inbound(INSTANCE, event(e2e.Message(protocolMessage=keys)), NOW, OWNS) is None
    bare = e2e.Message(messageContextInfo=e2e.MessageContextInfo(messageSecret=b"x"))
    assert mapping.inbound(INSTANCE, event(bare), NOW, OWNS) is None


def test_answers_to_buttons_and_lists_arrive_as_text():
    button = e2e.ButtonsResponseMessage(selectedButtonID="y", selectedDisplayText="Yes")
    found, _ = inbound(e2e.Message(buttonsResponseMessage=button))
    assert (found["type"], found["content"]) == ("text", {"body": "Yes"})
    row = e2e.ListResponseMessage(title="Pizza")
    found, _ = inbound(e2e.Message(listResponseMessage=row))
    assert found["content"] == {"body": "Pizza"}


def test_anything_else_is_unknown_with_its_raw_type():
    found, _ = inbound(e2e.Message(groupInviteMessage=e2e.GroupInviteMessage(groupName="x")))
    assert (found["type"], found["content"]) == ("unknown", {"raw_type": "groupInviteMessage"})


def receipt(kind: int, ids=("3EB0A",), *, from_me: bool = False, chat: str = PEER, sender_alt: str = "") -> pb.Receipt:
    source = pb.MessageSource(Chat=jid(chat), Sender=jid(chat), IsFromMe=from_me)
    source.SenderAlt.CopyFrom(jid(sender_alt) if sender_alt else pb.JID(IsEmpty=True))
    return pb.Receipt(MessageSource=source, MessageIDs=list(ids), Timestamp=1_700_000_100, Type=kind)


@pytest.mark.parametrize(
    ("kind", "status"),
    [(pb.Receipt.DELIVERED, "delivered"), (pb.Receipt.READ, "read"), (pb.Receipt.PLAYED, "played")],
)
def test_receipts_per_message_id(kind, status):
    events = mapping.receipts(INSTANCE, receipt(kind, ("3EB0A", "3EB0B")), NOW)
    assert events == [
        {"kind": "receipt", "instance_id": INSTANCE, "chat_jid": PEER, "status": status, "at": 1_700_000_100_000,
         "wa_message_id": "3EB0A"},
        {"kind": "receipt", "instance_id": INSTANCE, "chat_jid": PEER, "status": status, "at": 1_700_000_100_000,
         "wa_message_id": "3EB0B"},
    ]  # fmt: skip


@pytest.mark.parametrize("kind", [pb.Receipt.READ_SELF, pb.Receipt.SENDER, pb.Receipt.RETRY, pb.Receipt.SERVER_ERROR])
def test_receipts_that_are_not_about_the_recipient_are_dropped(kind):
    assert mapping.receipts(INSTANCE, receipt(kind), NOW) == []


def test_receipts_from_our_own_devices_are_dropped():
    assert mapping.receipts(INSTANCE, receipt(pb.Receipt.READ, from_me=True), NOW) == []


def test_a_group_receipt_names_its_participant():
    group = "120363025246125888@g.us"
    source = pb.MessageSource(Chat=jid(group), Sender=jid(PEER_LID), IsGroup=True)
    source.SenderAlt.CopyFrom(jid(PEER))
    event = pb.Receipt(MessageSource=source, MessageIDs=["3EB0A"], Timestamp=1_700_000_100, Type=pb.Receipt.READ)
    [found] = mapping.receipts(INSTANCE, event, NOW)
    assert (found["chat_jid"], found["status"]) == (group, "read")
    assert found["participant"] == {"jid": PEER_LID, "lid": PEER_LID, "phone": "+" + PEER.partition("@")[0]}
    # A one-to-one receipt names no participant.
    assert "participant" not in mapping.receipts(INSTANCE, receipt(pb.Receipt.READ), NOW)[0]


def test_receipt_on_a_lid_chat_names_the_phone_chat():
    [event_] = mapping.receipts(INSTANCE, receipt(pb.Receipt.READ, chat=PEER_LID, sender_alt=PEER), NOW)
    assert event_["chat_jid"] == PEER


def test_state_events_leave_out_empty_fields():
    assert mapping.state(INSTANCE, "connected", 5, phone="+5511", lid="", push_name=None) == {
        "kind": "state",
        "instance_id": INSTANCE,
        "state": "connected",
        "at": 5,
        "phone": "+5511",
    }
