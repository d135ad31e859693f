"""Deterministic strings of the sandbox: QR codes, pairing codes, message and media ids.

Each one is a hash of what it names, so a test (or a re-run) gets the same values; nothing random.
Standard library only: the engine (in the session worker) imports this too.
"""

from __future__ import annotations

import base64
import hashlib

# WhatsApp's pairing-code alphabet: no 0, I, O or U, so nobody misreads a character.
PAIRING_CODE_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def qr_string(account_id: str, instance_id: str, pairing_round: int, refresh: int) -> str:
    """What the QR encodes, shaped like WhatsApp's: "2@<ref>,<noise key>,<identity key>,<adv secret>".

    The keys stay the same through one pairing round; each refresh brings a new ref, as on WhatsApp.
    """
    ref = _b64(_digest("qr-ref", account_id, instance_id, pairing_round, refresh)[:24])
    keys = [_b64(_digest(name, account_id, instance_id, pairing_round)) for name in ("noise", "identity", "adv")]
    return ",".join([f"2@{ref}", *keys])


def pairing_code(account_id: str, instance_id: str, phone: str, pairing_round: int) -> str:
    """The 8-character code typed on the phone, shown as "ABCD-EFGH"."""
    digest = _digest("pairing-code", account_id, instance_id, phone, pairing_round)
    chars = "".join(PAIRING_CODE_ALPHABET[b % len(PAIRING_CODE_ALPHABET)] for b in digest[:8])
    return f"{chars[:4]}-{chars[4:]}"


def normalized_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def phone_message_id(*parts: object) -> str:
    """A message id as a phone makes one ("3A" and 18 hex digits, like iOS): inbound and auto-replies."""
    return "3A" + _digest("phone-message", *parts).hex()[:18].upper()


def otp_code_message_id(wa_message_id: str) -> str:
    """The WhatsApp id of an OTP's second message (the code bubble), derived from the first one's id.

    A re-sent OTP job thus repeats both ids, and the recipient's device collapses both.
    """
    return "3EB0" + _digest("otp-code", wa_message_id).hex()[:18].upper()


def default_phone(instance_id: str) -> str:
    """The number a scan without a phone pairs: +55 11 97xxx-xxxx (outside every reserved range)."""
    return f"+551197{int.from_bytes(_digest('phone', instance_id)[:8], 'big') % 10**7:07d}"


def media_id(account_id: str, instance_id: str, wa_message_id: str, sequence: int) -> str:
    return "sbxm_" + _digest("media", account_id, instance_id, wa_message_id, sequence).hex()[:24]
