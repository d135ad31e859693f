"""Instance states, what each lets a customer do, and the event each change emits. Pure rules."""

from __future__ import annotations

from enum import StrEnum

from bzapper.domain.cloud import UNSENDABLE as CLOUD_UNSENDABLE


class InstanceStatus(StrEnum):
    DISCONNECTED = "disconnected"
    PAIRING = "pairing"
    CONNECTED = "connected"
    LOGGED_OUT = "logged_out"
    RESTRICTED = "restricted"
    FAILED = "failed"
    PASSKEY_REQUIRED = "passkey_required"
    """Linking: WhatsApp wants the phone's passkey before it links this device (the user confirms on the phone)."""


ENGINES = ("sandbox", "whatsmeow", "cloud")
TEST_ENGINES = frozenset({"sandbox", "cloud"})
"""A test key's `cloud` number talks to the simulated Graph API of the sandbox network, never to Meta."""
SESSION_ENGINES = frozenset({"sandbox", "whatsmeow"})
"""Engines a session worker holds; a `cloud` number has no session (Graph is called from the functions)."""
LIVE_DEFAULT_ENGINE = "whatsmeow"
ENGINE_UNAVAILABLE = "engine_unavailable"
"""An instance's `last_error` when no worker of this deployment runs its engine (a live whatsmeow number on a
local stack started without `--engine whatsmeow`): it cannot pair until one does."""


def default_engine(livemode: bool) -> str:
    """A number created without naming its engine: a real WhatsApp number for live keys, the sandbox for test."""
    return LIVE_DEFAULT_ENGINE if livemode else "sandbox"


"""Test keys reach the sandbox network only: a test key can never touch a real phone."""

UNSENDABLE: dict[str, frozenset[str]] = {
    "sandbox": frozenset({"template"}),
    "whatsmeow": frozenset({"template"}),
    "cloud": CLOUD_UNSENDABLE,
}
"""The message types an engine cannot send: refused at accept time with 422 `not_supported` naming the engine.
Templates are the Cloud API's alone (docs/templates.md)."""


def can_send(engine: str, message_type: str) -> bool:
    return message_type not in UNSENDABLE.get(engine, frozenset())


# The event each observed state emits, when it differs from the stored one.
STATE_EVENTS = {
    InstanceStatus.PAIRING: "instance.qr",
    InstanceStatus.CONNECTED: "instance.connected",
    InstanceStatus.DISCONNECTED: "instance.disconnected",
    InstanceStatus.FAILED: "instance.disconnected",
    InstanceStatus.LOGGED_OUT: "instance.logged_out",
    InstanceStatus.RESTRICTED: "instance.restricted",
    InstanceStatus.PASSKEY_REQUIRED: "instance.passkey_required",
}

# Pairing (QR or phone code) makes sense only for a number that is not linked.
PAIRABLE = frozenset(
    {
        InstanceStatus.DISCONNECTED,
        InstanceStatus.PAIRING,
        InstanceStatus.LOGGED_OUT,
        InstanceStatus.FAILED,
        InstanceStatus.PASSKEY_REQUIRED,
    }
)


def emits_event(old_status: str | None, old_qr: str | None, new_status: str, new_qr: str | None) -> str | None:
    """The event type a newly observed state emits: on every change, and on every new QR while pairing."""
    status = InstanceStatus(new_status)
    if status == InstanceStatus.PAIRING:
        return STATE_EVENTS[status] if new_qr and new_qr != old_qr else None
    return STATE_EVENTS[status] if old_status != new_status else None


def should_open(status: str, active: bool) -> bool:
    """Whether a worker taking the instance's shard opens its session (a logged-out number waits for a pairing)."""
    return active and status != InstanceStatus.LOGGED_OUT
