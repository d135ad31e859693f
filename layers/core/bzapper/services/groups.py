"""The Groups API's use cases: each one a question to the worker holding the number (the engine does the
WhatsApp part), with WhatsApp's refusals as our errors (docs/groups.md)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.events import envelope
from bzapper.domain.instances import InstanceStatus
from bzapper.domain.model import InstanceView, Principal
from bzapper.domain.phones import InvalidRecipient, parse_group, parse_recipient
from bzapper.services.container import Services
from bzapper.services.control import ask
from bzapper.services.instances import owned, require_session
from bzapper.services.profiles import picture_media

ACTIONS = ("add", "remove", "promote", "demote")
MAX_PARTICIPANTS = 256  # one call; WhatsApp's groups hold up to 1024


def _refusal(code: str) -> BzError:
    if code in ("group_not_found", "not_a_participant"):
        # A group this number is not in is, to this caller, no group at all (as another account's would be).
        return BzError("not_found", message_key="error.group_not_found")
    if code == "not_admin":
        return BzError("forbidden", message_key="error.group_not_admin")
    if code == "invite_link_invalid":
        return validation_failed("invite_link", "error.invite_link_invalid")
    if code == "not_supported":
        return BzError("not_supported", message_key="error.group_not_supported", status=422)
    if code == "picture_rejected":
        return validation_failed("picture", "error.profile_picture_rejected")
    if code == "invalid_input":
        return BzError("validation_failed")
    if code == "not_connected":
        return BzError("not_connected")
    return BzError("temporarily_unavailable", retry_after=1)


def _ask(services: Services, view: InstanceView, op: str, **args: Any) -> Any:
    """The engine's answer to `op` (bzapper.domain.engine.GROUP_METHODS), or its refusal as our error."""
    return ask(services, view.ref, op, refusal=_refusal, **args).get("result")


def _connected(services: Services, principal: Principal, instance_id: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    require_session(view, "groups")
    if view.status != InstanceStatus.CONNECTED:
        raise BzError("not_connected")
    return view


def group_jid(value: str) -> str:
    try:
        return parse_group(value)
    except InvalidRecipient as error:
        raise validation_failed("jid", "error.invalid_group_jid", value=value) from error


def _participants(values: list[str]) -> list[str]:
    if not values or len(values) > MAX_PARTICIPANTS:
        raise validation_failed("participants", "error.group_participants_count", max=MAX_PARTICIPANTS)
    for index, value in enumerate(values):
        try:
            parse_recipient(value)
        except InvalidRecipient as error:
            raise validation_failed(f"participants.{index}", "error.invalid_recipient", value=value) from error
    return values


def joined(services: Services, principal: Principal, instance_id: str) -> list[dict[str, Any]]:
    view = _connected(services, principal, instance_id)
    return list(_ask(services, view, "joined_groups") or [])


def create(
    services: Services, principal: Principal, instance_id: str, subject: str, participants: list[str]
) -> dict[str, Any]:
    view = _connected(services, principal, instance_id)
    args = {"subject": subject, "participants": _participants(participants) if participants else []}
    return dict(_ask(services, view, "create_group", **args))


def info(services: Services, principal: Principal, instance_id: str, jid: str) -> dict[str, Any]:
    view = _connected(services, principal, instance_id)
    return dict(_ask(services, view, "group_info", group_jid=group_jid(jid)))


def update(
    services: Services, principal: Principal, instance_id: str, jid: str, changes: dict[str, Any]
) -> dict[str, Any]:
    if not changes:
        raise validation_failed("request_body", "error.group_nothing_to_change")
    view = _connected(services, principal, instance_id)
    if changes.get("picture") is not None:
        # The engine is handed the stored image (whatsmeow uploads its bytes), checked as a profile picture is.
        changes = {**changes, "picture": picture_media(services, principal, changes["picture"], param="picture")}
    return dict(_ask(services, view, "update_group", group_jid=group_jid(jid), changes=changes))


def change_participants(
    services: Services, principal: Principal, instance_id: str, jid: str, action: str, participants: list[str]
) -> list[dict[str, Any]]:
    view = _connected(services, principal, instance_id)
    args = {"group_jid": group_jid(jid), "action": action, "participants": _participants(participants)}
    return list(_ask(services, view, "update_group_participants", **args))


def invite_link(services: Services, principal: Principal, instance_id: str, jid: str, *, reset: bool = False) -> str:
    view = _connected(services, principal, instance_id)
    return str(_ask(services, view, "group_invite_link", group_jid=group_jid(jid), reset=reset))


def join(services: Services, principal: Principal, instance_id: str, link: str) -> dict[str, Any]:
    view = _connected(services, principal, instance_id)
    return dict(_ask(services, view, "join_group", invite_link=link))


def leave(services: Services, principal: Principal, instance_id: str, jid: str) -> None:
    view = _connected(services, principal, instance_id)
    _ask(services, view, "leave_group", group_jid=group_jid(jid))


# -- what the workers report ----------------------------------------------------------------------------

GROUP_CHANGES = ("joined", "left", "updated", "participants_changed")
_DETAILS = {
    "joined": ("group",),
    "left": ("reason",),
    "updated": ("changes", "group"),
    "participants_changed": ("action", "participants"),
}


def group_event(report: dict[str, Any]) -> dict[str, Any] | None:
    """The group.* event of an engine's `group` report (None for a change we do not publish). Its id is derived
    from the change itself, so a redelivered report publishes the same event (consumers dedupe on the id)."""
    change = report.get("change")
    if change not in GROUP_CHANGES:
        return None
    data: dict[str, Any] = {"group_jid": report["group_jid"], "by": report.get("by")}
    for name in _DETAILS[change]:
        if name in report:
            data[name] = report[name]
    people = ",".join(sorted(str(p.get("jid") or p.get("phone")) for p in report.get("participants") or []))
    by = report.get("by") or {}
    identity: tuple[str, ...] = (report["instance_id"], report["group_jid"], str(report["at"]), str(by.get("jid")))
    identity += (people, str(report.get("action")), str(sorted((report.get("changes") or {}).items())))
    return envelope(
        f"group.{change}",
        at_ms=int(report["at"]),
        account_id=report["account_id"],
        instance_id=report["instance_id"],
        livemode=bool(report["livemode"]),
        data=data,
        identity=identity,
    )


def apply_group_event(services: Services, report: dict[str, Any]) -> None:
    """One group.* event per change the engine reported, through the event log, webhooks and the stream."""
    if services.instances.view(report["instance_id"]) is None:
        return  # the number was deleted meanwhile
    event = group_event(report)
    if event is not None:
        services.events.publish([event])
