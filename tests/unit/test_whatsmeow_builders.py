"""bzapper content -> WhatsApp protobuf: one message per type, and the fields WhatsApp reads."""

from __future__ import annotations

import pytest

from bzapper.engines.whatsmeow import builders, vcards
from bzapper.engines.whatsmeow.lib import MediaType, e2e

OWN = "5511900000001@s.whatsapp.net"
PEER = "5511988887777@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
CTX = builders.Context(own_jid=OWN, now_ms=1_700_000_000_123, secret=b"s" * 32)
UPLOADED = builders.Uploaded(
    url="https://mmg.whatsapp.net/x",
    direct_path="/v/t62/x",
    media_key=b"k" * 32,
    file_enc_sha256=b"e" * 32,
    file_sha256=b"h" * 32,
    file_length=1234,
)


def media(mime: str, filename: str | None = None) -> dict:
    value = {"media_id": "med_1", "key": "acc/med_1", "mime_type": mime, "size": 1234, "sha256": "ab" * 32}
    if filename:
        value["filename"] = filename
    return value


def one(kind: str, content: dict, **kwargs) -> e2e.Message:
    [message] = builders.build(kind, content, CTX, **kwargs)
    return message


def test_plain_text_is_a_conversation():
    message = one("text", {"body": "Olá"})
    assert message.conversation == "Olá"
    assert not message.HasField("extendedTextMessage")


def test_text_with_reply_and_mentions_carries_a_context_info():
    content = {
        "body": "see @5511988887777",
        "reply_to": {"wa_message_id": "3EB0AAA", "chat_jid": PEER, "from_me": False, "preview": "earlier"},
        "mentions": [PEER],
    }
    message = one("text", content)
    text = message.extendedTextMessage
    assert text.text == "see @5511988887777"
    assert text.contextInfo.stanzaID == "3EB0AAA"
    assert text.contextInfo.participant == PEER  # their message: the chat is the sender in a 1:1
    assert text.contextInfo.quotedMessage.conversation == "earlier"
    assert list(text.contextInfo.mentionedJID) == [PEER]


def test_reply_to_our_own_message_names_us_as_the_participant():
    content = {"body": "again", "reply_to": {"wa_message_id": "3EB0BBB", "chat_jid": PEER, "from_me": True}}
    assert one("text", content).extendedTextMessage.contextInfo.participant == OWN


def test_reply_in_a_group_names_the_sender():
    reply = {"wa_message_id": "3EB0CCC", "chat_jid": GROUP, "from_me": False, "sender_jid": PEER}
    assert one("text", {"body": "x", "reply_to": reply}).extendedTextMessage.contextInfo.participant == PEER


@pytest.mark.parametrize(
    ("kind", "field", "mime"),
    [("image", "imageMessage", "image/jpeg"), ("video", "videoMessage", "video/mp4")],
)
def test_image_and_video_carry_the_upload_and_the_caption(kind, field, mime):
    message = one(kind, {"media": media(mime), "caption": "look"}, uploaded=UPLOADED)
    part = getattr(message, field)
    assert UPLOADED.url == part.URL
    assert part.directPath == UPLOADED.direct_path
    assert part.mediaKey == UPLOADED.media_key
    assert part.fileEncSHA256 == UPLOADED.file_enc_sha256
    assert part.fileSHA256 == UPLOADED.file_sha256
    assert part.fileLength == 1234
    assert part.mimetype == mime
    assert part.caption == "look"
    assert part.mediaKeyTimestamp == CTX.now_ms // 1000


def test_document_carries_its_file_name():
    content = {"media": media("application/pdf", "r.pdf"), "filename": "report.pdf", "caption": "Q3"}
    part = one("document", content, uploaded=UPLOADED).documentMessage
    assert part.fileName == "report.pdf"
    assert part.title == "report.pdf"
    assert part.caption == "Q3"
    assert part.mimetype == "application/pdf"


def test_voice_note_is_push_to_talk_opus():
    part = one("audio", {"media": media("audio/ogg"), "voice": True}, uploaded=UPLOADED).audioMessage
    assert part.PTT is True
    assert part.mimetype == "audio/ogg; codecs=opus"


def test_plain_audio_keeps_its_type():
    part = one("audio", {"media": media("audio/mpeg"), "voice": False}, uploaded=UPLOADED).audioMessage
    assert part.PTT is False
    assert part.mimetype == "audio/mpeg"


def test_sticker_is_webp():
    part = one("sticker", {"media": media("image/webp")}, uploaded=UPLOADED).stickerMessage
    assert part.mimetype == "image/webp"
    assert UPLOADED.url == part.URL


def test_media_reply_puts_the_context_on_the_media():
    reply = {"wa_message_id": "3EB0DDD", "chat_jid": PEER, "from_me": False}
    part = one("image", {"media": media("image/png"), "reply_to": reply}, uploaded=UPLOADED).imageMessage
    assert part.contextInfo.stanzaID == "3EB0DDD"


def test_media_without_an_upload_cannot_be_built():
    with pytest.raises(builders.UnsupportedContent):
        builders.build("image", {"media": media("image/png")}, CTX)


def test_media_types_upload_on_whatsapps_paths():
    assert {
        "image": MediaType.MediaImage,
        "video": MediaType.MediaVideo,
        "document": MediaType.MediaDocument,
        "audio": MediaType.MediaAudio,
        "sticker": MediaType.MediaImage,
    } == builders.MEDIA_TYPE


def test_location():
    content = {"latitude": -23.55, "longitude": -46.63, "name": "Sé", "address": "Praça da Sé"}
    part = one("location", content).locationMessage
    assert (part.degreesLatitude, part.degreesLongitude) == (-23.55, -46.63)
    assert (part.name, part.address) == ("Sé", "Praça da Sé")


def test_one_contact_is_a_contact_message_with_its_vcard():
    contact = {"name": "Ana", "phones": [{"number": "+5511988887777", "type": "cell"}]}
    card = vcards.build(contact)
    part = one("contact", {"contacts": [contact], "vcards": [card]}).contactMessage
    assert part.displayName == "Ana"
    assert part.vcard == card


def test_several_contacts_are_a_contacts_array():
    contacts = [{"name": "Ana", "phones": [{"number": "+5511988887777"}]}, {"name": "Bia", "phones": []}]
    message = one("contact", {"contacts": contacts, "vcards": [vcards.build(c) for c in contacts]})
    array = message.contactsArrayMessage
    assert array.displayName == "2 contacts"
    assert [c.displayName for c in array.contacts] == ["Ana", "Bia"]
    assert "waid=5511988887777" in array.contacts[0].vcard


def test_contact_without_vcards_gets_them_built():
    contact = {"name": "Ana", "phones": [{"number": "+5511988887777"}]}
    assert "FN:Ana" in one("contact", {"contacts": [contact], "vcards": []}).contactMessage.vcard


def test_poll_carries_options_and_a_message_secret():
    message = one("poll", {"name": "Lunch?", "options": ["Yes", "No"], "selectable_count": 1})
    poll = message.pollCreationMessage
    assert poll.name == "Lunch?"
    assert [o.optionName for o in poll.options] == ["Yes", "No"]
    assert poll.selectableOptionsCount == 1
    assert message.messageContextInfo.messageSecret == b"s" * 32  # votes are encrypted with it


def test_reaction_names_the_message_by_its_key():
    target = {"wa_message_id": "3EB0EEE", "chat_jid": PEER, "from_me": False}
    reaction = one("reaction", {"target": target, "emoji": "👍"}).reactionMessage
    assert reaction.text == "👍"
    assert (reaction.key.remoteJID, reaction.key.fromMe, reaction.key.ID) == (PEER, False, "3EB0EEE")
    assert not reaction.key.participant  # a 1:1 chat names nobody else
    assert reaction.senderTimestampMS == CTX.now_ms


def test_empty_emoji_removes_a_reaction():
    target = {"wa_message_id": "3EB0EEE", "chat_jid": PEER, "from_me": True}
    assert one("reaction", {"target": target, "emoji": ""}).reactionMessage.text == ""


def test_reaction_to_someone_elses_group_message_names_the_participant():
    target = {"wa_message_id": "3EB0FFF", "chat_jid": GROUP, "from_me": False, "sender_jid": PEER}
    assert one("reaction", {"target": target, "emoji": "❤"}).reactionMessage.key.participant == PEER


def test_edit_is_a_protocol_message_inside_an_edited_message():
    target = {"wa_message_id": "3EB0ABC", "chat_jid": PEER, "from_me": True}
    protocol = one("edit", {"target": target, "body": "fixed"}).editedMessage.message.protocolMessage
    assert protocol.type == e2e.ProtocolMessage.MESSAGE_EDIT
    assert (protocol.key.remoteJID, protocol.key.fromMe, protocol.key.ID) == (PEER, True, "3EB0ABC")
    assert protocol.editedMessage.conversation == "fixed"
    assert protocol.timestampMS == CTX.now_ms


def test_revoke_is_a_revoke_protocol_message():
    target = {"wa_message_id": "3EB0ABC", "chat_jid": PEER, "from_me": True}
    protocol = one("revoke", {"target": target}).protocolMessage
    assert protocol.type == e2e.ProtocolMessage.REVOKE
    assert (protocol.key.remoteJID, protocol.key.fromMe, protocol.key.ID) == (PEER, True, "3EB0ABC")


def test_buttons_within_whatsapps_limits_are_a_buttons_message():
    content = {"body": "Pick", "footer": "bz", "buttons": [{"id": "y", "title": "Yes"}, {"id": "n", "title": "No"}]}
    buttons = one("buttons", content).buttonsMessage
    assert buttons.contentText == "Pick"
    assert buttons.footerText == "bz"
    assert [(b.buttonID, b.buttonText.displayText) for b in buttons.buttons] == [("y", "Yes"), ("n", "No")]
    assert all(b.type == e2e.ButtonsMessage.Button.RESPONSE for b in buttons.buttons)


def test_too_many_buttons_fall_back_to_numbered_text():
    content = {"body": "Pick", "buttons": [{"id": str(i), "title": f"Option {i}"} for i in range(4)]}
    message = one("buttons", content)
    assert not message.HasField("buttonsMessage")
    assert message.conversation == "Pick\n\n1. Option 0\n2. Option 1\n3. Option 2\n4. Option 3"


def test_list_within_limits_is_a_list_message():
    content = {
        "body": "Menu",
        "button_text": "Open",
        "sections": [{"title": "Food", "rows": [{"id": "p", "title": "Pizza", "description": "big"}]}],
    }
    listing = one("list", content).listMessage
    assert (listing.description, listing.buttonText) == ("Menu", "Open")
    assert listing.listType == e2e.ListMessage.SINGLE_SELECT
    [section] = listing.sections
    assert section.title == "Food"
    assert [(r.rowID, r.title, r.description) for r in section.rows] == [("p", "Pizza", "big")]


def test_text_mode_sends_a_list_as_numbered_text_across_sections():
    content = {
        "body": "Menu",
        "footer": "Reply with a number",
        "button_text": "Open",
        "sections": [
            {"title": "Food", "rows": [{"id": "p", "title": "Pizza", "description": "big"}]},
            {"title": "Drinks", "rows": [{"id": "w", "title": "Water"}]},
        ],
    }
    ctx = builders.Context(own_jid=OWN, now_ms=1, interactive="text")
    [message] = builders.build("list", content, ctx)
    assert message.conversation == "Menu\n\n*Food*\n1. Pizza - big\n\n*Drinks*\n2. Water\n\nReply with a number"


def test_otp_is_the_text_then_the_code_alone():
    body, code = builders.build("otp", {"body": "Your code:", "code_sealed": "sealed"}, CTX, otp_code="123456")
    assert body.conversation == "Your code:"
    assert code.conversation == "123456"


def test_otp_without_its_code_cannot_be_built():
    with pytest.raises(builders.UnsupportedContent):
        builders.build("otp", {"body": "Your code:", "code_sealed": "sealed"}, CTX)


def test_unknown_type_cannot_be_built():
    with pytest.raises(builders.UnsupportedContent):
        builders.build("hologram", {}, CTX)


def test_every_message_type_of_the_domain_has_a_builder():
    from bzapper.domain.content import MEDIA_TYPES, MESSAGE_TYPES
    from bzapper.domain.instances import UNSENDABLE

    # A type this engine never sends (refused at accept time: templates are the Cloud API's) needs none.
    assert set(MESSAGE_TYPES) - set(MEDIA_TYPES) - UNSENDABLE["whatsmeow"] <= set(builders._BUILDERS)
    assert "template" not in builders._BUILDERS
    assert set(MEDIA_TYPES) == set(builders.MEDIA_TYPE)
