"""PynamoDB models: one per item type, table names from the topology and the stage."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from bzapper.config import settings

_settings = settings()


def _meta(logical: str) -> type:
    return type("Meta", (), {"table_name": _settings.table(logical), "region": _settings.region})


class AccountModel(Model):
    Meta = _meta("accounts")
    account_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    plan = UnicodeAttribute(default="payg")
    features = UnicodeSetAttribute(null=True)
    """Features enabled for this account beyond its plan's."""
    created_at = NumberAttribute()
    status = UnicodeAttribute(default="active")
    """"active" or "suspended" (by an operator)."""
    owner_email = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(null=True)
    """The console user (the identity service's `sub`) who owns it."""


class ApiKeyModel(Model):
    """One item per secret, by its hash: what authenticating a request reads first."""

    Meta = _meta("api_keys")
    key_hash = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    mode = UnicodeAttribute()
    hint = UnicodeAttribute()
    created_at = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    key_id = UnicodeAttribute(null=True)
    """The managed key this secret belongs to (KeyModel); None for an operator's key (unrestricted)."""
    expires_at = NumberAttribute(null=True)
    """A rolled key's previous secret stops working then."""


class KeysByAccount(GlobalSecondaryIndex["KeyModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class KeyModel(Model):
    """A managed API key: its name, mode, scopes and numbers, and which secrets (by hash) are its own now."""

    Meta = _meta("keys")
    key_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    mode = UnicodeAttribute()
    scopes = UnicodeSetAttribute(null=True)
    """None: every scope."""
    instance_ids = UnicodeSetAttribute(null=True)
    """None: every number."""
    last4 = UnicodeAttribute()
    created_at = NumberAttribute()
    last_used = NumberAttribute(null=True)
    revoked_at = NumberAttribute(null=True)
    secret_hash = UnicodeAttribute()
    previous_hash = UnicodeAttribute(null=True)
    previous_expires = NumberAttribute(null=True)
    by_account = KeysByAccount()


class UserModel(Model):
    """A console user (the identity service's `sub`) and the account it owns."""

    Meta = _meta("users")
    user_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = NumberAttribute()


class RevocationModel(Model):
    """A signed-out session (`session#<id>`) or refresh token (`refresh#<sha256>`), or every session of a user
    that signed in until `ended_at` (`user#<id>`: a password reset), kept until it would have expired anyway."""

    Meta = _meta("revocations")
    token = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    ended_at = NumberAttribute(null=True)


class InstancesByAccount(GlobalSecondaryIndex["InstanceModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    instance_id = UnicodeAttribute(range_key=True)


class InstancesByShard(GlobalSecondaryIndex["InstanceModel"]):
    class Meta:
        index_name = "by_shard"
        projection = AllProjection()

    shard = NumberAttribute(hash_key=True)
    instance_id = UnicodeAttribute(range_key=True)


class InstanceModel(Model):
    Meta = _meta("instances")
    instance_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    livemode = BooleanAttribute()
    engine = UnicodeAttribute()
    shard = NumberAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    lid = UnicodeAttribute(null=True)
    push_name = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    qr = UnicodeAttribute(null=True)
    """The current QR string while pairing (it rotates every ~20 s; cleared once connected)."""
    state_at = NumberAttribute(default=0)
    """When the worker observed the current status: an older report never overwrites a newer one."""
    active = BooleanAttribute(default=True)
    """False once logged out by the customer: a worker taking the shard over does not reopen it."""
    restricted_until = NumberAttribute(null=True)
    """When a `restricted` status lifts (ms), when the engine said; cleared by every other observation."""
    settings = JSONAttribute(null=True)
    """InstanceSettings.stored(): only what differs from the defaults; a proxy's password sealed."""
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    cloud = JSONAttribute(null=True)
    """Engine `cloud`: bzapper.domain.cloud.CloudNumber (the token sealed)."""
    slot = NumberAttribute(null=True)
    """Which of its account's plan slots it holds (InstanceSlotModel): the plan's limit holds under concurrency."""
    by_account = InstancesByAccount()
    by_shard = InstancesByShard()


class InstanceSlotModel(Model):
    """One of an account's (per mode) instance slots, taken in the transaction that creates the instance and freed
    with it, as webhook endpoints' are: concurrent creates never hold more instances than the plan allows. Lives in
    the instances table under a key no instance id has, with no `account_id` or `shard`, so no index lists it."""

    Meta = _meta("instances")
    instance_id = UnicodeAttribute(hash_key=True)
    """`slot#<account_id>#<live|test>#<n>`."""
    holder = UnicodeAttribute()


class CloudNumberModel(Model):
    """Which instance a Cloud API phone_number_id belongs to: webhooks name only the number."""

    Meta = _meta("cloud_numbers")
    phone_number_id = UnicodeAttribute(hash_key=True)
    instance_id = UnicodeAttribute()


class RequestModel(Model):
    """A shard holder's answer to a question the API asked it (contacts check, pairing code)."""

    Meta = _meta("requests")
    request_id = UnicodeAttribute(hash_key=True)
    answer = JSONAttribute()
    expires_at = NumberAttribute()


class IdentityModel(Model):
    """One side of a LID <-> phone mapping of an account's contacts: key "lid#<lid jid>" or "phone#<e164>"."""

    Meta = _meta("identities")
    account_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    phone = UnicodeAttribute()
    lid = UnicodeAttribute()
    learned_at = NumberAttribute()


class WalletModel(Model):
    """The balance item and the immutable ledger entries of one wallet share a partition."""

    Meta = _meta("wallets")
    wallet_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    balance = NumberAttribute(null=True)
    low_notified = BooleanAttribute(null=True)
    """Set when wallet.low_balance was emitted; cleared by a top-up, so one event per crossing."""
    amount = NumberAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    created_at = NumberAttribute(null=True)


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = NumberAttribute()


class MessageError(MapAttribute):
    code = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)


class OutboxIndex(GlobalSecondaryIndex["MessageModel"]):
    class Meta:
        index_name = "outbox"
        projection = AllProjection()

    outbox_bucket = UnicodeAttribute(hash_key=True)
    outbox_due = NumberAttribute(range_key=True)


class ByWhatsAppId(GlobalSecondaryIndex["MessageModel"]):
    class Meta:
        index_name = "by_wa_id"
        projection = KeysOnlyProjection()  # as the topology provisions it: items read from it hold only keys

    wa_message_id = UnicodeAttribute(hash_key=True)
    instance_id = UnicodeAttribute(range_key=True)


class ByChat(GlobalSecondaryIndex["MessageModel"]):
    """The inbox's threads (sparse): inbound messages, and sent ones once WhatsApp accepted them."""

    class Meta:
        index_name = "by_chat"
        projection = AllProjection()

    chat_key = UnicodeAttribute(hash_key=True)
    chat_sort = UnicodeAttribute(range_key=True)


class MessageModel(Model):
    Meta = _meta("messages")
    message_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    instance_id = UnicodeAttribute()
    livemode = BooleanAttribute()
    shard = NumberAttribute()
    price = NumberAttribute(default=0)
    """What the send cost, so a final failure refunds exactly that."""
    direction = UnicodeAttribute(default="outbound")
    type = UnicodeAttribute()
    content = JSONAttribute()
    to_jid = UnicodeAttribute()
    to_phone = UnicodeAttribute(null=True)
    client_reference = UnicodeAttribute(null=True)
    wa_message_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_rank = NumberAttribute()
    history = ListAttribute(of=StatusChange, default=list)
    error = MessageError(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # Present only while the message waits for a worker: the sweeper's sparse index.
    outbox_bucket = UnicodeAttribute(null=True)
    outbox_due = NumberAttribute(null=True)
    outbox_attempts = NumberAttribute(default=0)
    edited_at = NumberAttribute(null=True)
    deleted_at = NumberAttribute(null=True)
    pricing = JSONAttribute(null=True)
    """What Meta said it costs, from the first status report carrying it: {"category", "billable", "model"}."""
    participants = MapAttribute(null=True)  # type: ignore[var-annotated]
    """Group messages only (an empty map at the send): participant key (phone, else LID) -> {"s": status,
    "r": its rank, "at", "phone"?, "lid"?}, set per receipt without reading the item."""
    outbox = OutboxIndex()
    by_wa_id = ByWhatsAppId()
    # The inbox (docs/inbox.md). On inbound messages `to_jid` is the chat's JID, like `chat_jid`.
    chat_key = UnicodeAttribute(null=True)
    """"<instance_id>#<conversation jid>": present once the message is in a conversation's thread."""
    chat_sort = UnicodeAttribute(null=True)
    """"<time ms, 13 digits>#<message_id>": the thread's order."""
    chat_jid = UnicodeAttribute(null=True)
    """The chat JID WhatsApp used for the message (a phone JID or an `@lid`): where read receipts go."""
    from_me = BooleanAttribute(null=True)
    """Inbound only: an echo of what the phone itself sent (stored as direction "outbound")."""
    sender = JSONAttribute(null=True)
    """Inbound only: {"jid", "phone", "lid", "name"} of who sent it."""
    by_chat = ByChat()


class IdempotencyModel(Model):
    Meta = _meta("idempotency")
    idempotency_id = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    state = UnicodeAttribute()
    lock_token = UnicodeAttribute()
    locked_until = NumberAttribute()
    response_status = NumberAttribute(null=True)
    response_body = JSONAttribute(null=True)
    expires_at = NumberAttribute()


class UsageModel(Model):
    """Counters of one account and mode for one hour and one instance: `bucket` = "<hour>#<instance>"."""

    Meta = _meta("usage")
    counter_id = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)
    sends = NumberAttribute(default=0)
    otps = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    read = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    inbound = NumberAttribute(default=0)
    webhook_deliveries = NumberAttribute(default=0)
    # Delivered messages by Meta's pricing category (bzapper.domain.pricing), and the billable ones among them.
    priced_marketing = NumberAttribute(default=0)
    billable_marketing = NumberAttribute(default=0)
    priced_utility = NumberAttribute(default=0)
    billable_utility = NumberAttribute(default=0)
    priced_authentication = NumberAttribute(default=0)
    billable_authentication = NumberAttribute(default=0)
    priced_service = NumberAttribute(default=0)
    billable_service = NumberAttribute(default=0)
    priced_other = NumberAttribute(default=0)
    billable_other = NumberAttribute(default=0)


class RateLimitModel(Model):
    Meta = _meta("rate_limits")
    bucket_id = UnicodeAttribute(hash_key=True)
    tat = NumberAttribute()
    expires_at = NumberAttribute()


class CheckoutModel(Model):
    Meta = _meta("checkouts")
    checkout_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    mode = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    method = UnicodeAttribute()
    provider = UnicodeAttribute()
    provider_session_id = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


class EventModel(Model):
    """The event log, one partition per stream (`<account>:<live|test>`): per event an `id#<event id>` item
    (its claim: the event's number, moved only off a number a reader fenced) and a `log#<number>` item (the
    event, or a hole; written once); and per stream
    one `seq` item, the counter of numbers claimed (CounterModel). adapters/aws/eventlog.py has the rules."""

    Meta = _meta("events")
    stream_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    type = UnicodeAttribute(null=True)
    instance_id = UnicodeAttribute(null=True)
    payload = UnicodeAttribute(null=True)
    """The envelope as JSON text, exactly what the stream sends."""
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


class CounterModel(Model):
    """A stream's `seq` item in the events table: the last log number claimed (never expires)."""

    Meta = _meta("events")
    stream_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    last = NumberAttribute(null=True)


class WebhooksByAccount(GlobalSecondaryIndex["WebhookModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)


class WebhookSecretAttribute(MapAttribute):
    secret = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)
    """Set on the previous secret by a rotation: it keeps signing for 24 hours."""


class WebhookModel(Model):
    Meta = _meta("webhooks")
    webhook_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    livemode = BooleanAttribute()
    url = UnicodeAttribute()
    events = UnicodeSetAttribute(null=True)
    """Subscribed event types; absent means every event."""
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    secrets = ListAttribute(of=WebhookSecretAttribute)
    failing_since = NumberAttribute(null=True)
    instance_ids = UnicodeSetAttribute(null=True)
    """The numbers whose events it carries (made by a restricted key); absent means every number."""
    slot = NumberAttribute(null=True)
    """Which of its account's plan slots it holds (WebhookSlotModel): the plan's limit holds under concurrency."""
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    by_account = WebhooksByAccount()


class WebhookSlotModel(Model):
    """One of an account's (per mode) webhook slots, taken in the same transaction that creates the endpoint and
    freed with it: two concurrent creates can never hold the same slot, so no more endpoints exist than slots
    under the plan's limit. Lives in the webhooks table under a key no webhook id can have, with no `account_id`,
    so the by_account index never lists it."""

    Meta = _meta("webhooks")
    webhook_id = UnicodeAttribute(hash_key=True)
    """`slot#<account_id>#<live|test>#<n>`."""
    holder = UnicodeAttribute()


class DeliveryAttemptAttribute(MapAttribute):
    at = NumberAttribute()
    status_code = NumberAttribute(null=True)
    latency_ms = NumberAttribute()
    error = UnicodeAttribute(null=True)


class DeliveryModel(Model):
    Meta = _meta("deliveries")
    webhook_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = UnicodeAttribute()
    """The exact bytes sent (and signed), so a retry or a replay sends the same body."""
    status = UnicodeAttribute()
    attempts = ListAttribute(of=DeliveryAttemptAttribute, default=list)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class LeaseModel(Model):
    """One item per shard ("shard-<n>": holder, fencing token, expiry). Times in epoch milliseconds. A shard
    item is never deleted, so its token only ever grows. The workers' heartbeats live in one more item,
    "workers", one attribute per worker (written by `adapters/aws/leases.py` directly, not through this
    model); "worker#<owner>" items of earlier versions are left to their TTL (`purge_at`)."""

    Meta = _meta("leases")
    shard_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    expires_at = NumberAttribute()
    token = NumberAttribute(null=True)
    acquired_at = NumberAttribute(null=True)
    duration_ms = NumberAttribute(null=True)
    """What the holder asked for when acquiring: each renewal extends the lease by as much."""
    purge_at = NumberAttribute(null=True)
    """TTL (epoch seconds), on worker items only: a dead worker's heartbeat is eventually deleted."""


class ConversationsByActivity(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "by_activity"
        projection = AllProjection()

    instance_id = UnicodeAttribute(hash_key=True)
    last_activity = NumberAttribute(range_key=True)


class ConversationModel(Model):
    """One per (instance, contact): the inbox's list row (docs/inbox.md)."""

    Meta = _meta("conversations")
    instance_id = UnicodeAttribute(hash_key=True)
    contact_jid = UnicodeAttribute(range_key=True)
    """The contact's phone JID when its phone is known, else its `@lid` (docs/inbox.md)."""
    account_id = UnicodeAttribute()
    livemode = BooleanAttribute()
    phone = UnicodeAttribute(null=True)
    lid = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    """The contact's WhatsApp push name, as its last message carried it."""
    last_activity = NumberAttribute(null=True)
    last_sort = UnicodeAttribute(null=True)
    """The newest message's `chat_sort`: a message sorting after it becomes the preview."""
    last_message = JSONAttribute(null=True)
    """{"message_id", "direction", "type", "text", "at"}: the preview of the newest message."""
    unread_count = NumberAttribute(default=0)
    read_through = UnicodeAttribute(null=True)
    """The `chat_sort` up to which the conversation was marked read: inbound messages at or before it are read."""
    created_at = NumberAttribute(null=True)
    last_inbound_at = NumberAttribute(null=True)
    """When the contact last wrote: Meta's customer service window (bzapper.domain.service_window)."""
    by_activity = ConversationsByActivity()


class TemplateModel(Model):
    """A number's message templates as last read from its WhatsApp Business Account: one item per (name,
    language), and one `#synced` item holding when (docs/templates.md)."""

    Meta = _meta("templates")
    instance_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    """`<name>#<language>`, or `#synced`."""
    name = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    components = JSONAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    synced_at = NumberAttribute(null=True)
