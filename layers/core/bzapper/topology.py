"""The one description of the system's resources, read by both the CDK app and the local runtime.

Plain data only (no boto3, no CDK): `infra/` turns it into CloudFormation, `bzapper_dev.local` turns it
into moto resources and pollers. A test fails if either side serves something that is not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_GROUP = "platform"
"""Receives every request no route matches (API Gateway's `$default` route), to answer 404/405."""

WEBHOOK_RECEIVES = 25
"""Receives of one delivery job before SQS moves it to the DLQ: the 15 scheduled attempts plus room for
redeliveries after a crash or a timeout, which must not eat into a healthy endpoint's attempts."""

SHARD_COUNT = 4

HELD_RECEIVES = 1000
"""Receives of a send job before it dies: a job held because its number is down is received again every
HELD_VISIBILITY_SECONDS, so a number may stay down for hours before its queued sends fail."""

HELD_VISIBILITY_SECONDS = 30

JOB_VISIBILITY_SECONDS = 10
"""The shard and priority queues' visibility timeout: how long a dead worker's jobs (and the number, the FIFO
group, each of them blocks) wait before they come back. A live worker keeps its jobs in hand invisible however
long they take by extending them before it runs out (bzapper.worker.visibility's heartbeat), so a short timeout
costs a live worker one ChangeMessageVisibilityBatch every few seconds per batch still in hand, nothing more."""

CLOUD_SHARD = -1
"""The shard of every `cloud` instance: none. No worker holds a Cloud API number (Graph is plain HTTP), so no worker's
shard query finds one, and its jobs go to the CLOUD_QUEUE instead of a shard queue."""

CLOUD_QUEUE = "cloud-sends"
"""Sends of `cloud` numbers, consumed by the `cloud_send` function. FIFO, grouped per (number, recipient): a
conversation stays in order, and a recipient Meta holds back (pair rate) delays no other conversation."""

CLOUD_VISIBILITY_SECONDS = 60
"""A cloud send's job stays hidden this long while its function sends it (30 s: consumer_timeout, half of this);
a job Meta refused for its rate limits is hidden for its backoff instead (ChangeMessageVisibility)."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    group: str
    auth: bool = True
    scope: str | None = None
    """What a restricted API key needs to call it (bzapper.domain.keys.SCOPES); None only on routes without auth
    and on session-only ones (a test checks every other route names one)."""
    session_only: bool = False
    """Only a signed-in console user (a session token) may call it: an API key gets 403, so a leaked key can
    never mint another."""
    streaming: bool = False
    """A long-lived streamed response (SSE). API Gateway buffers responses, so on AWS the route's group is
    also served through a Lambda Function URL in RESPONSE_STREAM mode (infra/components/streaming.py);
    locally nothing changes, uvicorn streams every response."""


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    hash_type: str = "S"
    range_type: str = "S"
    projection: str = "ALL"
    """"ALL", "KEYS_ONLY" or "INCLUDE" (with `include`). With ALL every write that changes the item rewrites its
    index copy (a GSI write unit per KB); with KEYS_ONLY only a change of the index's keys does, and a reader
    needing more than the keys must read the table item."""
    include: tuple[str, ...] = ()
    """The non-key attributes an INCLUDE projection copies into the index."""


@dataclass(frozen=True)
class Table:
    name: str
    hash_key: str
    range_key: str | None = None
    ttl_attribute: str | None = None
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True)
class Queue:
    name: str
    fifo: bool = False
    visibility_timeout: int = 30
    max_receive_count: int = 5
    """Receives before a message moves to the queue's dead-letter queue."""

    @property
    def physical_suffix(self) -> str:
        return ".fifo" if self.fifo else ""

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Consumer:
    """A queue-driven function: Lambda event source mapping on AWS, a poller locally."""

    group: str
    queue: str
    batch_size: int = 10
    dead_letter: bool = False
    """Consume the queue's dead-letter queue instead of the queue itself."""


@dataclass(frozen=True)
class Schedule:
    """A function run on a timer: EventBridge Scheduler on AWS, a loop locally (moto never fires rate())."""

    group: str
    every_seconds: int


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule on the bus, delivering every bzapper event to a queue.

    On AWS the rule has a retry policy and a dead-letter queue on that hop; locally moto delivers it.
    """

    name: str
    queue: str
    source: str = "bzapper"


@dataclass(frozen=True)
class Trigger:
    """A function the identity service calls (a Cognito Lambda trigger): on AWS only; locally moto never invokes
    triggers, and the local identity adapter calls the same rules (bzapper.domain.emails) itself."""

    group: str
    event: str
    """The user pool's trigger: `custom_message` writes the codes' emails in the user's language."""


@dataclass(frozen=True)
class Topology:
    routes: tuple[Route, ...]
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    consumers: tuple[Consumer, ...]
    schedules: tuple[Schedule, ...]
    buckets: tuple[str, ...] = ()
    bus: str = "events"
    rules: tuple[Rule, ...] = field(default=())
    triggers: tuple[Trigger, ...] = field(default=())

    @property
    def api_groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(route.group for route in self.routes))

    @property
    def streaming_groups(self) -> tuple[str, ...]:
        """API groups with a streaming route: each is one function behind a response-streaming URL on AWS."""
        return tuple(dict.fromkeys(route.group for route in self.routes if route.streaming))

    def queue(self, name: str) -> Queue:
        """A queue by name; `<queue>-dlq` names that queue's dead-letter queue."""
        for queue in self.queues:
            if queue.name == name:
                return queue
        if name.endswith("-dlq"):
            base = self.queue(name.removesuffix("-dlq"))
            return Queue(base.dlq_name, fifo=base.fifo)
        raise KeyError(name)


def shard_queue_name(shard: int) -> str:
    return f"shard-{shard}"


def priority_queue_name(shard: int) -> str:
    """The shard's priority lane (OTP): same instances, read ahead of the shard queue."""
    return f"priority-{shard}"


def control_queue_name(shard: int) -> str:
    """Lifecycle commands and questions (QR, pairing code, logout, contacts check) for the shard's holder."""
    return f"control-{shard}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "platform", auth=False),
    Route("GET", "/docs", "platform", auth=False),  # the rendered API reference
    Route("POST", "/messages/text", "messages", scope="messages:write"),
    Route("GET", "/messages/{message_id}", "messages", scope="messages:read"),
    *(
        Route("POST", f"/messages/{kind}", "messages", scope="messages:write")
        for kind in (
            "image",
            "video",
            "document",
            "audio",
            "sticker",
            "location",
            "contact",
            "poll",
            "reaction",
            "buttons",
            "list",
            "otp",  # a verification code: two messages, one send, never stored (docs/otp.md)
        )
    ),
    Route("POST", "/messages/template", "messages", scope="messages:write"),  # Cloud API numbers (docs/templates.md)
    Route("GET", "/templates", "messages", scope="templates:read"),
    # Status posts (docs/status.md): messages of type "status" to status@broadcast, on the same send path.
    *(Route("POST", f"/status/{kind}", "messages", scope="messages:write") for kind in ("text", "image", "video")),
    Route("PATCH", "/messages/{message_id}", "messages", scope="messages:write"),  # edit (a message of type "edit")
    Route(
        "DELETE", "/messages/{message_id}", "messages", scope="messages:write"
    ),  # delete for everyone (type "revoke")
    Route("POST", "/media", "media", scope="media:write"),  # multipart upload, up to 4 MiB
    Route(
        "POST", "/media/uploads", "media", scope="media:write"
    ),  # a pre-signed upload straight to S3, for larger files
    Route("POST", "/media/uploads/{media_id}/complete", "media", scope="media:write"),
    Route("GET", "/media/{media_id}", "media", scope="media:read"),  # 302 to a fresh pre-signed URL
    Route("GET", "/sandbox/contacts/{phone}/messages", "sandbox", scope="sandbox"),
    Route("GET", "/me", "account", scope="account:read"),
    Route("PATCH", "/me", "account", scope="account:write"),
    Route("GET", "/me/entitlements", "account", scope="billing:read"),
    Route("GET", "/usage", "account", scope="billing:read"),
    Route("GET", "/billing/wallet", "billing", scope="billing:read"),
    Route("POST", "/billing/checkout", "billing", scope="billing:write"),
    # The payment provider's webhook and the sandbox provider's checkout page: no API key.
    Route("POST", "/billing/webhooks/stripe", "payments", auth=False),
    Route("GET", "/sandbox/checkout/{checkout_id}", "payments", auth=False),
    Route("POST", "/sandbox/checkout/{checkout_id}/complete", "payments", auth=False),
    Route("POST", "/sandbox/checkout/{checkout_id}/fail", "payments", auth=False),
    Route("POST", "/instances", "instances", scope="instances:write"),
    Route("GET", "/instances", "instances", scope="instances:read"),
    Route("GET", "/instances/{instance_id}", "instances", scope="instances:read"),
    Route("PATCH", "/instances/{instance_id}", "instances", scope="instances:write"),
    Route("DELETE", "/instances/{instance_id}", "instances", scope="instances:write"),
    Route("GET", "/instances/{instance_id}/qr", "instances", scope="instances:read"),
    Route("POST", "/instances/{instance_id}/pairing-code", "instances", scope="instances:write"),
    Route("POST", "/instances/{instance_id}/logout", "instances", scope="instances:write"),
    Route("POST", "/instances/{instance_id}/restart", "instances", scope="instances:write"),
    Route("POST", "/contacts/checkIsOnWhatsApp", "instances", scope="instances:read"),
    # Groups (docs/groups.md): questions to the number's worker, like the contacts check.
    Route("GET", "/groups", "groups", scope="groups:read"),
    Route("POST", "/groups", "groups", scope="groups:write"),
    Route("POST", "/groups/join", "groups", scope="groups:write"),
    Route("GET", "/groups/{jid}", "groups", scope="groups:read"),
    Route("PATCH", "/groups/{jid}", "groups", scope="groups:write"),
    Route("POST", "/groups/{jid}/participants", "groups", scope="groups:write"),
    Route("GET", "/groups/{jid}/invite-link", "groups", scope="groups:read"),
    Route("POST", "/groups/{jid}/invite-link/revoke", "groups", scope="groups:write"),
    Route("POST", "/groups/{jid}/leave", "groups", scope="groups:write"),
    # Presence and blocking (docs/presence.md): questions to the number's worker. GET /contacts/blocked comes
    # before any GET /contacts/{jid} (first match wins, as on API Gateway).
    Route("POST", "/chats/{jid}/presence", "contacts", scope="messages:write"),
    Route("POST", "/instances/{instance_id}/presence", "contacts", scope="messages:write"),
    Route("GET", "/contacts/blocked", "contacts", scope="contacts:read"),
    Route("POST", "/contacts/{jid}/block", "contacts", scope="contacts:write"),
    Route("POST", "/contacts/{jid}/unblock", "contacts", scope="contacts:write"),
    Route("GET", "/stream", "stream", streaming=True, scope="events:read"),
    Route("POST", "/webhooks", "webhooks", scope="webhooks:write"),
    Route("GET", "/webhooks", "webhooks", scope="webhooks:read"),
    Route("GET", "/webhooks/{webhook_id}", "webhooks", scope="webhooks:read"),
    Route("PATCH", "/webhooks/{webhook_id}", "webhooks", scope="webhooks:write"),
    Route("DELETE", "/webhooks/{webhook_id}", "webhooks", scope="webhooks:write"),
    Route("POST", "/webhooks/{webhook_id}/rotate-secret", "webhooks", scope="webhooks:write"),
    Route("POST", "/webhooks/{webhook_id}/test", "webhooks", scope="webhooks:write"),
    Route("GET", "/webhooks/{webhook_id}/deliveries", "webhooks", scope="webhooks:read"),
    Route("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", "webhooks", scope="webhooks:write"),
    Route("GET", "/conversations", "inbox", scope="inbox:read"),
    Route("GET", "/conversations/{jid}/messages", "inbox", scope="inbox:read"),
    Route("POST", "/conversations/{jid}/read", "inbox", scope="inbox:write"),
    # Console users (no key: the identity service's tokens come from here) and their API keys (sessions only).
    *(
        Route("POST", f"/auth/{action}", "auth", auth=False)
        for action in ("signup", "confirm", "login", "refresh", "logout", "password/forgot", "password/reset")
    ),
    Route("POST", "/keys", "keys", session_only=True),
    Route("GET", "/keys", "keys", session_only=True),
    Route("GET", "/keys/{key_id}", "keys", session_only=True),
    Route("POST", "/keys/{key_id}/roll", "keys", session_only=True),
    Route("DELETE", "/keys/{key_id}", "keys", session_only=True),
    # The other side of the sandbox network (test keys only): a phone scanning a QR, a contact writing.
    Route("POST", "/sandbox/instances/{instance_id}/scan", "sandbox", scope="sandbox"),
    Route("POST", "/sandbox/instances/{instance_id}/history/redeliver", "sandbox", scope="sandbox"),
    Route("POST", "/sandbox/instances/{instance_id}/inbound", "sandbox", scope="sandbox"),
    # Meta's webhooks of Cloud API numbers: no key, the X-Hub-Signature-256 of the body is the authentication.
    Route("GET", "/cloud/webhook", "cloud", auth=False),
    Route("POST", "/cloud/webhook", "cloud", auth=False),
    Route("POST", "/sandbox/instances/{instance_id}/call", "sandbox", scope="sandbox"),
    Route("POST", "/sandbox/contacts/{phone}/join", "sandbox", scope="sandbox"),  # a contact joins a group by link
    Route("GET", "/sandbox/contacts/{phone}/presence", "sandbox", scope="sandbox"),  # what a contact saw
    Route("POST", "/sandbox/instances/{instance_id}/presence", "sandbox", scope="sandbox"),  # a contact's presence
    # Profiles (docs/profiles.md): the number's own, a simulated contact's (test keys), and a contact's as a number
    # sees it. Kept last: GET /contacts/blocked (blocking) must come before GET /contacts/{jid} (first match wins).
    Route("GET", "/instances/{instance_id}/profile", "instances", scope="instances:read"),
    Route("PATCH", "/instances/{instance_id}/profile", "instances", scope="instances:write"),
    Route("GET", "/sandbox/contacts/{phone}/profile", "sandbox", scope="sandbox"),
    Route("PATCH", "/sandbox/contacts/{phone}/profile", "sandbox", scope="sandbox"),
    Route("GET", "/contacts/{jid}", "contacts", scope="contacts:read"),
)

TABLES: tuple[Table, ...] = (
    Table("accounts", hash_key="account_id"),
    Table("api_keys", hash_key="key_hash"),
    Table("keys", hash_key="key_id", indexes=(Index("by_account", "account_id", "key_id"),)),
    Table("users", hash_key="user_id"),
    Table("revocations", hash_key="token", ttl_attribute="expires_at"),
    Table(
        "instances",
        hash_key="instance_id",
        indexes=(
            Index("by_account", "account_id", "instance_id"),
            # What a worker opens when it takes a shard over.
            Index("by_shard", "shard", "instance_id", hash_type="N"),
        ),
    ),
    # Answers of the shard holders to the API's questions (contacts check, pairing code), kept briefly.
    Table("requests", hash_key="request_id", ttl_attribute="expires_at"),
    # LID <-> phone mappings per account, learned from any source: "lid#<lid>" and "phone#<e164>" items.
    Table("identities", hash_key="account_id", range_key="key"),
    Table("wallets", hash_key="wallet_id", range_key="entry"),
    Table(
        "messages",
        hash_key="message_id",
        # Sparse index of messages not yet picked up by a worker: the outbox sweeper's work list.
        indexes=(
            Index("outbox", "outbox_bucket", "outbox_due", range_type="N"),
            # Receipts carry only WhatsApp's id: this finds our message's id from it. Keys only: with ALL, every
            # status update rewrote the index copy (a GSI write unit each, 5 per message life).
            Index("by_wa_id", "wa_message_id", "instance_id", projection="KEYS_ONLY"),
            # The inbox's threads (sparse): "<instance>#<conversation jid>", "<time ms>#<message_id>".
            Index("by_chat", "chat_key", "chat_sort"),
        ),
    ),
    Table("idempotency", hash_key="idempotency_id", ttl_attribute="expires_at"),
    # Hourly counters per account, mode and instance: GET /usage sums them.
    Table("usage", hash_key="counter_id", range_key="bucket"),
    # One GCRA token bucket per key: a single number, updated conditionally.
    Table("rate_limits", hash_key="bucket_id", ttl_attribute="expires_at"),
    Table("checkouts", hash_key="checkout_id"),
    # The event log: "id#<event id>" dedupes, "log#<number>" orders what GET /stream replays, and one "seq" item
    # per stream is the counter its numbers are claimed from (docs/webhooks.md, "The log's order").
    Table("events", hash_key="stream_id", range_key="entry", ttl_attribute="expires_at"),
    Table("webhooks", hash_key="webhook_id", indexes=(Index("by_account", "account_id", "webhook_id"),)),
    Table("deliveries", hash_key="webhook_id", range_key="delivery_id"),
    # The inbox's list: one item per (instance, contact), newest activity first through by_activity.
    Table(
        "conversations",
        hash_key="instance_id",
        range_key="contact_jid",
        indexes=(Index("by_activity", "instance_id", "last_activity", range_type="N"),),
    ),
    # Each number's message templates (Cloud API), as last read from its WhatsApp Business Account: "<name>#<lang>"
    # items and one "#synced" item (docs/templates.md).
    Table("templates", hash_key="instance_id", range_key="key"),
    # Which instance a Cloud API number (Meta's phone_number_id) belongs to: one instance per number.
    Table("cloud_numbers", hash_key="phone_number_id"),
    # Session workers' shard leases ("shard-<n>", fencing tokens) and their heartbeats (the "workers" item).
    Table("leases", hash_key="shard_id", ttl_attribute="purge_at"),
)

QUEUES: tuple[Queue, ...] = (
    # A held send (number disconnected or restricted) comes back many times before it may fail for good.
    *(
        Queue(
            shard_queue_name(shard),
            fifo=True,
            visibility_timeout=JOB_VISIBILITY_SECONDS,
            max_receive_count=HELD_RECEIVES,
        )
        for shard in range(SHARD_COUNT)
    ),
    *(
        Queue(
            priority_queue_name(shard),
            fifo=True,
            visibility_timeout=JOB_VISIBILITY_SECONDS,
            max_receive_count=HELD_RECEIVES,
        )
        for shard in range(SHARD_COUNT)
    ),
    *(Queue(control_queue_name(shard), visibility_timeout=30, max_receive_count=5) for shard in range(SHARD_COUNT)),
    Queue(CLOUD_QUEUE, fifo=True, visibility_timeout=CLOUD_VISIBILITY_SECONDS, max_receive_count=HELD_RECEIVES),
    # Status reports from the workers, ordered per message (MessageGroupId = message_id).
    Queue("status-updates", fifo=True, visibility_timeout=30),
    Queue("event-log", visibility_timeout=30),
    Queue("webhook-fanout", visibility_timeout=30),
    # One message per (endpoint, event); retries are ChangeMessageVisibility, so the schedule lives in SQS.
    Queue("webhook-deliveries", visibility_timeout=60, max_receive_count=WEBHOOK_RECEIVES),
)

TOPOLOGY = Topology(
    routes=ROUTES,
    tables=TABLES,
    queues=QUEUES,
    consumers=(
        Consumer("statuses", "status-updates"),
        # A job that no worker could send after every retry fails for good (and is refunded), never
        # sits in `sending` forever.
        *(Consumer("dead_jobs", shard_queue_name(shard), dead_letter=True) for shard in range(SHARD_COUNT)),
        *(Consumer("dead_jobs", priority_queue_name(shard), dead_letter=True) for shard in range(SHARD_COUNT)),
        Consumer("cloud_send", CLOUD_QUEUE),
        Consumer("dead_jobs", CLOUD_QUEUE, dead_letter=True),
        Consumer("event_log", "event-log"),
        Consumer("webhook_fanout", "webhook-fanout"),
        # Two deliveries of at most 10 s each stay well inside the dispatcher's time limit.
        Consumer("webhook_dispatch", "webhook-deliveries", batch_size=2),
    ),
    rules=(Rule("to-event-log", "event-log"), Rule("to-webhooks", "webhook-fanout")),
    schedules=(Schedule("outbox", every_seconds=60),),
    buckets=("media",),
    triggers=(Trigger("cognito_messages", "custom_message"),),
)


def physical_name(stage: str, logical: str) -> str:
    """Every resource name carries the stage, so several stacks can share an account."""
    return f"bzapper-{stage}-{logical}"


def route_pattern(template: str) -> re.Pattern[str]:
    """`/messages/{message_id}` → a regex matching one path segment per parameter."""
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


_COMPILED = tuple((route, route_pattern(route.path)) for route in ROUTES)


def match_route(method: str, path: str) -> tuple[Route | None, list[str]]:
    """The route for (method, path), else None with the methods the path does accept (for a 405)."""
    method = "GET" if method == "HEAD" else method  # HEAD is answered as the GET it mirrors
    allowed = []
    for route, pattern in _COMPILED:
        if pattern.match(path):
            if route.method == method:
                return route, []
            allowed.append(route.method)
    return None, allowed
