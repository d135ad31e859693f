"""whatsmeow's errors (strings, through neonize's exceptions) as the engine port's exceptions."""

from __future__ import annotations

from bzapper.domain.engine import NotConnected, PermanentFailure

# Substrings of whatsmeow errors that mean "no usable connection right now": the send is held, not failed.
_NOT_CONNECTED = (
    "websocket not connected",  # ErrNotConnected
    "not logged in",  # ErrNotLoggedIn
    "the store doesn't contain a device jid",  # ErrNotLoggedIn's older wording
    "client is nil",
    "client not found",
    "frame socket is closed",
)
# Server error codes in an ack ("server returned error 463") that end the message for good.
_PERMANENT_SERVER_CODES = {
    "463": "reach_out_restricted",  # WhatsApp's reach-out time lock: no new chats for a while
}
_NOT_ON_WHATSAPP = ("can't send message to unknown server",)
# whatsmeow's group errors (ErrGroupNotFound, ErrNotInGroup, ErrInviteLink*, IQ not-authorized / forbidden).
_GROUP_ERRORS = (
    ("group not found", "group_not_found"),
    ("not participating in that group", "not_a_participant"),
    ("invite link has been revoked", "invite_link_invalid"),
    ("invite link is not valid", "invite_link_invalid"),
    ("unauthorized to get group invite link", "not_admin"),
    ("not-authorized", "not_admin"),
    ("forbidden", "not_admin"),
)


def classify(error: BaseException) -> Exception | None:
    """The port exception for a neonize error, or None when it is transient (the send is retried)."""
    text = str(error).lower()
    if any(marker in text for marker in _NOT_CONNECTED):
        return NotConnected("disconnected")
    if "server returned error" in text:
        tail = text.rsplit("server returned error", 1)[1].split()
        code = tail[0] if tail else ""
        if code in _PERMANENT_SERVER_CODES:
            return PermanentFailure(_PERMANENT_SERVER_CODES[code])
    if any(marker in text for marker in _NOT_ON_WHATSAPP):
        return PermanentFailure("not_on_whatsapp")
    for marker, code in _GROUP_ERRORS:
        if marker in text:
            return PermanentFailure(code)
    return None


def translate(error: BaseException) -> Exception:
    """What to raise for a neonize error: the port exception, else the error itself (transient)."""
    return classify(error) or error
