"""API keys, managed by a signed-in owner (never by a key: a leaked key can never mint another)."""

from __future__ import annotations

from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.ids import is_id
from bzapper.domain.keys import KEY_NAME_MAX, ROLL_HOURS_MAX, ApiKey, Mode, NewKey, unknown_scopes
from bzapper.domain.model import Principal
from bzapper.services.container import Services
from bzapper.services.instances import owned_ref


def _owner(principal: Principal) -> None:
    if not principal.is_session:
        raise BzError("forbidden", message_key="error.session_required")


def create_key(
    services: Services,
    principal: Principal,
    *,
    name: str,
    mode: Mode,
    scopes: list[str] | None,
    instance_ids: list[str] | None,
) -> NewKey:
    """A key for `mode` (whatever mode the session acts in), restricted to `scopes` and `instance_ids` when
    given; each number must be one of the account's in that mode (404 otherwise, as anywhere else)."""
    _owner(principal)
    label = name.strip()
    if not label or len(label) > KEY_NAME_MAX:
        raise validation_failed("name")
    if scopes is not None:
        if not scopes:
            raise validation_failed("scopes")
        for index in unknown_scopes(scopes):
            raise validation_failed(f"scopes.{index}", "error.unknown_scope", value=scopes[index])
    numbers = None
    if instance_ids is not None:
        if not instance_ids:
            raise validation_failed("instance_ids")
        in_mode = Principal(principal.account_id, mode, principal.locale, user_id=principal.user_id)
        for instance_id in instance_ids:
            owned_ref(services, in_mode, instance_id)
        numbers = frozenset(instance_ids)
    return services.keys.create(
        principal.account_id,
        name=label,
        mode=mode,
        scopes=frozenset(scopes) if scopes is not None else None,
        instance_ids=numbers,
    )


def list_keys(services: Services, principal: Principal) -> list[ApiKey]:
    _owner(principal)
    return services.keys.list_for(principal.account_id)


def owned_key(services: Services, principal: Principal, key_id: str) -> ApiKey:
    _owner(principal)
    key = services.keys.get(key_id) if is_id(key_id, "key") else None
    if key is None or key.account_id != principal.account_id:
        raise BzError("not_found")
    return key


def roll_key(services: Services, principal: Principal, key_id: str, expires_in_hours: int) -> NewKey:
    """A new secret; the current one keeps working for `expires_in_hours` (0: it stops at once)."""
    if not 0 <= expires_in_hours <= ROLL_HOURS_MAX:
        raise validation_failed("expires_in_hours")
    for _ in range(3):
        key = owned_key(services, principal, key_id)
        if key.revoked_at is not None:
            raise BzError("forbidden", message_key="error.key_revoked")
        rolled = services.keys.roll(key, now_ms() + expires_in_hours * 3600 * 1000)
        if rolled is not None:
            return rolled
    raise BzError("temporarily_unavailable", retry_after=1)


def revoke_key(services: Services, principal: Principal, key_id: str) -> ApiKey:
    """Every secret of the key is refused everywhere within seconds; revoking again changes nothing."""
    key = owned_key(services, principal, key_id)
    services.keys.revoke(key.key_id, now_ms())
    revoked = services.keys.get(key.key_id)
    assert revoked is not None
    return revoked
