"""Who is who in the sandbox world: reserved number ranges, JIDs, and every user's LID.

Pure functions, no state. The sandbox's WhatsApp servers know every user: a phone number's LID is
derived from it by an invertible formula, so any LID the sandbox ever hands out resolves back to its
phone without a table (what a device knows is another matter: see UNMAPPED_LID in network.py).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import phonenumbers

from bzapper.domain.phones import InvalidRecipient, parse_group

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
_USER_SERVERS = ("s.whatsapp.net", "c.us")
_PHONE_SEPARATORS = str.maketrans("", "", " -().")

# Reserved ranges: +55 11 90000-Nxxx, one thousand numbers each (docs/sandbox.md has the table).
NOT_ON_WHATSAPP = "not_on_whatsapp"
OFFLINE = "offline"
REPLIES = "replies"
PLAYS_VOICE = "plays_voice"
RESTRICTS = "restricts"
DISCONNECTS = "disconnects"
UNMAPPED_LID = "unmapped_lid"
ECHO = "echo"
REACH_OUT_LOCK = "reach_out_lock"
PASSKEY = "passkey"
INVITE_REQUIRED = "invite_required"
ORDINARY = "ordinary"

RESERVED_RANGES: dict[str, str] = {
    "+5511900000": NOT_ON_WHATSAPP,
    "+5511900001": OFFLINE,
    "+5511900002": REPLIES,
    "+5511900003": PLAYS_VOICE,
    "+5511900004": RESTRICTS,
    "+5511900005": DISCONNECTS,
    "+5511900006": UNMAPPED_LID,
    "+5511900008": ECHO,
    # Their privacy settings let nobody add them to a group: an admin's add sends them an invite instead.
    "+5511900010": INVITE_REQUIRED,
}
SUB_RANGES: dict[str, str] = {
    "+55119000045": REACH_OUT_LOCK,
    "+55119000046": REACH_OUT_LOCK,
    "+55119000047": REACH_OUT_LOCK,
    "+55119000048": PASSKEY,
    "+55119000049": PASSKEY,
}
"""Hundreds of the restriction range (4xxx: number health) with a behaviour of their own, read before
RESERVED_RANGES: 4500-4799 the reach-out time lock (a 463 that fails the message), 4800-4999 phones whose
linking WhatsApp gates behind a passkey (as the scanning phone). 4000-4499 keep the plain restriction."""
RESERVED_PREFIX = "+55119000"
"""Every reserved range starts with this. +55119000 7xxx holds the simulated Cloud API's throughput and
pair-rate ranges (graph/model.py; ordinary contacts on the sandbox network); 9xxx is kept free;
+55 11 90001-0xxx are the contacts who can only be invited to groups."""

NOT_ON_WHATSAPP_PREFIX = "+5511900000"

# LID = "1" + ((phone * A + B) mod 10^15) in 15 digits + 2 check digits: a bijection on 15-digit integers
# (A is prime to 10), and the check digits make a made-up LID resolve to a user about once in 10,000.
_LID_MODULUS = 10**15
_LID_A = 738_292_917_713
_LID_B = 271_828_182_845_904
_LID_A_INVERSE = pow(_LID_A, -1, _LID_MODULUS)


class InvalidInput(ValueError):
    """Not a phone number or JID (or another malformed argument): the caller's mistake, a 400.

    `problem` is a stable name for what is wrong (sent beside the English message), so the API can answer
    in the client's language; "invalid" when nothing more precise is named."""

    def __init__(self, message: str, problem: str = "invalid") -> None:
        super().__init__(message)
        self.problem = problem


def contact_key(phone_or_jid: str) -> str:
    """The contact a phone or JID names: "+<digits>" for a phone-number user, the JID itself otherwise.

    "5511988888888@s.whatsapp.net", "5511988888888:3@s.whatsapp.net" (a device), "5511988888888"
    and "+55 11 98888-8888" all name "+5511988888888"; a "@lid" (or any other) JID is returned as it is,
    since it carries no phone number (the network resolves LIDs it knows).
    """
    value = phone_or_jid.strip()
    if "@" in value:
        user, _, server = value.partition("@")
        if server.lower() not in _USER_SERVERS:
            return value
        value = user.split(":", 1)[0]
    digits = value.translate(_PHONE_SEPARATORS).removeprefix("+")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidInput(f"not a phone number or JID: {phone_or_jid!r}")
    return "+" + digits


def is_group(jid: str) -> bool:
    return jid.strip().lower().endswith("@" + GROUP_SERVER)


def group_jid(value: str) -> str:
    """A group's JID ("120363…@g.us"), checked like the API checks it, or InvalidInput."""
    try:
        return parse_group(value)
    except InvalidRecipient:
        raise InvalidInput(f"not a group JID (…@g.us): {value!r}") from None


def phone_jid(phone: str) -> str:
    return f"{phone.removeprefix('+')}@{PHONE_SERVER}"


def is_lid(jid: str) -> bool:
    return jid.rpartition("@")[2].lower() == LID_SERVER


def kind_of(phone: str) -> str:
    """The behaviour of the contact with this E.164 number (one of the constants above)."""
    for prefix, kind in SUB_RANGES.items():
        if phone.startswith(prefix) and len(phone) == len(prefix) + 2:
            return kind
    for prefix, kind in RESERVED_RANGES.items():
        if phone.startswith(prefix) and len(phone) == len(prefix) + 3:
            return kind
    return ORDINARY if _valid_number(phone) else NOT_ON_WHATSAPP


def on_whatsapp(phone: str) -> bool:
    return kind_of(phone) != NOT_ON_WHATSAPP


@lru_cache(maxsize=4096)
def _valid_number(phone: str) -> bool:
    """A number that exists: what phonenumbers deems valid (a made-up one is not on WhatsApp either)."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return False


def _check_digits(body: str) -> str:
    return f"{int.from_bytes(hashlib.sha256(f'lid:{body}'.encode()).digest()[:4], 'big') % 100:02d}"


def lid_for(phone: str) -> str:
    """The user's LID JID ("1…@lid", 18 digits); the same phone always gets the same LID."""
    number = int(phone.removeprefix("+"))
    body = f"1{(number * _LID_A + _LID_B) % _LID_MODULUS:015d}"
    return f"{body}{_check_digits(body)}@{LID_SERVER}"


def phone_for_lid(lid_jid: str) -> str | None:
    """The phone behind a LID, or None when no WhatsApp user of the sandbox has it."""
    user = lid_jid.rpartition("@")[0].split(":", 1)[0]
    if len(user) != 18 or not user.isdigit() or not user.isascii() or user[0] != "1":
        return None
    body, check = user[:16], user[16:]
    if _check_digits(body) != check:
        return None
    number = ((int(body[1:]) - _LID_B) * _LID_A_INVERSE) % _LID_MODULUS
    phone = f"+{number}"
    return phone if number and on_whatsapp(phone) else None


def default_push_name(phone: str, *, own: bool = False) -> str:
    return f"{'Sandbox' if own else 'Contact'} {phone[-4:]}"
