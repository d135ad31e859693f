"""Recipients: turn what an API client typed into the WhatsApp JID we send to.

Pure functions, no I/O. Whether the number is actually on WhatsApp is a separate (networked) question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

Reason = Literal["empty", "not_a_phone", "invalid_phone", "unsupported_jid", "invalid_group"]

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
BSUID_SERVER = "bsuid"
"""A contact Meta's Cloud API names only by its business-scoped user id (no phone): `US.1349…@bsuid`. Read in
chats (the inbox), never a send's recipient."""
_BSUID_USER = re.compile(r"[A-Za-z]{2}\.[0-9A-Za-z]{1,64}")
# "c.us" is the whatsapp-web.js spelling of the same user server.
_PHONE_SERVERS = frozenset({PHONE_SERVER, "c.us"})

# Separators people paste from address books; stripped before parsing.
_SEPARATORS = re.compile(r"[\s\-.()]+")
_PHONE_SHAPE = re.compile(r"\+?[0-9]+")
# JID user part: digits, then an optional agent (".0" / "_1") and device (":12") suffix we drop.
_JID_USER = re.compile(r"([0-9]+)(?:[._][0-9]+)?(?::[0-9]+)?")
# Group ids: "120363025246125888" today, "<creator's number>-<unix time>" for groups made before 2021.
_GROUP_USER = re.compile(r"[0-9]{1,20}(?:-[0-9]{1,12})?")

_MIN_DIGITS = 8  # shorter inputs are extensions or typos, never a reachable WhatsApp user
_MAX_INPUT = 128  # bounds the work done on hostile input; real values are far shorter
_MAX_LID_DIGITS = 20
_MAX_E164_DIGITS = 15  # ITU-T E.164

_BR_COUNTRY_CODE = 55
_BR_OLD_MOBILE_FIRST_DIGITS = frozenset("6789")


class InvalidRecipient(ValueError):
    """The value is not something we can send to. `reason` is stable and safe to expose to clients."""

    def __init__(self, reason: Reason, value: str = "") -> None:
        # The raw value stays out of the message so logging the exception does not log a phone number.
        super().__init__(f"invalid recipient: {reason}")
        self.reason: Reason = reason
        self.value = value


@dataclass(frozen=True, slots=True)
class Recipient:
    jid: str  # where we send: "5511988888888@s.whatsapp.net" or "123456789012345@lid"
    phone: str | None  # E.164 with "+", None when only a LID is known
    lid: str | None  # the "...@lid" JID when the input was a LID, else None


def normalize_phone(value: str) -> str:
    """Return `value` as E.164 ("+5511988888888") or raise InvalidRecipient.

    Input is always read as international (country code first), because an API has no "home country".
    """
    text = (value or "").strip()
    if not text:
        raise InvalidRecipient("empty", value)
    if len(text) > _MAX_INPUT:
        raise InvalidRecipient("invalid_phone", value)
    if any(ch.isalpha() for ch in text):
        # phonenumbers would happily turn vanity letters ("1-800-FLOWERS") into digits; we never want that.
        raise InvalidRecipient("invalid_phone", value)
    compact = _SEPARATORS.sub("", text)
    # ASCII digits only: phonenumbers also maps Arabic-Indic/full-width digits, which nobody means here.
    if not _PHONE_SHAPE.fullmatch(compact):
        raise InvalidRecipient("not_a_phone", value)
    digits = compact.lstrip("+")
    if len(digits) < _MIN_DIGITS:
        raise InvalidRecipient("invalid_phone", value)

    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRecipient("invalid_phone", value) from exc

    number = _with_brazilian_ninth_digit(number)
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient("invalid_phone", value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _with_brazilian_ninth_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    """Rewrite an old 8-digit Brazilian mobile (AA 8888-8888) to the 9-digit form (AA 98888-8888).

    Brazil prefixed every mobile with a 9 (2012-2016); old-form numbers still circulate in CRMs and
    spreadsheets. Landlines (subscriber starting 2-5) are left alone.
    """
    if number.country_code != _BR_COUNTRY_CODE:
        return number
    national = str(number.national_number)
    # 2-digit area code + 8-digit subscriber starting 6-9.
    if len(national) != 10 or national[2] not in _BR_OLD_MOBILE_FIRST_DIGITS:
        return number
    candidate = phonenumbers.PhoneNumber(
        country_code=_BR_COUNTRY_CODE, national_number=int(national[:2] + "9" + national[2:])
    )
    # Only take the rewrite when phonenumbers agrees it is a real number; the caller validates either way.
    return candidate if phonenumbers.is_valid_number(candidate) else number


def parse_recipient(value: str) -> Recipient:
    """Parse a phone number or a WhatsApp JID into a Recipient, or raise InvalidRecipient."""
    text = (value or "").strip()
    if not text:
        raise InvalidRecipient("empty", value)
    if "@" not in text:
        phone = normalize_phone(text)
        return Recipient(jid=_phone_jid(phone), phone=phone, lid=None)

    if len(text) > _MAX_INPUT or text.count("@") != 1:
        raise InvalidRecipient("not_a_phone", value)
    user, _, server = text.partition("@")
    server = server.lower()
    # Check the server first: a group or newsletter id is "unsupported", whatever its user part looks like.
    if server not in _PHONE_SERVERS and server != LID_SERVER:
        raise InvalidRecipient("unsupported_jid", value)
    match = _JID_USER.fullmatch(user)
    if match is None:
        raise InvalidRecipient("not_a_phone", value)
    user_digits = match.group(1)

    if server == LID_SERVER:
        if len(user_digits) > _MAX_LID_DIGITS:
            raise InvalidRecipient("not_a_phone", value)
        lid = f"{user_digits}@{LID_SERVER}"
        return Recipient(jid=lid, phone=None, lid=lid)

    phone = normalize_phone(user_digits)
    return Recipient(jid=_phone_jid(phone), phone=phone, lid=None)


def parse_chat(value: str) -> Recipient:
    """A 1:1 chat that WhatsApp itself reported (an inbound message's chat JID, or that chat named back in an
    inbox path as a JID or E.164), or raise InvalidRecipient.

    Like parse_recipient, except that a phone number the phone metadata does not know yet (a new range, a
    country's numbering change) is still a contact, as "+<digits>": WhatsApp delivered its message, so the
    number exists, and dropping the message would lose it. Sends keep the strict check: a typo must not go out.
    A Cloud API contact known only by its BSUID is a chat too (`<bsuid>@bsuid`), with neither phone nor LID.
    """
    user, at, server = (value or "").strip().partition("@")
    if at and server.lower() == BSUID_SERVER and _BSUID_USER.fullmatch(user):
        return Recipient(jid=f"{user}@{BSUID_SERVER}", phone=None, lid=None)
    try:
        return parse_recipient(value)
    except InvalidRecipient as error:
        user, at, server = (value or "").strip().partition("@")
        if not at:
            user, server = _SEPARATORS.sub("", user).removeprefix("+"), PHONE_SERVER
        match = _JID_USER.fullmatch(user)
        if error.reason != "invalid_phone" or server.lower() not in _PHONE_SERVERS or match is None:
            raise
        digits = match.group(1)
        if digits.startswith("0") or not _MIN_DIGITS <= len(digits) <= _MAX_E164_DIGITS:
            raise  # no country code starts with 0
        return Recipient(jid=f"{digits}@{PHONE_SERVER}", phone=f"+{digits}", lid=None)


def chat_phone(value: object) -> str | None:
    """An engine-reported phone ("+55…", "55…" or a phone JID) as the E.164 the inbox and the identities key
    it by (Brazil's ninth digit added, as parse_chat reads the chat itself), or None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_chat(value).phone
    except InvalidRecipient:
        return None


def is_bsuid_jid(value: str) -> bool:
    return value.endswith(f"@{BSUID_SERVER}")


def _phone_jid(e164: str) -> str:
    return f"{e164.lstrip('+')}@{PHONE_SERVER}"


def is_group_jid(value: str) -> bool:
    """Does the value name WhatsApp's group server (whatever its id looks like)?"""
    return (value or "").strip().lower().endswith("@" + GROUP_SERVER)


def parse_destination(value: str) -> Recipient:
    """Where a message may be sent: a person (parse_recipient) or a group the number is in (its JID, with no
    phone or LID). Mentions and contacts stay people: they go through parse_recipient."""
    if is_group_jid(value):
        return Recipient(jid=parse_group(value), phone=None, lid=None)
    return parse_recipient(value)


def parse_group(value: str) -> str:
    """A WhatsApp group JID ("120363025246125888@g.us") as stored, or raise InvalidRecipient.

    parse_recipient refuses groups ("unsupported_jid"); parse_destination takes them.
    """
    text = (value or "").strip()
    if not text:
        raise InvalidRecipient("empty", value)
    user, _, server = text.partition("@")
    if len(text) > _MAX_INPUT or server.lower() != GROUP_SERVER:
        raise InvalidRecipient("unsupported_jid", value)
    if _GROUP_USER.fullmatch(user) is None:
        raise InvalidRecipient("invalid_group", value)
    return f"{user}@{GROUP_SERVER}"
