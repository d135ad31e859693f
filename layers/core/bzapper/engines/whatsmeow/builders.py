"""bzapper content (bzapper.domain.content) -> WhatsApp's protobuf messages. Pure: no I/O, no clock, no randomness.

Media bytes are uploaded by the engine first; a builder gets the upload's result (`Uploaded`). The time and
the poll secret come in through `Context`, so the same inputs always build the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bzapper.domain.status_posts import (
    DEFAULT_BACKGROUND,
    FONTS,
    MEDIA_KINDS,
    STATUS_TYPE,
    TEXT_COLOR_ARGB,
    argb,
)
from bzapper.engines.whatsmeow import vcards
from bzapper.engines.whatsmeow.jids import GROUP_SERVER, server_of
from bzapper.engines.whatsmeow.lib import MediaType, MessageKey, e2e

Message = e2e.Message

# WhatsApp's limits for interactive messages; past them the message is sent as numbered text.
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_LIST_SECTIONS = 10
MAX_LIST_BUTTON_TEXT = 20

MEDIA_TYPE = {
    "image": MediaType.MediaImage,
    "video": MediaType.MediaVideo,
    "document": MediaType.MediaDocument,
    "audio": MediaType.MediaAudio,
    "sticker": MediaType.MediaImage,  # stickers travel on the image media path
}

VOICE_MIME = "audio/ogg; codecs=opus"  # what WhatsApp expects of a push-to-talk note


class UnsupportedContent(ValueError):
    """The content cannot become a WhatsApp message (a type we do not know, a missing OTP code)."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """What WhatsApp's media server returned for our encrypted upload (neonize's UploadResponse)."""

    url: str
    direct_path: str
    media_key: bytes
    file_enc_sha256: bytes
    file_sha256: bytes
    file_length: int


@dataclass(frozen=True, slots=True)
class Context:
    own_jid: str
    """This instance's own user JID: the participant of a quoted message we sent."""
    now_ms: int
    secret: bytes = b""
    """32 random bytes: a poll's message secret (votes are encrypted with it)."""
    interactive: str = "native"
    """"native": buttons and lists as WhatsApp's interactive messages (within limits); "text": always numbered text."""


def context_info(content: dict[str, Any], own_jid: str) -> e2e.ContextInfo | None:
    """The quoted reply and the mentions of any content, or None when it has neither."""
    reply = content.get("reply_to")
    mentions = content.get("mentions") or []
    if not reply and not mentions:
        return None
    info = e2e.ContextInfo(mentionedJID=list(mentions))
    if reply:
        info.stanzaID = reply["wa_message_id"]
        info.participant = own_jid if reply.get("from_me") else reply.get("sender_jid") or reply["chat_jid"]
        # WhatsApp draws the quote from this copy; we keep only the preview text of the quoted message.
        info.quotedMessage.CopyFrom(Message(conversation=reply.get("preview") or ""))
    return info


def message_key(target: dict[str, Any]) -> MessageKey:
    """The key of a message we react to, edit or revoke."""
    key = MessageKey(remoteJID=target["chat_jid"], fromMe=bool(target.get("from_me")), ID=target["wa_message_id"])
    # In a group, someone else's message is also named by who sent it.
    if not key.fromMe and target.get("sender_jid") and server_of(target["chat_jid"]) == GROUP_SERVER:
        key.participant = target["sender_jid"]
    return key


def build(
    kind: str,
    content: dict[str, Any],
    ctx: Context,
    *,
    uploaded: Uploaded | None = None,
    otp_code: str | None = None,
) -> list[Message]:
    """The WhatsApp messages of one bzapper message, in sending order (an OTP is two)."""
    if kind == STATUS_TYPE:
        return [_status(content, ctx, uploaded)]
    if kind in MEDIA_TYPE:
        if uploaded is None:
            raise UnsupportedContent(f"{kind} needs its media uploaded first")
        return [_media(kind, content, uploaded, ctx)]
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnsupportedContent(f"unknown message type {kind!r}")
    if kind == "otp":
        if not otp_code:
            raise UnsupportedContent("an OTP needs its code")
        return [Message(conversation=content["body"]), Message(conversation=otp_code)]
    return [builder(content, ctx)]


def _text(content: dict[str, Any], ctx: Context) -> Message:
    info = context_info(content, ctx.own_jid)
    if info is None:
        return Message(conversation=content["body"])
    return Message(extendedTextMessage=e2e.ExtendedTextMessage(text=content["body"], contextInfo=info))


def _media(kind: str, content: dict[str, Any], up: Uploaded, ctx: Context) -> Message:
    media = content["media"]
    common: dict[str, Any] = {
        "URL": up.url,
        "directPath": up.direct_path,
        "mediaKey": up.media_key,
        "fileEncSHA256": up.file_enc_sha256,
        "fileSHA256": up.file_sha256,
        "fileLength": up.file_length,
        "mediaKeyTimestamp": ctx.now_ms // 1000,
        "mimetype": media["mime_type"],
    }
    info = context_info(content, ctx.own_jid)
    if info is not None:
        common["contextInfo"] = info
    caption = content.get("caption")
    if caption and kind in ("image", "video", "document"):
        common["caption"] = caption
    if kind == "image":
        return Message(imageMessage=e2e.ImageMessage(**common))
    if kind == "video":
        return Message(videoMessage=e2e.VideoMessage(**common))
    if kind == "document":
        filename = content.get("filename") or media.get("filename") or "file"
        return Message(documentMessage=e2e.DocumentMessage(fileName=filename, title=filename, **common))
    if kind == "audio":
        voice = bool(content.get("voice"))
        if voice and common["mimetype"].split(";")[0].strip() == "audio/ogg":
            common["mimetype"] = VOICE_MIME
        return Message(audioMessage=e2e.AudioMessage(PTT=voice, **common))
    common["mimetype"] = "image/webp"  # the only sticker format WhatsApp draws
    return Message(stickerMessage=e2e.StickerMessage(**common))


FONT_TYPES = dict(
    zip(
        FONTS,
        (
            e2e.ExtendedTextMessage.SYSTEM,
            e2e.ExtendedTextMessage.SYSTEM_TEXT,
            e2e.ExtendedTextMessage.FB_SCRIPT,
            e2e.ExtendedTextMessage.SYSTEM_BOLD,
            e2e.ExtendedTextMessage.MORNINGBREEZE_REGULAR,
            e2e.ExtendedTextMessage.CALISTOGA_REGULAR,
            e2e.ExtendedTextMessage.EXO2_EXTRABOLD,
            e2e.ExtendedTextMessage.COURIERPRIME_BOLD,
        ),
        strict=True,
    )
)
"""Our status fonts (bzapper.domain.status_posts.FONTS) as WhatsApp's."""


def status_media_type(content: dict[str, Any]) -> MediaType | None:
    """The upload path of a status post's file (None for a text status)."""
    kind = content.get("kind")
    return MEDIA_TYPE[kind] if kind in MEDIA_KINDS else None


def _status(content: dict[str, Any], ctx: Context, uploaded: Uploaded | None) -> Message:
    """A status post's message (sent to status@broadcast): text on a background in a font, or an image or a
    video with its caption, as WhatsApp's apps build them."""
    kind = content.get("kind")
    if kind == "text":
        text = e2e.ExtendedTextMessage(
            text=content["body"],
            textArgb=TEXT_COLOR_ARGB,
            backgroundArgb=argb(content.get("background_color") or DEFAULT_BACKGROUND),
            font=FONT_TYPES[content.get("font") or "sans"],
        )
        return Message(extendedTextMessage=text)
    if kind in MEDIA_KINDS:
        if uploaded is None:
            raise UnsupportedContent(f"a {kind} status needs its media uploaded first")
        media = {name: value for name, value in content.items() if name in ("media", "caption")}
        return _media(str(kind), media, uploaded, ctx)
    raise UnsupportedContent(f"unknown status kind {kind!r}")


def _location(content: dict[str, Any], ctx: Context) -> Message:
    location = e2e.LocationMessage(
        degreesLatitude=float(content["latitude"]), degreesLongitude=float(content["longitude"])
    )
    if content.get("name"):
        location.name = content["name"]
    if content.get("address"):
        location.address = content["address"]
    info = context_info(content, ctx.own_jid)
    if info is not None:
        location.contextInfo.CopyFrom(info)
    return Message(locationMessage=location)


def _contact(content: dict[str, Any], ctx: Context) -> Message:
    contacts = content.get("contacts") or []
    cards = list(content.get("vcards") or [vcards.build(contact) for contact in contacts])
    names = [contact.get("name", "") for contact in contacts] or [vcards.parse(card)["name"] for card in cards]
    names += [""] * (len(cards) - len(names))
    info = context_info(content, ctx.own_jid)
    if len(cards) == 1:
        single = e2e.ContactMessage(displayName=names[0], vcard=cards[0])
        if info is not None:
            single.contextInfo.CopyFrom(info)
        return Message(contactMessage=single)
    many = e2e.ContactsArrayMessage(
        displayName=f"{len(cards)} contacts",
        contacts=[e2e.ContactMessage(displayName=name, vcard=card) for name, card in zip(names, cards, strict=True)],
    )
    if info is not None:
        many.contextInfo.CopyFrom(info)
    return Message(contactsArrayMessage=many)


def _poll(content: dict[str, Any], ctx: Context) -> Message:
    poll = e2e.PollCreationMessage(
        name=content["name"],
        options=[e2e.PollCreationMessage.Option(optionName=option) for option in content["options"]],
        selectableOptionsCount=int(content.get("selectable_count") or 0),
    )
    info = context_info(content, ctx.own_jid)
    if info is not None:
        poll.contextInfo.CopyFrom(info)
    return Message(pollCreationMessage=poll, messageContextInfo=e2e.MessageContextInfo(messageSecret=ctx.secret))


def _reaction(content: dict[str, Any], ctx: Context) -> Message:
    return Message(
        reactionMessage=e2e.ReactionMessage(
            key=message_key(content["target"]), text=content.get("emoji") or "", senderTimestampMS=ctx.now_ms
        )
    )


def _edit(content: dict[str, Any], ctx: Context) -> Message:
    target = content["target"]
    edit = e2e.ProtocolMessage(
        key=MessageKey(remoteJID=target["chat_jid"], fromMe=True, ID=target["wa_message_id"]),
        type=e2e.ProtocolMessage.MESSAGE_EDIT,
        editedMessage=Message(conversation=content["body"]),
        timestampMS=ctx.now_ms,
    )
    return Message(editedMessage=e2e.FutureProofMessage(message=Message(protocolMessage=edit)))


def _revoke(content: dict[str, Any], ctx: Context) -> Message:
    return Message(
        protocolMessage=e2e.ProtocolMessage(type=e2e.ProtocolMessage.REVOKE, key=message_key(content["target"]))
    )


def _buttons(content: dict[str, Any], ctx: Context) -> Message:
    buttons = content["buttons"]
    fits = 0 < len(buttons) <= MAX_BUTTONS and all(len(b["title"]) <= MAX_BUTTON_TITLE for b in buttons)
    if ctx.interactive != "native" or not fits:
        return _fallback(content, ctx, [[b["title"] for b in buttons]], [""])
    message = e2e.ButtonsMessage(
        contentText=content["body"],
        headerType=e2e.ButtonsMessage.EMPTY,
        buttons=[
            e2e.ButtonsMessage.Button(
                buttonID=b["id"],
                buttonText=e2e.ButtonsMessage.Button.ButtonText(displayText=b["title"]),
                type=e2e.ButtonsMessage.Button.RESPONSE,
            )
            for b in buttons
        ],
    )
    if content.get("footer"):
        message.footerText = content["footer"]
    info = context_info(content, ctx.own_jid)
    if info is not None:
        message.contextInfo.CopyFrom(info)
    return Message(buttonsMessage=message)


def _list(content: dict[str, Any], ctx: Context) -> Message:
    sections = content["sections"]
    rows = sum(len(section["rows"]) for section in sections)
    fits = (
        0 < rows <= MAX_LIST_ROWS
        and len(sections) <= MAX_LIST_SECTIONS
        and len(content["button_text"]) <= MAX_LIST_BUTTON_TEXT
    )
    if ctx.interactive != "native" or not fits:
        options = [
            [row["title"] + (f" - {row['description']}" if row.get("description") else "") for row in section["rows"]]
            for section in sections
        ]
        return _fallback(content, ctx, options, [section.get("title", "") for section in sections])
    message = e2e.ListMessage(
        description=content["body"],
        buttonText=content["button_text"],
        listType=e2e.ListMessage.SINGLE_SELECT,
        sections=[
            e2e.ListMessage.Section(
                title=section.get("title", ""),
                rows=[
                    e2e.ListMessage.Row(rowID=row["id"], title=row["title"], description=row.get("description", ""))
                    for row in section["rows"]
                ],
            )
            for section in sections
        ],
    )
    if content.get("footer"):
        message.footerText = content["footer"]
    info = context_info(content, ctx.own_jid)
    if info is not None:
        message.contextInfo.CopyFrom(info)
    return Message(listMessage=message)


def fallback_text(body: str, groups: list[list[str]], titles: list[str], footer: str | None) -> str:
    """Buttons or a list as plain text: the body, the options numbered 1..n across sections, the footer."""
    parts = [body]
    number = 0
    for title, options in zip(titles, groups, strict=True):
        lines = [f"*{title}*"] if title else []
        for option in options:
            number += 1
            lines.append(f"{number}. {option}")
        parts.append("\n".join(lines))
    if footer:
        parts.append(footer)
    return "\n\n".join(part for part in parts if part)


def _fallback(content: dict[str, Any], ctx: Context, groups: list[list[str]], titles: list[str]) -> Message:
    text = fallback_text(content["body"], groups, titles, content.get("footer"))
    return _text({**content, "body": text}, ctx)


_BUILDERS = {
    "text": _text,
    "location": _location,
    "contact": _contact,
    "poll": _poll,
    "reaction": _reaction,
    "edit": _edit,
    "revoke": _revoke,
    "buttons": _buttons,
    "list": _list,
    "otp": _text,  # handled in build(): two messages
}
