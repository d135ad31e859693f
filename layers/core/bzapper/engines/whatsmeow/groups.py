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
        results.append(result)
    return results


def invite_code(link: str) -> str:
    """The code of an invite link (full URL or bare code)."""
    value = link.strip()
    return value.removeprefix(INVITE_PREFIX) if value.startswith(INVITE_PREFIX) else value
