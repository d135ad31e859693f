"""Presence and blocking (docs/presence.md): "typing…" in a chat, the number's own online state, the contacts it
blocks, each a question to the worker holding the number; and contacts' presence reported by the workers, as
`presence.updated` events when the instance asked for them (`settings.presence_events`)."""

from __future__ import annotations

import logging
from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.engine import CHAT_PRESENCE_STATES, OWN_PRESENCE_STATES
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.events import envelope
from bzapper.domain.instance_settings import InstanceSettings
from bzapper.domain.instances import InstanceStatus
from bzapper.domain.model import InstanceView, Principal
from bzapper.domain.phones import InvalidRecipient, is_group_jid, parse_destination, parse_recipient
from bzapper.services.container import Services
from bzapper.services.control import ask
from bzapper.services.instances import owned, require_session

logger = logging.getLogger(__name__)

EVENT_TYPE = "presence.updated"


def _refusal(view: InstanceView, action: str, code: str) -> BzError:
    if code == "not_supported":
        # What this engine cannot do: said, never a silent no-op.
        return BzError(
            "not_supported",
            message_key="error.engine_cannot_yet",
            params={"engine": view.engine, "action": action},
            status=422,
        )
    if code in ("group_not_found", "not_a_participant"):
        # A group this number is not in is, to this caller, no group at all (as in the Groups API).
        return BzError("not_found", message_key="error.group_not_found")
    if code == "invalid_input":
        return validation_failed("jid")
    if code == "not_on_whatsapp":
        return BzError("not_on_whatsapp", param="jid")
    if code == "not_connected":
        return BzError("not_connected")
    return BzError("temporarily_unavailable", retry_after=1)


def _ask(services: Services, view: InstanceView, what: str, op: str, **args: Any) -> Any:
    """The engine's answer to `op` (bzapper.domain.engine.CONTACT_METHODS), or its refusal as our error."""
    return ask(services, view.ref, op, refusal=lambda code: _refusal(view, what, code), **args).get("result")


def _connected(services: Services, principal: Principal, instance_id: str, action: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    try:
        require_session(view, action)
    except BzError as refusal:  # a Cloud API number: the request is what cannot be done here (422)
        raise BzError(refusal.code, message_key=refusal.message_key, params=refusal.params, status=422) from None
    if view.status != InstanceStatus.CONNECTED:
        raise BzError("not_connected")
    return view


def chat_jid(value: str) -> str:
    """A chat to show presence in: a contact (phone, JID or LID) or a group's JID."""
    try:
        return parse_destination(value).jid
    except InvalidRecipient as error:
        raise validation_failed("jid", "error.invalid_recipient", value=value) from error


def contact_jid(value: str) -> str:
    """A contact to block or unblock (phone, JID or LID): never a group."""
    if is_group_jid(value):
        raise validation_failed("jid", "error.block_group", value=value)
    try:
        return parse_recipient(value).jid
    except InvalidRecipient as error:
        raise validation_failed("jid", "error.invalid_recipient", value=value) from error


def send_chat_presence(
    services: Services, principal: Principal, instance_id: str, jid: str, state: str
) -> dict[str, Any]:
    if state not in CHAT_PRESENCE_STATES:
        raise validation_failed("state")
    chat = chat_jid(jid)
    view = _connected(services, principal, instance_id, "presence")
    _ask(services, view, "presence", "send_chat_presence", chat_jid=chat, state=state)
    return {"instance_id": view.instance_id, "jid": chat, "state": state}


def send_presence(services: Services, principal: Principal, instance_id: str, state: str) -> dict[str, Any]:
    if state not in OWN_PRESENCE_STATES:
        raise validation_failed("state")
    view = _connected(services, principal, instance_id, "presence")
    _ask(services, view, "presence", "send_presence", state=state)
    return {"instance_id": view.instance_id, "jid": None, "state": state}


def blocked(services: Services, principal: Principal, instance_id: str) -> list[dict[str, Any]]:
    view = _connected(services, principal, instance_id, "blocklist")
    return [_person(item) for item in _ask(services, view, "blocklist", "get_blocklist") or []]


def block(services: Services, principal: Principal, instance_id: str, jid: str, *, blocking: bool) -> dict[str, Any]:
    contact = contact_jid(jid)
    view = _connected(services, principal, instance_id, "blocklist")
    action = "block" if blocking else "unblock"
    answer = _ask(services, view, "blocklist", "update_blocklist", jid=contact, action=action) or {}
    return {**_person(answer or {"jid": contact}), "blocked": blocking}


def _person(item: dict[str, Any]) -> dict[str, Any]:
    return {"jid": item.get("jid"), "phone": item.get("phone"), "lid": item.get("lid")}


# -- what the workers report ----------------------------------------------------------------------------


def apply_presence(services: Services, report: dict[str, Any]) -> None:
    """A contact's presence report: its event, only while the instance asks for them (the worker already dropped
    those made while it did not; one turned off since is dropped here). Nothing else is stored: volume."""
    view = services.instances.view(report["instance_id"])
    if view is None or not InstanceSettings.from_stored(view.settings).presence_events:
        return
    event = presence_event(view, report)
    if event is not None:
        services.events.publish([event])


def presence_event(view: InstanceView, report: dict[str, Any]) -> dict[str, Any] | None:
    state = report.get("state")
    if state not in (*OWN_PRESENCE_STATES, *CHAT_PRESENCE_STATES):
        logger.error("presence report with an unknown state %r dropped", state)
        return None
    who = report.get("from") or {}
    at = int(report["at"])
    last_seen = report.get("last_seen")
    data: dict[str, Any] = {
        "jid": who.get("jid"),
        "phone": who.get("phone"),
        "lid": who.get("lid"),
        "chat": report.get("chat_jid"),
        "state": state,
        "last_seen": iso(int(last_seen)) if last_seen else None,
        "at": iso(at),
    }
    identity = (view.instance_id, str(who.get("jid")), str(report.get("chat_jid") or ""), str(state), str(at))
    return envelope(
        EVENT_TYPE,
        at_ms=at,
        account_id=view.account_id,
        instance_id=view.instance_id,
        livemode=view.livemode,
        data=data,
        identity=identity,
    )
