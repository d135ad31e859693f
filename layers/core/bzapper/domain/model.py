"""The records the services pass around: plain data, independent of how they are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bzapper.domain.cloud import CloudNumber
from bzapper.domain.keys import Mode


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from the API key; every query is scoped by it."""

    account_id: str
    mode: Mode
    locale: str
    plan: str = "payg"
    features: frozenset[str] = frozenset()
    key_id: str = ""
    """Who holds the credential, for per-caller rate limits: the key's hash, or `session:<user>`."""
    scopes: frozenset[str] | None = None
    """A restricted key's scopes (None: every scope: a full key, or a signed-in owner)."""
    instance_ids: frozenset[str] | None = None
    """The numbers a restricted key may use (None: all of the account's)."""
    user_id: str | None = None
    """The signed-in console user, when the credential is a session token (None for an API key)."""
    api_key_id: str | None = None
    """The managed key (`key_…`) the request came with, when it has one (its last use is recorded)."""
    suspended: bool = False
    """The account is suspended by an operator: every request is refused (403 account_restricted)."""

    @property
    def livemode(self) -> bool:
        return self.mode == "live"

    @property
    def is_session(self) -> bool:
        return self.user_id is not None

    def may_use(self, instance_id: str) -> bool:
        """Whether this caller may touch the number (a key limited to some numbers sees no other)."""
        return self.instance_ids is None or instance_id in self.instance_ids

    @property
    def wallet_id(self) -> str:
        return wallet_id(self.account_id, self.mode)


def wallet_id(account_id: str, mode: Mode) -> str:
    """Test credits and live money never mix: one wallet per account and mode."""
    return f"{account_id}:{mode}"


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """The parts of an instance that never change after creation (safe to cache)."""

    instance_id: str
    account_id: str
    livemode: bool
    engine: str
    shard: int


@dataclass(frozen=True, slots=True)
class InstanceView:
    """An instance as stored: its immutable facts and what the holding worker last observed."""

    instance_id: str
    account_id: str
    livemode: bool
    engine: str
    shard: int
    name: str
    status: str
    phone: str | None
    lid: str | None
    push_name: str | None
    last_error: str | None
    qr: str | None
    state_at: int
    active: bool
    created_at: int
    updated_at: int
    cloud: CloudNumber | None = None
    """Engine `cloud` only: the Cloud API number behind the instance (its token sealed)."""
    restricted_until: int | None = None
    """When a `restricted` status is known to lift (ms), from the engine's report; None when unknown."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The stored settings (bzapper.domain.instance_settings.InstanceSettings.stored(): defaults omitted)."""

    @property
    def ref(self) -> InstanceRef:
        return InstanceRef(self.instance_id, self.account_id, self.livemode, self.engine, self.shard)


@dataclass(slots=True)
class OutboundMessage:
    message_id: str
    account_id: str
    instance_id: str
    livemode: bool
    type: str
    content: dict[str, Any]
    to_jid: str
    to_phone: str | None
    client_reference: str | None
    wa_message_id: str
    created_at: int
    shard: int

    def job(self) -> dict[str, Any]:
        """What crosses the shard queue: everything a worker needs to send, nothing more."""
        return {
            "message_id": self.message_id,
            "account_id": self.account_id,
            "instance_id": self.instance_id,
            "livemode": self.livemode,
            "type": self.type,
            "content": self.content,
            "to_jid": self.to_jid,
            "wa_message_id": self.wa_message_id,
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A worker's report about one message; `message_id` is unknown for receipts (only WhatsApp's id)."""

    instance_id: str
    wa_message_id: str
    status: str
    at: int
    message_id: str | None = None
    error_code: str | None = None
    pricing: dict[str, Any] | None = None
    """What Meta says the message costs (bzapper.domain.pricing): `{category, billable, model}`, optional."""
    error_details: dict[str, Any] | None = None
    """Meta's own code and title of a failure we have no stable code for."""
    participant: dict[str, Any] | None = None
    """A group message's receipt names the participant whose phone sent it: `{phone?, lid?, jid?}`."""

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(slots=True)
class MessageView:
    message_id: str
    account_id: str
    instance_id: str
    livemode: bool
    type: str
    content: dict[str, Any]
    to_jid: str
    to_phone: str | None
    client_reference: str | None
    status: str
    history: list[tuple[str, int]] = field(default_factory=list)
    error_code: str | None = None
    created_at: int = 0
    updated_at: int = 0
    wa_message_id: str | None = None
    direction: str = "outbound"
    edited_at: int | None = None
    """When an edit of this message reached WhatsApp (PATCH /messages/{id})."""
    deleted_at: int | None = None
    """When its deletion for everyone reached WhatsApp (DELETE /messages/{id})."""
    pricing: dict[str, Any] | None = None
    """What Meta said it costs, from the first status report that carried it (bzapper.domain.pricing)."""
    error_details: dict[str, Any] | None = None
    """The network's own code and title of a failure we have no stable code for (engine `cloud`)."""
    participants: list[dict[str, Any]] | None = None
    """A group message: `{phone, lid, status, at}` per participant that reported a receipt (None otherwise)."""
