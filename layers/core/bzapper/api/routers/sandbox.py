"""Test-mode windows into the simulated WhatsApp network (never available to live keys).

What a tester does on the other side of WhatsApp: scan an instance's QR (or confirm its pairing code),
write to an instance as a contact, and read what a contact received. docs/sandbox.md has the world's rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Body, Depends, Path

from bzapper.api.auth import require_test_mode
from bzapper.api.bodies import JsonRoute
from bzapper.api.sandbox_inbound import inbound_content, renamed
from bzapper.api.schemas.common import IN_NUMBERING_PLAN, RECIPIENT_PATTERN, error_responses
from bzapper.api.schemas.presence import (
    SandboxContactPresence,
    SandboxContactPresenceList,
    SandboxPresenceRequest,
    SandboxPresenceShown,
)
from bzapper.api.schemas.profiles import SandboxContactProfile, SandboxContactProfileUpdate
from bzapper.api.schemas.sandbox import (
    SandboxCallRequest,
    SandboxCallStarted,
    SandboxHistoryConversation,
    SandboxHistoryRedeliver,
    SandboxHistoryRedelivered,
    SandboxInboundAccepted,
    SandboxInboundRequest,
    SandboxInstanceState,
    SandboxJoined,
    SandboxJoinRequest,
    SandboxReceived,
    SandboxReceivedList,
    SandboxScanRequest,
)
from bzapper.bootstrap import services
from bzapper.domain.clock import iso
from bzapper.domain.engine import NotConnected
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.model import Principal
from bzapper.domain.phones import InvalidRecipient, parse_group, parse_recipient
from bzapper.domain.sandbox import SandboxRefused, SandboxUnavailable
from bzapper.i18n import MESSAGES
from bzapper.ports.sandbox import SandboxWorld
from bzapper.services import instances as instance_service

router = APIRouter(tags=["sandbox"], route_class=JsonRoute)

CONTACT_PHONE = Path(
    description="E.164 (URL-encode the `+`) or a JID." + IN_NUMBERING_PLAN,
    json_schema_extra={"pattern": RECIPIENT_PATTERN},
    examples=["+5511988888888"],
)
"""A simulated contact named in the path (its received messages, its joins)."""

INSTANCE_ID = Path(examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


def _network() -> SandboxWorld:
    network = services().sandbox
    if not network.enabled:
        raise BzError("not_supported")
    return network


@contextmanager
def _network_errors() -> Iterator[None]:
    """The network unreachable (or failing) is a 503 to retry; its refusals are mapped by each endpoint."""
    try:
        yield
    except SandboxUnavailable as error:
        raise BzError("temporarily_unavailable", retry_after=1) from error


def _recipient(param: str, value: str) -> str:
    """The contact as the network names it: E.164 when the value has a phone, else the JID."""
    try:
        recipient = parse_recipient(value)
    except InvalidRecipient as error:
        raise validation_failed(param, "error.invalid_recipient", value=value) from error
    return recipient.phone or recipient.jid


def _group(value: str, param: str = "group") -> str:
    try:
        return parse_group(value)
    except InvalidRecipient as error:
        raise validation_failed(param, "error.invalid_group_jid", value=value) from error


@router.get(
    "/sandbox/contacts/{phone}/messages",
    response_model=SandboxReceivedList,
    summary="What a simulated contact received (test keys only)",
    responses=error_responses(401, 403, 422, 503),
)
def contact_messages(
    phone: str = CONTACT_PHONE,
    principal: Principal = Depends(require_test_mode),
) -> SandboxReceivedList:
    contact = _recipient("phone", phone)
    network = _network()
    try:
        with _network_errors():
            received = network.received(principal.account_id, contact)
    except SandboxRefused as error:
        raise validation_failed("phone") from error
    return SandboxReceivedList(
        data=[
            SandboxReceived(
                wa_message_id=item["wa_message_id"],
                instance_id=item["instance_id"],
                to_jid=item["to_jid"],
                message=item["message"],
                received_at=iso(int(item["received_at"])),
                group_jid=item.get("group_jid"),
            )
            for item in received
            # A key limited to some numbers sees only what they sent (not another number's OTP codes).
            if principal.may_use(item["instance_id"])
        ]
    )


@router.post(
    "/sandbox/contacts/{phone}/join",
    response_model=SandboxJoined,
    summary="A simulated contact joins a group by its invite link (test keys only)",
    responses=error_responses(401, 403, 422, 503),
)
def contact_join(
    body: SandboxJoinRequest,
    phone: str = CONTACT_PHONE,
    principal: Principal = Depends(require_test_mode),
) -> SandboxJoined:
    contact = _recipient("phone", phone)
    network = _network()
    try:
        with _network_errors():
            group = network.contact_join(principal.account_id, contact, body.invite_link)
    except SandboxRefused as error:
        if error.code == "not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="phone") from error
        raise validation_failed("invite_link", "error.invite_link_invalid") from error
    return SandboxJoined(group_jid=group["jid"])


@router.post(
    "/sandbox/instances/{instance_id}/scan",
    response_model=SandboxInstanceState,
    response_model_exclude_unset=True,  # `history` only when the scan described one
    summary="Scan the instance's QR code, or confirm its pairing code, from a simulated phone (test keys only)",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def scan(
    body: SandboxScanRequest = Body(default_factory=SandboxScanRequest),  # an empty POST scans with the default
    instance_id: str = INSTANCE_ID,
    principal: Principal = Depends(require_test_mode),
) -> SandboxInstanceState:
    instance = instance_service.owned(services(), principal, instance_id)
    phone = _recipient("phone", body.phone) if body.phone is not None else None
    if phone is not None and not phone.startswith("+"):
        raise validation_failed("phone", "error.invalid_recipient", value=body.phone)
    network = _network()
    if body.code:
        phone = None  # the code names its number
    extra = {"history": _history(body.history)} if body.history is not None else {}
    try:
        with _network_errors():
            state = network.scan(principal.account_id, instance.instance_id, phone, code=body.code, **extra)
    except SandboxRefused as error:
        if error.code == "history_not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="history") from error
        if error.code == "already_paired":
            raise BzError("already_connected") from error
        if error.code == "invalid_pairing_code":
            raise validation_failed("code", "error.sandbox_invalid_pairing_code") from error
        if error.code == "not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="phone") from error
        raise validation_failed("phone") from error
    return SandboxInstanceState(
        instance_id=instance.instance_id,
        state=state["state"],
        phone=state["phone"],
        lid=state["lid"],
        push_name=state["push_name"],
        **({"history": state["history"]} if state.get("history") is not None else {}),
    )


def _history(conversations: list[SandboxHistoryConversation]) -> list[dict[str, Any]]:
    """A scan's history as the network reads it: one of contact or group per conversation, a group's writers
    named, every number normalized (a 422 on `history` otherwise)."""
    described: list[dict[str, Any]] = []
    for conversation in conversations:
        if (conversation.contact is None) == (conversation.group is None):
            raise validation_failed("history", "error.sandbox_history_conversation")
        messages = []
        for message in conversation.messages:
            item = message.model_dump(exclude={"sender"}, exclude_none=True)
            if conversation.group is not None and not message.from_me:
                if message.sender is None:
                    raise validation_failed("history", "error.sandbox_history_conversation")
                item["from"] = _recipient("history", message.sender)
            messages.append(item)
        if conversation.group is not None:
            group = {"group": _group(conversation.group, "history"), "messages": messages}
            described.append(group | ({"group_name": conversation.group_name} if conversation.group_name else {}))
        else:
            described.append({"contact": _recipient("history", conversation.contact or ""), "messages": messages})
    return described


@router.post(
    "/sandbox/instances/{instance_id}/history/redeliver",
    status_code=202,
    response_model=SandboxHistoryRedelivered,
    summary="The simulated phone hands a chunk of the pairing's history again, as WhatsApp may (test keys only)",
    responses=error_responses(401, 403, 404, 422, 503),
)
def redeliver_history(
    body: SandboxHistoryRedeliver = Body(default_factory=SandboxHistoryRedeliver),
    instance_id: str = INSTANCE_ID,
    principal: Principal = Depends(require_test_mode),
) -> SandboxHistoryRedelivered:
    instance = instance_service.owned(services(), principal, instance_id)
    instance_service.require_session(instance, "history")
    network = _network()
    try:
        with _network_errors():
            handed = network.redeliver_history(principal.account_id, instance.instance_id, body.chunk)
    except SandboxRefused as error:
        raise validation_failed("chunk", "error.sandbox_no_history_chunk", chunk=body.chunk) from error
    return SandboxHistoryRedelivered(**handed)


def _content(body: SandboxInboundRequest) -> dict:
    """The injected content, as WhatsApp would deliver it (`body` is a shortcut for `content.body`)."""
    content = dict(body.content or {})
    if body.body is None:
        return inbound_content(body.type, content)
    if "body" in content:
        raise validation_failed("content.body", "error.sandbox_body_twice")
    try:
        return inbound_content(body.type, {**content, "body": body.body})
    except BzError as error:
        if error.param != "content.body":
            raise
        raise renamed(error, "body") from None


def _cloud_inbound(phone_number_id: str, sender: str, body: SandboxInboundRequest) -> SandboxInboundAccepted:
    """A test-mode Cloud API number: the simulated Graph API's contact writes, and Meta's signed webhook brings it
    back through POST /cloud/webhook like any Cloud API message. No groups, no echoes of the number's own phone."""
    if body.group is not None or body.from_me:
        raise BzError("not_supported", message_key="error.engine_action", params={"engine": "cloud", "action": "group"})
    if not sender.startswith("+"):
        raise validation_failed("from", "error.cloud_recipient_unsupported", engine="cloud", type=body.type)
    network = _network()
    try:
        with _network_errors():
            wa_message_id = network.cloud_inbound(phone_number_id, sender, body.type, _content(body), body.push_name)
    except SandboxRefused as error:
        raise validation_failed("content", "error.sandbox_invalid_inbound") from error
    return SandboxInboundAccepted(wa_message_id=wa_message_id)


@router.post(
    "/sandbox/instances/{instance_id}/inbound",
    status_code=202,
    response_model=SandboxInboundAccepted,
    summary="A simulated contact writes to the instance, or in a group (test keys only)",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def inbound(
    body: SandboxInboundRequest,
    instance_id: str = INSTANCE_ID,
    principal: Principal = Depends(require_test_mode),
) -> SandboxInboundAccepted:
    instance = instance_service.owned(services(), principal, instance_id)
    sender = _recipient("from", body.sender)
    if instance.cloud is not None:
        return _cloud_inbound(instance.cloud.phone_number_id, sender, body)
    group = _group(body.group) if body.group is not None else None
    if body.group_name is not None and group is None:
        raise validation_failed("group_name", "error.sandbox_group_name_without_group")
    content = _content(body)
    network = _network()
    try:
        with _network_errors():
            wa_message_id = network.inject_inbound(
                principal.account_id,
                instance.instance_id,
                sender,
                body.type,
                content,
                from_me=body.from_me,
                push_name=body.push_name,
                wa_message_id=body.wa_message_id,
                group=group,
                group_name=body.group_name,
            )
    except NotConnected as error:
        raise BzError("instance_not_connected") from error
    except SandboxRefused as error:
        if error.code == "not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="from") from error
        # The network's reason is English: a known problem has its own catalog text, anything else the generic one.
        known = f"error.sandbox_invalid_inbound.{error.problem}"
        raise validation_failed("content", known if known in MESSAGES else "error.sandbox_invalid_inbound") from error
    return SandboxInboundAccepted(wa_message_id=wa_message_id)


@router.post(
    "/sandbox/instances/{instance_id}/call",
    status_code=202,
    response_model=SandboxCallStarted,
    summary="A simulated contact calls the instance's number (test keys only)",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def call(
    body: SandboxCallRequest, instance_id: str = INSTANCE_ID, principal: Principal = Depends(require_test_mode)
) -> SandboxCallStarted:
    instance = instance_service.owned(services(), principal, instance_id)
    instance_service.require_session(instance, "calls")
    caller = _recipient("from", body.caller)
    network = _network()
    try:
        with _network_errors():
            record = network.call(principal.account_id, instance.instance_id, caller, video=body.video)
    except NotConnected as error:
        raise BzError("instance_not_connected") from error
    except SandboxRefused as error:
        if error.code == "not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="from") from error
        raise validation_failed("from") from error
    return SandboxCallStarted(call_id=str(record["call_id"]), instance_id=instance.instance_id)


@router.get(
    "/sandbox/contacts/{phone}/presence",
    response_model=SandboxContactPresenceList,
    summary="What a simulated contact saw of the numbers: presence, typing, and whether they block it (test keys only)",
    responses=error_responses(401, 403, 422, 503),
)
def contact_presence(
    phone: str = CONTACT_PHONE,
    principal: Principal = Depends(require_test_mode),
) -> SandboxContactPresenceList:
    contact = _recipient("phone", phone)
    network = _network()
    try:
        with _network_errors():
            seen = network.contact_presence(principal.account_id, contact)
    except SandboxRefused as error:
        raise validation_failed("phone") from error

    def at(value: object) -> str | None:
        return iso(int(value)) if isinstance(value, int) else None

    return SandboxContactPresenceList(
        data=[
            SandboxContactPresence(
                instance_id=item["instance_id"],
                blocked=bool(item["blocked"]),
                online=item["online"],
                online_at=at(item["online_at"]),
                chat_state=item["chat_state"],
                chat_jid=item["chat_jid"],
                chat_state_at=at(item["chat_state_at"]),
            )
            for item in seen
            # Only what the key's numbers did (a key limited to some numbers sees only theirs).
            if principal.may_use(item["instance_id"])
        ]
    )


@router.post(
    "/sandbox/instances/{instance_id}/presence",
    status_code=202,
    response_model=SandboxPresenceShown,
    summary="A simulated contact shows its presence to the number: online, typing, recording (test keys only)",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def show_presence(
    body: SandboxPresenceRequest, instance_id: str = INSTANCE_ID, principal: Principal = Depends(require_test_mode)
) -> SandboxPresenceShown:
    instance = instance_service.owned(services(), principal, instance_id)
    instance_service.require_session(instance, "presence")
    sender = _recipient("from", body.sender)
    chat = None
    if body.chat is not None:
        try:
            chat = parse_group(body.chat)
        except InvalidRecipient as error:
            raise validation_failed("chat", "error.invalid_group_jid", value=body.chat) from error
        if body.state in ("available", "unavailable"):
            raise validation_failed("chat", "error.sandbox_presence_chat")
    network = _network()
    try:
        with _network_errors():
            shown = network.show_presence(principal.account_id, instance.instance_id, sender, body.state, chat)
    except NotConnected as error:
        raise BzError("instance_not_connected") from error
    except SandboxRefused as error:
        if error.code == "not_on_whatsapp":
            raise BzError("not_on_whatsapp", param="from") from error
        raise validation_failed("from") from error
    return SandboxPresenceShown(instance_id=instance.instance_id, delivered=bool(shown.get("delivered")))


# -- profiles (docs/profiles.md, docs/sandbox.md "Profiles") ------------------------------------------------


def _seen(found: dict[str, Any]) -> SandboxContactProfile:
    picture = found.get("picture")
    return SandboxContactProfile(
        jid=found["jid"],
        phone=found.get("phone"),
        lid=found.get("lid"),
        name=found.get("name"),
        about=found.get("about"),
        business=bool(found.get("business")),
        verified_name=found.get("verified_name"),
        picture_id=str(picture["id"]) if isinstance(picture, dict) and picture.get("id") else None,
    )


def _contact_profile(principal: Principal, phone: str, changes: dict[str, Any] | None) -> SandboxContactProfile:
    contact = _recipient("phone", phone)
    network = _network()
    try:
        with _network_errors():
            return _seen(network.contact_profile(principal.account_id, contact, changes))
    except SandboxRefused as error:
        if error.code == "not_on_whatsapp" or error.problem == "phone":
            raise BzError("not_on_whatsapp", param="phone") from error
        raise validation_failed(error.problem or "phone") from error


@router.get(
    "/sandbox/contacts/{phone}/profile",
    response_model=SandboxContactProfile,
    summary="What every user sees of a phone's profile: a simulated contact, or one of your numbers (test keys)",
    responses=error_responses(401, 403, 422, 503),
)
def contact_profile(
    phone: str = CONTACT_PHONE, principal: Principal = Depends(require_test_mode)
) -> SandboxContactProfile:
    return _contact_profile(principal, phone, None)


@router.patch(
    "/sandbox/contacts/{phone}/profile",
    response_model=SandboxContactProfile,
    summary="Set what a simulated contact shows: name, about, business, a new picture or none (test keys)",
    responses=error_responses(401, 403, 422, 503),
)
def set_contact_profile(
    body: SandboxContactProfileUpdate,
    phone: str = CONTACT_PHONE,
    principal: Principal = Depends(require_test_mode),
) -> SandboxContactProfile:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise validation_failed("request_body", "error.profile_nothing_to_change")
    return _contact_profile(principal, phone, changes)
