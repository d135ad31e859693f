"""Instances: what customers ask of their numbers, and what the workers observe about them.

The API never talks to a WhatsApp socket: it records intent and tells the shard's holder through the
control path; the holder's observations come back as state reports and become the stored status and
the instance.* events.
"""

from __future__ import annotations

import logging
from typing import Any

from bzapper.config import settings
from bzapper.domain.clock import iso, now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.events import envelope
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.ids import is_id
from bzapper.domain.instance_settings import (
    InstanceSettings,
    apply_patch,
    check_patch,
    parse_proxy,
    session_changed,
)
from bzapper.domain.instances import (
    ENGINE_UNAVAILABLE,
    PAIRABLE,
    SESSION_ENGINES,
    TEST_ENGINES,
    InstanceStatus,
    default_engine,
    emits_event,
)
from bzapper.domain.model import InstanceRef, InstanceView, Principal
from bzapper.domain.phones import InvalidRecipient, chat_phone, normalize_phone
from bzapper.domain.plans import plan_named
from bzapper.net import require_safe_proxy
from bzapper.services.container import Services
from bzapper.services.control import ask, command
from bzapper.services.idempotent import once

logger = logging.getLogger(__name__)


def create(
    services: Services,
    principal: Principal,
    *,
    name: str,
    engine: str | None,
    cloud: dict[str, str] | None = None,
) -> InstanceView:
    """`cloud` ({phone_number_id, waba_id, access_token}) is required with engine `cloud`, refused otherwise."""
    engine = engine or default_engine(principal.livemode)
    if not principal.livemode and engine not in TEST_ENGINES:
        raise validation_failed("engine", "error.engine_test_mode", engine=engine)
    if engine == "cloud":
        if cloud is None:
            raise validation_failed("cloud", "error.cloud_required")
        from bzapper.services import cloud as cloud_numbers  # only a Cloud API number pays for its module

        return cloud_numbers.create_instance(services, principal, name=name, **cloud)
    if cloud is not None:
        raise validation_failed("cloud", "error.cloud_only", engine=engine)
    limit = plan_named(principal.plan).instances
    ref = services.instances.create(
        principal.account_id,
        livemode=principal.livemode,
        engine=engine,
        name=name,
        status=InstanceStatus.DISCONNECTED.value,
        limit=limit,
    )
    if ref is None:
        raise instance_limit(limit)
    command(services, ref, "open")
    view = services.instances.view(ref.instance_id)
    assert view is not None
    return view


def instance_limit(limit: int) -> BzError:
    return BzError("limit_exceeded", params={"limit": limit, "resource": "instances"})


def create_once(
    services: Services,
    principal: Principal,
    idempotency: IdempotencyRequest | None,
    *,
    name: str,
    engine: str | None,
    cloud: dict[str, Any] | None = None,
) -> tuple[InstanceView, bool]:
    """`create` under an Idempotency-Key: a retry answers the same number (as it is now), never a second one."""
    return once(
        services,
        principal,
        idempotency,
        lambda: create(services, principal, name=name, engine=engine, cloud=cloud),
        remember=lambda view: {"instance_id": view.instance_id},
        replay=lambda stored: owned(services, principal, str(stored["instance_id"])),  # deleted since: 404
    )


def list_instances(services: Services, principal: Principal) -> list[InstanceView]:
    views = services.instances.of_account(principal.account_id, principal.livemode)
    return [view for view in views if principal.may_use(view.instance_id)]


def owned(services: Services, principal: Principal, instance_id: str) -> InstanceView:
    """The caller's instance as stored now; another account's (or mode's) is indistinguishable from none."""
    view = services.instances.view(instance_id) if is_id(instance_id, "inst") else None
    if view is None or not _belongs(view.account_id, view.livemode, principal) or not principal.may_use(instance_id):
        raise BzError("not_found")
    return view


def owned_ref(services: Services, principal: Principal, instance_id: str) -> InstanceRef:
    """The same check on the instance's immutable facts, cached: for hot paths (sends, the inbox)."""
    ref = services.instances.get(instance_id) if is_id(instance_id, "inst") else None
    if ref is None or not _belongs(ref.account_id, ref.livemode, principal) or not principal.may_use(instance_id):
        raise BzError("not_found")
    return ref


def _belongs(account_id: str, livemode: bool, principal: Principal) -> bool:
    # Another account's instance (or another mode's, or one a restricted key may not use) is indistinguishable
    # from none.
    return account_id == principal.account_id and livemode == principal.livemode


def require_session(view: InstanceView, action: str) -> None:
    """A Cloud API number has no session: nothing to pair, restart or log out, and no contacts check."""
    if view.engine not in SESSION_ENGINES:
        raise BzError(
            "not_supported", message_key="error.engine_action", params={"engine": view.engine, "action": action}
        )


def require_engine_running(view: InstanceView) -> None:
    """A worker said it has no engine for this number: no QR or code will ever come, so say why now."""
    if view.last_error == ENGINE_UNAVAILABLE and view.status != InstanceStatus.CONNECTED:
        params = {"engine": view.engine}
        raise BzError("not_supported", message_key="error.engine_unavailable", params=params, status=422)


def qr(services: Services, principal: Principal, instance_id: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    require_session(view, "qr")
    require_engine_running(view)
    if view.status == InstanceStatus.CONNECTED:
        raise BzError("already_connected")
    if view.status == InstanceStatus.RESTRICTED:
        raise BzError("account_restricted")  # linked, but WhatsApp holds it: no QR will help
    if view.status == InstanceStatus.PASSKEY_REQUIRED:
        raise BzError("passkey_required")  # the QR was scanned: the phone must confirm with its passkey
    if view.status != InstanceStatus.PAIRING or not view.qr:
        if view.status in PAIRABLE and view.status != InstanceStatus.PAIRING:
            # A QR is asked for: pairing starts (again), even for a number logged out before.
            services.instances.set_active(view.instance_id, True)
            command(services, view.ref, "open")
        raise BzError("qr_not_ready", retry_after=1)
    return view


def pairing_code(services: Services, principal: Principal, instance_id: str, phone: str) -> str:
    view = owned(services, principal, instance_id)
    require_session(view, "pairing-code")
    require_engine_running(view)
    if view.status == InstanceStatus.CONNECTED:
        raise BzError("already_connected")
    try:
        e164 = normalize_phone(phone)
    except InvalidRecipient as error:
        raise validation_failed("phone", "error.invalid_recipient", value=phone) from error
    services.instances.set_active(view.instance_id, True)
    return str(ask(services, view.ref, "pairing_code", phone=e164)["code"])


def logout(services: Services, principal: Principal, instance_id: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    require_session(view, "logout")
    services.instances.set_active(view.instance_id, False)
    command(services, view.ref, "logout")
    return view


def restart(services: Services, principal: Principal, instance_id: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    require_session(view, "restart")
    services.instances.set_active(view.instance_id, True)
    command(services, view.ref, "restart")
    return view


PROXY_SECRET_EXPIRY_MS = 253_402_300_799_000
"""A proxy password is sealed "until 9999-12-31": the OTP sealer's expiry, which a setting does not have."""


def update_settings(services: Services, principal: Principal, instance_id: str, patch: dict[str, Any]) -> InstanceView:
    """Only the given keys change; a change the live session applies (online, proxy, calls) reaches it as a
    `settings` command, the rest is read where it is used (inbound, reports)."""
    view = owned(services, principal, instance_id)
    require_session(view, "settings")
    check_patch(patch)
    before = InstanceSettings.from_stored(view.settings)
    proxy_url, proxy_secret = None, None
    if patch.get("proxy_url") is not None:
        proxy = parse_proxy(patch["proxy_url"])
        require_safe_proxy(proxy.host, proxy.port, allow_loopback=settings().local_mode)
        proxy_url = proxy.without_password()
        if proxy.password:
            proxy_secret = _seal_proxy_password(services, principal, proxy.password)
    after = apply_patch(before, patch, proxy_url=proxy_url, proxy_secret=proxy_secret)
    updated = services.instances.set_settings(view.instance_id, after.stored())
    if updated is None:
        raise BzError("not_found")
    if session_changed(before, after):
        command(services, view.ref, "settings", settings=after.for_engine())
    return updated


def _seal_proxy_password(services: Services, principal: Principal, password: str) -> str:
    sealer = services.sealers.current()
    if sealer is None:
        raise BzError("not_supported", message_key="error.proxy_secret_not_configured")
    try:
        return sealer.seal(password, account_id=principal.account_id, expires_at_ms=PROXY_SECRET_EXPIRY_MS)
    except Exception as error:  # KMS throttled or unreachable: nothing was written, the client may retry
        logger.warning("sealing a proxy password failed: %s", type(error).__name__)
        raise BzError("temporarily_unavailable", retry_after=1) from error


def delete(services: Services, principal: Principal, instance_id: str) -> None:
    view = owned(services, principal, instance_id)
    if view.engine not in SESSION_ENGINES:
        from bzapper.services import cloud

        cloud.delete_instance(services, view)
        return
    # The holder unlinks the device first; the item goes now, so the number is gone for the API at once.
    command(services, view.ref, "logout")
    services.instances.delete(view.instance_id)


def check_numbers(
    services: Services, principal: Principal, instance_id: str, numbers: list[str]
) -> list[dict[str, Any]]:
    view = owned(services, principal, instance_id)
    require_session(view, "checkIsOnWhatsApp")
    if view.status != InstanceStatus.CONNECTED:
        raise BzError("not_connected")
    results: list[dict[str, Any]] = ask(services, view.ref, "check_numbers", inputs=numbers)["results"]
    for result in results:
        if result.get("phone") and result.get("lid"):
            learn_identity(services, view, result["phone"], result["lid"], now_ms())
    return results


# -- what the workers report ---------------------------------------------------------------------


def apply_state(services: Services, report: dict[str, Any]) -> None:
    """A worker observed a state: store it (unless a newer one is stored) and emit the event of the change."""
    instance_id = report["instance_id"]
    before = services.instances.view(instance_id)
    if before is None:
        return  # deleted meanwhile
    after = services.instances.apply_state(
        instance_id,
        status=report["state"],
        at=int(report["at"]),
        qr=report.get("qr"),
        phone=report.get("phone"),
        lid=report.get("lid"),
        push_name=report.get("push_name"),
        error=report.get("error"),
        until=int(report["until"]) if report.get("until") else None,
    )
    if after is None:
        return  # an older observation than the one stored
    event_type = emits_event(before.status, before.qr, after.status, after.qr)
    if event_type is not None:
        services.events.publish([state_event(event_type, after, int(report["at"]))])
    if after.phone and after.lid and (before.phone, before.lid) != (after.phone, after.lid):
        learn_identity(services, after, after.phone, after.lid, int(report["at"]))


def state_event(event_type: str, view: InstanceView, at: int) -> dict[str, Any]:
    data: dict[str, Any] = {"instance_id": view.instance_id, "status": view.status}
    if event_type == "instance.qr":
        data["qr"] = view.qr
    else:
        data.update(phone=view.phone, lid=view.lid, push_name=view.push_name)
    if view.last_error:
        data["error"] = {"code": view.last_error}
    if view.status == InstanceStatus.RESTRICTED:
        data["restriction"] = restriction_of(view)
    return envelope(
        event_type,
        at_ms=at,
        account_id=view.account_id,
        instance_id=view.instance_id,
        livemode=view.livemode,
        data=data,
        identity=(view.instance_id, view.status, view.qr or ""),
    )


def restriction_of(view: InstanceView) -> dict[str, Any] | None:
    """Why a restricted number is held and until when (null when WhatsApp did not say), else None."""
    if view.status != InstanceStatus.RESTRICTED:
        return None
    until = iso(view.restricted_until) if view.restricted_until else None
    return {"reason": view.last_error or "account_restricted", "until": until}


def learn_identity(services: Services, instance: InstanceView, phone: str, lid: str, at: int) -> None:
    """Store a LID <-> phone mapping; the first time it is learned, contact.identity_resolved says so.

    Published before stored: a failed publish is retried (same event id) instead of lost behind a stored mapping.
    """
    # Keyed as the inbox keys a chat (an engine may report a Brazilian mobile without its ninth digit).
    phone = chat_phone(phone) or phone
    if services.identities.lid_of(instance.account_id, phone) == lid:
        return
    services.events.publish(
        [
            envelope(
                "contact.identity_resolved",
                at_ms=at,
                account_id=instance.account_id,
                instance_id=instance.instance_id,
                livemode=instance.livemode,
                data={"phone": phone, "lid": lid},
                identity=(instance.account_id, phone, lid),
            )
        ]
    )
    services.identities.record(instance.account_id, phone, lid)
