"""neonize's group answers as the engine port's plain dicts (docs/groups.md), and its participant errors as
our stable result codes. Pure functions over neonize's protos: tested offline."""

from __future__ import annotations

from typing import Any

from bzapper.engines.whatsmeow import jids

INVITE_PREFIX = "https://chat.whatsapp.com/"

# whatsmeow's per-participant error codes (GroupParticipant.Error) after an add / remove / promote / demote.
_PARTICIPANT_ERRORS = {
    0: "ok",
    403: "invite_required",  # their privacy settings: an add request (AddRequest.Code) instead
    404: "not_on_whatsapp",
    406: "not_allowed",  # e.g. the group's creator
    408: "recently_left",  # left the group not long ago: WhatsApp refuses to add them back yet
    409: "already_participant",
    401: "blocked",
}


def person(participant: Any) -> dict[str, Any]:
    """{jid, phone, lid} of a GroupParticipant (whatsmeow names them by LID or phone; both when it knows)."""
    jid, lid, phone_jid = (
        jids.to_str(participant.JID),
        jids.to_str(participant.LID),
        jids.to_str(participant.PhoneNumber),
    )
    phone = jids.phone_of(phone_jid) or jids.phone_of(jid)
    return {"jid": jid, "phone": phone, "lid": lid or (jid if jids.is_lid(jid) else None)}


def role(participant: Any) -> str:
    if participant.IsSuperAdmin:
        return "superadmin"
    return "admin" if participant.IsAdmin else "member"


def group_info(info: Any) -> dict[str, Any]:
    owner = jids.to_str(info.OwnerJID)
    owner_phone = jids.phone_of(jids.to_str(info.OwnerPN)) or jids.phone_of(owner)
    created = int(info.GroupCreated)
    return {
        "jid": jids.to_str(info.JID),
        "subject": info.GroupName.Name,
        "description": info.GroupTopic.Topic,
        "announce": bool(info.GroupAnnounce.IsAnnounce),
        "locked": bool(info.GroupLocked.isLocked),
        "picture": None,  # whatsmeow reports the picture apart (not fetched here)
        "owner": {"jid": owner or None, "phone": owner_phone, "lid": owner if jids.is_lid(owner) else None},
        "created_at": created * 1000 if 0 < created < 10**11 else created,
        "participants": [person(p) | {"role": role(p)} for p in info.Participants],
    }


def participant_results(inputs: list[str], wanted: list[str], answered: Any, action: str) -> list[dict[str, Any]]:
    """A result per input, in order: what whatsmeow answered for the JID we asked for it (by JID, phone or LID)."""
    found: dict[str, Any] = {}
    for participant in answered:
        for key in (participant.JID, participant.LID, participant.PhoneNumber):
            text = jids.to_str(key)
            if text:
                found[text] = participant
    results = []
    for value, jid in zip(inputs, wanted, strict=True):
        participant = found.get(jid)
        if participant is None:
            results.append({"input": value, "jid": jid, "status": "not_on_whatsapp"})
            continue
        code = int(participant.Error)
        status = _PARTICIPANT_ERRORS.get(code, "refused")
        if status == "ok" and action == "add":
            status = "added"
        result = {"input": value, **person(participant), "status": status}
        if status == "invite_required" and participant.AddRequest.Code:
            result["invite_code"] = participant.AddRequest.Code
            result["invite_expiration"] = int(participant.AddRequest.Expiration)
        results.append(result)
    return results


def invite_code(link: str) -> str:
    """The code of an invite link (full URL or bare code)."""
    value = link.strip()
    return value.removeprefix(INVITE_PREFIX) if value.startswith(INVITE_PREFIX) else value


# -- neonize's group events as the engine's `group` events (bzapper.domain.engine) ---------------------------


def _text(jid: Any) -> str:
    return jid if isinstance(jid, str) else jids.to_str(jid)


def _by(jid: Any, alt: Any = None) -> dict[str, Any] | None:
    """{jid, phone, lid} of a JID (a proto or its string) and its alternate, or None for an empty one."""
    main = _text(jid)
    if not main:
        return None
    other = _text(alt) if alt is not None else ""
    found: dict[str, Any] = {"jid": main, "phone": None, "lid": None}
    for value in (main, other):
        if jids.is_lid(value):
            found["lid"] = value
        elif phone := jids.phone_of(value):
            found["phone"] = phone
    return found


def _at(timestamp: int, now_ms: int) -> int:
    return int(timestamp) * 1000 if timestamp else now_ms


def joined_event(instance_id: str, event: Any, now_ms: int) -> dict[str, Any]:
    """JoinedGroup: this number is in a group now (it created it, was added, or joined by link)."""
    info = group_info(event.GroupInfo)
    return {
        "kind": "group",
        "instance_id": instance_id,
        "change": "joined",
        "group_jid": info["jid"],
        "by": _by(event.Sender, event.SenderPN),
        "group": info,
        "at": now_ms,
    }


def info_events(instance_id: str, event: Any, own: frozenset[str], now_ms: int) -> list[dict[str, Any]]:
    """GroupInfoEvent: one `group` event per kind of change it carries (whatsmeow batches them in one)."""
    group_jid, by = jids.to_str(event.JID), _by(event.Sender)
    base = {
        "kind": "group",
        "instance_id": instance_id,
        "group_jid": group_jid,
        "by": by,
        "at": _at(event.Timestamp, now_ms),
    }
    sender = by["jid"] if by else ""
    found: list[dict[str, Any]] = []
    left = [jids.to_str(j) for j in event.Leave]
    if own & set(left):
        found.append(base | {"change": "left", "reason": "left" if sender in own or not sender else "removed"})
    for field, action in (("Join", "add"), ("Leave", "remove"), ("Promote", "promote"), ("Demote", "demote")):
        people = [jids.to_str(j) for j in getattr(event, field)]
        others = [p for p in people if p not in own or field in ("Promote", "Demote")]
        if not others:
            continue
        if field == "Join" and (event.JoinReason == "invite" or others == [sender]):
            action = "join"  # by link: the participant added itself
        elif field == "Leave" and others == [sender]:
            action = "leave"
        found.append(
            base | {"change": "participants_changed", "action": action, "participants": [_by(p) for p in others]}
        )
    changes: dict[str, Any] = {}
    if event.HasField("Name"):
        changes["subject"] = event.Name.Name
    if event.HasField("Topic"):
        changes["description"] = "" if event.Topic.TopicDeleted else event.Topic.Topic
    if event.HasField("Announce"):
        changes["announce"] = bool(event.Announce.IsAnnounce)
    if event.HasField("Locked"):
        changes["locked"] = bool(event.Locked.isLocked)
    if event.NewInviteLink:
        changes["invite_link"] = "revoked"
    if changes:
        found.append(base | {"change": "updated", "changes": changes})
    return found
