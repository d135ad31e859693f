"""The content of a message as it is stored, crosses the shard queue, and comes back inbound.

One shape per type, engine-neutral: the API turns a request into it, an engine turns it into WhatsApp's
protobuf (whatsmeow) or records it (sandbox), and an inbound message is mapped back into it. Keys not
listed are never present; optional ones are omitted when empty.

Every type may also carry:
    "reply_to": {"wa_message_id", "chat_jid", "from_me": bool, "sender_jid"?, "preview"?}   quoted reply
    "mentions": ["5511...@s.whatsapp.net", ...]                                               mentioned JIDs

text      {"body"}
image     {"media", "caption"?}
video     {"media", "caption"?}
document  {"media", "caption"?, "filename"}
audio     {"media", "voice": bool}           voice=True: a push-to-talk voice note (can reach "played")
sticker   {"media"}
    media = {"media_id", "key", "mime_type", "size", "sha256", "filename"?}
    `key` is the object's key in the media bucket; the worker fetches the bytes from there.
location  {"latitude", "longitude", "name"?, "address"?}
contact   {"contacts": [{"name", "phones": [{"number", "type"?}], "emails"?, "organization"?}], "vcards": [str]}
poll      {"name", "options": [str, ...], "selectable_count"}
reaction  {"target": {"wa_message_id", "chat_jid", "from_me": bool, "sender_jid"?}, "emoji"}   "" removes
buttons   {"body", "footer"?, "buttons": [{"id", "title"}]}
list      {"body", "footer"?, "button_text", "sections": [{"title", "rows": [{"id", "title", "description"?}]}]}
edit      {"target": {...as reaction}, "body"}        edits a text or a caption
revoke    {"target": {...as reaction}}                deletes for everyone
template  {"template": {"name", "language", "category", "id"?, "components": [...]}}   Cloud API numbers only:
          components in Meta's send shape, checked against the template (bzapper.domain.templates); a header
          media parameter by our id also carries the file as `media` (as above), by link only `link`
otp       {"body", "code_sealed"}   two WhatsApp messages: the text, then the code alone; the code crosses the
                                    queue sealed (bzapper.adapters.sealing), never in clear
status    {"kind": "text", "body", "background_color"?, "font"?, "audience"?} or
          {"kind": "image" | "video", "media", "caption"?, "audience"?}   a status post to status@broadcast
          (bzapper.domain.status_posts); never inbound
unknown   {"raw_type"}               an inbound message of a kind we do not model yet
"""

from __future__ import annotations

MEDIA_TYPES = frozenset({"image", "video", "document", "audio", "sticker"})

MESSAGE_TYPES = frozenset(
    {
        "text",
        *MEDIA_TYPES,
        "location",
        "contact",
        "poll",
        "reaction",
        "buttons",
        "list",
        "edit",
        "revoke",
        "otp",
        "template",
    }
)

INBOUND_TYPES = MESSAGE_TYPES - {"otp", "buttons", "list", "template"} | {"unknown"}
