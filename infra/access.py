"""Who may touch what: the explicit, least-privilege access of every function group and of the session worker.

Read from the code paths each group runs (`bzapper.services`, `bzapper.adapters.aws`), one entry per
group of the topology, and nothing else: no `dynamodb:*`, no table an entry does not name, no index
it does not query. The CDK app turns each entry into IAM statements on that group's own role, and a
test fails when a topology group has no entry here, or an entry names a table, index or queue the
topology lacks. Adding a route group, a consumer or a schedule therefore means adding its line here.

A queue consumer's receive/delete permissions on its own queue come from its event source mapping
(`topology.Consumer`), so they are not repeated below. DynamoDB transactions need the per-item
action of each write they carry (`TransactWriteItems` is not an IAM action).
"""

from __future__ import annotations

from dataclasses import dataclass

from bzapper.topology import (
    CLOUD_QUEUE,
    SHARD_COUNT,
    Topology,
    control_queue_name,
    priority_queue_name,
    shard_queue_name,
)

WORKER = "worker"
"""The Fargate session worker's task role: not a function group, but granted the same way."""


@dataclass(frozen=True)
class TableAccess:
    table: str
    actions: tuple[str, ...]
    """DynamoDB actions on the table itself, without the `dynamodb:` prefix."""
    query_indexes: tuple[str, ...] = ()
    """Global secondary indexes this group queries (`dynamodb:Query` on that index's ARN only)."""


@dataclass(frozen=True)
class Access:
    why: str
    tables: tuple[TableAccess, ...] = ()
    send: tuple[str, ...] = ()
    """Queues it sends to (`sqs:SendMessage`)."""
    consume: tuple[str, ...] = ()
    """Queues it polls itself (receive, delete, change visibility): the worker, not Lambda consumers."""
    publish_events: bool = False
    """`events:PutEvents` on the stage's bus."""
    buckets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(bucket, S3 object actions without the `s3:` prefix) on that bucket's objects."""
    secrets: tuple[str, ...] = ()
    """Environment variables filled from the stage's Stripe secret, when one is configured."""
    user_pool: tuple[str, ...] = ()
    """Cognito actions on the stage's user pool (the admin ones; the public sign-up/sign-in API needs none)."""
    send_email: bool = False
    """`ses:SendEmail` from the stage's verified sender (our own emails)."""
    otp_key: str | None = None
    """The OTP sealing key (KMS): `seal` (kms:GenerateDataKey) or `unseal` (kms:Decrypt), each only for the
    OTP encryption context (bzapper.adapters.sealing.PURPOSE); its ARN is given as BZ_OTP_KMS_KEY."""


SHARDS = tuple(shard_queue_name(shard) for shard in range(SHARD_COUNT))
PRIORITY_SHARDS = tuple(priority_queue_name(shard) for shard in range(SHARD_COUNT))
CONTROLS = tuple(control_queue_name(shard) for shard in range(SHARD_COUNT))

GET, PUT, UPDATE, DELETE, QUERY, SCAN, CHECK = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "ConditionCheckItem",
)

# Every authenticated request: an API key (its secret's hash, then its managed key: scopes, numbers, a use
# recorded once a minute) or a session token (the user's account, its session not signed out), then the account
# (locale, plan, suspension), all cached for seconds.
_AUTH = (
    TableAccess("api_keys", (GET,)),
    TableAccess("keys", (GET, UPDATE)),
    TableAccess("users", (GET,)),
    TableAccess("revocations", (GET,)),
    TableAccess("accounts", (GET,)),
)
# A ledger entry and the balance it moves, always in one transaction (debit, refund, top-up).
_WALLET_WRITE = TableAccess("wallets", (GET, PUT, UPDATE))

MEDIA_WRITE = ("GetObject", "PutObject", "AbortMultipartUpload")
"""Read (and head) media objects and store new ones (large files in parts, aborted on failure)."""

OTP_KEY_ACTIONS = {"seal": ("kms:GenerateDataKey",), "unseal": ("kms:Decrypt",)}
"""What each use of the OTP key may ask KMS: the API seals a code, only the session worker opens one."""

STRIPE_SECRET_FIELDS = {"BZ_STRIPE_SECRET_KEY": "secret_key", "BZ_STRIPE_WEBHOOK_SECRET": "webhook_secret"}
"""Environment variable → field of the stage's Stripe secret in Secrets Manager (docs/deploy.md)."""

CLOUD_SECRET_FIELDS = {"BZ_CLOUD_APP_SECRET": "app_secret", "BZ_CLOUD_VERIFY_TOKEN": "verify_token"}
"""Environment variable → field of the stage's Meta app secret in Secrets Manager (docs/engines.md): the app
secret that signs Cloud API webhooks, and the verify token of Meta's subscription check."""

ACCESS: dict[str, Access] = {
    "platform": Access(why="GET /health and the 404/405 fallback (`$default` route): touches no data."),
    "media": Access(
        why=(
            "POST /media (store the file under the account's prefix), pre-signed uploads (sign a POST to the "
            "upload area; on completion read the upload once, copy it to its final key, delete it), "
            "GET /media/{id} (read the object's metadata, sign a GET). Authentication only in DynamoDB."
        ),
        tables=_AUTH,
        buckets=(("media", (*MEDIA_WRITE, "DeleteObject")),),
    ),
    "messages": Access(
        why=(
            "POST /messages/text: the account's send rate (GCRA bucket), the idempotency lock, one "
            "transaction (message put, wallet debit and ledger entry, usage counter, instance condition "
            "check, idempotency completion), one send to the instance's shard. GET /messages/{id}: one read. "
            "Every other type the same way; media sends read an uploaded file's metadata and first bytes, or "
            "store the file fetched from a URL, under the account's prefix; a quoted or reacted-to message "
            "is found by id or by WhatsApp id. Edits and deletions are messages on the same path. "
            "POST /messages/otp seals its code with a KMS data key and sends to the priority lane; an OTP "
            "whose job could not be queued fails at once (status update with its refund, one event). "
            "Cloud API numbers (docs/templates.md): a free-form send reads the contact's conversation rows "
            "(the customer service window; its LID or phone from identities when missing); GET /templates and "
            "a template send read the number's templates, and rewrite them when stale."
        ),
        tables=(
            *_AUTH,
            TableAccess("instances", (GET, CHECK)),
            TableAccess("rate_limits", (GET, UPDATE)),
            TableAccess("idempotency", (GET, PUT, UPDATE, DELETE)),
            TableAccess("messages", (GET, PUT, UPDATE), query_indexes=("by_wa_id",)),
            TableAccess("wallets", (PUT, UPDATE)),
            TableAccess("usage", (UPDATE,)),
            TableAccess("conversations", ("BatchGetItem",)),
            TableAccess("identities", (GET,)),
            TableAccess("templates", (GET, QUERY, PUT, DELETE, "BatchWriteItem")),
        ),
        send=(*SHARDS, *PRIORITY_SHARDS),
        publish_events=True,
        buckets=(("media", MEDIA_WRITE),),
        otp_key="seal",
    ),
    "instances": Access(
        why=(
            "The instances API: create (count per account, put), read, list by account, mark logged out, "
            "delete; commands and questions to the shard holder on its control queue, the answer read back "
            "from requests; the contacts check stores LID <-> phone mappings (one event the first time). "
            "A Cloud API number: its token sealed (KMS data key), its phone_number_id claimed (conditional put, "
            "the holder read), freed on delete. "
            "PATCH /instances/{id} {settings}: a proxy's password is sealed with a KMS data key (docs/settings.md). "
            "PATCH /instances/{id}/profile: the new picture's media is read (HEAD: its type and size) before the "
            "question to the holder (docs/profiles.md)."
        ),
        tables=(
            *_AUTH,
            TableAccess("instances", (GET, PUT, UPDATE, DELETE), query_indexes=("by_account",)),
            TableAccess("requests", (GET,)),
            TableAccess("identities", (GET, PUT)),
            TableAccess("cloud_numbers", (GET, PUT, DELETE)),
        ),
        send=CONTROLS,
        publish_events=True,
        buckets=(("media", ("GetObject",)),),
        otp_key="seal",
    ),
    "contacts": Access(
        why=(
            "Presence, blocking and a contact's profile (docs/presence.md, docs/profiles.md): the caller's "
            "instance read (it must be connected), then a question to the shard holder on its control queue, the "
            "answer read back from requests (the holder stores a profile picture in the media bucket)."
        ),
        tables=(*_AUTH, TableAccess("instances", (GET,)), TableAccess("requests", (GET,))),
        send=CONTROLS,
    ),
    "cloud": Access(
        why=(
            "Meta's webhooks (POST /cloud/webhook): after the signature, the number's instance (the "
            "phone_number_id lookup, then the instance) and its reports queued to status-updates. GET answers "
            "Meta's verification with the configured verify token."
        ),
        tables=(TableAccess("cloud_numbers", (GET,)), TableAccess("instances", (GET,))),
        send=("status-updates",),
        secrets=("BZ_CLOUD_APP_SECRET", "BZ_CLOUD_VERIFY_TOKEN"),
    ),
    "cloud_send": Access(
        why=(
            "Consumer of cloud-sends: a job's message read (skipped when Meta's id is recorded), the account "
            "(suspension) and the instance read, its token opened (KMS decrypt), the media read from the bucket, "
            "then the send through Graph (HTTPS, no AWS) and Meta's id recorded; `sending` and failures applied "
            "as any status (transaction with the usage counter and the refund, one event); a Graph-refused token "
            "stores the instance's state. Backoff by ChangeMessageVisibility on its own queue (event source)."
        ),
        tables=(
            TableAccess("messages", (GET, UPDATE)),
            TableAccess("accounts", (GET,)),
            TableAccess("usage", (UPDATE,)),
            _WALLET_WRITE,
            TableAccess("conversations", (UPDATE,)),
            TableAccess("identities", (GET,)),
            TableAccess("instances", (GET, UPDATE)),
        ),
        publish_events=True,
        consume=(CLOUD_QUEUE,),  # ChangeMessageVisibility of its own jobs (the backoff), and its queue's URL
        buckets=(("media", ("GetObject",)),),
        otp_key="unseal",
    ),
    "groups": Access(
        why=(
            "The Groups API: the caller's instance read (it must be connected), then a question to the shard "
            "holder on its control queue, the answer read back from requests."
        ),
        tables=(*_AUTH, TableAccess("instances", (GET,)), TableAccess("requests", (GET,))),
        send=CONTROLS,
    ),
    "sandbox": Access(
        why=(
            "Test-mode windows into the sandbox network (over HTTP): authentication, and reading an "
            "instance to check that the caller owns it before scanning its QR or writing to it."
        ),
        tables=(*_AUTH, TableAccess("instances", (GET,))),
    ),
    "account": Access(
        why=(
            "GET/PATCH /me (the account's locale), GET /me/entitlements (plan, sends this minute, "
            "instances per account), GET /usage (hourly counters)."
        ),
        tables=(
            *_AUTH[:-1],
            TableAccess("accounts", (GET, UPDATE)),
            TableAccess("rate_limits", (GET,)),
            TableAccess("instances", (), query_indexes=("by_account",)),
            TableAccess("usage", (QUERY,)),
        ),
    ),
    "auth": Access(
        why=(
            "Console users on the user pool (sign-up, confirmation, sign-in, refresh, sign-out, password reset: "
            "Cognito's public API, AdminGetUser to read a user's status and attributes, AdminDeleteUser to "
            "replace an unconfirmed user by a newer sign-up of its email, AdminUserGlobalSignOut to end every "
            "session of a user who reset their password: docs/accounts.md). A confirmation opens "
            "the account: the account and its owner, free test credits (a ledger entry once), a connected sandbox "
            "number (count, put, a command to its shard). Failed sign-ins and sent emails are rate limited per "
            "email; a signed-out session, and the moment a reset ended a user's sessions, are remembered; the "
            "already-registered notice is sent by SES."
        ),
        tables=(
            TableAccess("accounts", (GET, PUT)),
            TableAccess("users", (GET, PUT)),
            TableAccess("revocations", (GET, PUT)),
            TableAccess("rate_limits", (GET, UPDATE)),
            _WALLET_WRITE,
            TableAccess("instances", (PUT,), query_indexes=("by_account",)),
        ),
        send=CONTROLS,
        user_pool=("cognito-idp:AdminDeleteUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminUserGlobalSignOut"),
        send_email=True,
    ),
    "keys": Access(
        why=(
            "API keys, for a signed-in owner only: create (the key and its secret in one transaction), list by "
            "account, read, roll (a new secret; the old one expires later), revoke (the key and its secrets). "
            "A key limited to numbers has each number checked as the account's."
        ),
        tables=(
            *_AUTH,
            TableAccess("keys", (GET, PUT, UPDATE), query_indexes=("by_account",)),
            TableAccess("api_keys", (PUT, UPDATE)),
            TableAccess("instances", (GET,)),
        ),
    ),
    "cognito_messages": Access(
        why="The user pool's CustomMessage trigger: writes the codes' emails in the user's language. No data."
    ),
    "billing": Access(
        why="GET /billing/wallet (balance and ledger pages), POST /billing/checkout (a checkout, then its session).",
        tables=(*_AUTH, TableAccess("wallets", (GET, QUERY)), TableAccess("checkouts", (PUT, UPDATE))),
        secrets=("BZ_STRIPE_SECRET_KEY",),
    ),
    "payments": Access(
        why=(
            "The payment provider's webhook and the sandbox checkout pages: read the checkout, settle it "
            "once (ledger entry, balance, checkout status in one transaction) or mark it failed."
        ),
        tables=(TableAccess("checkouts", (GET, UPDATE)), TableAccess("wallets", (PUT, UPDATE))),
        secrets=("BZ_STRIPE_WEBHOOK_SECRET",),
    ),
    "statuses": Access(
        why=(
            "Consumer of status-updates: finds a receipt's message by WhatsApp id, applies the status "
            "(conditional update, or a transaction with the usage counter and a failed send's refund), "
            "checks the low-balance threshold once, publishes one event per transition. Every report's fence "
            "is checked against its shard's lease (one read). Instance states are stored newest-wins and "
            "learned LID <-> phone mappings recorded (one event the first time). The inbox: a received "
            "message is put with its conversation's update and usage counter in one transaction (the contact's "
            "LID or phone read from identities when missing); a sent one joins its conversation the same way. "
            "A call rejected by settings.reject_calls sends its reject_call_message through the send path "
            "(rate bucket, idempotency lock, the send transaction, one send to the shard: docs/settings.md)."
        ),
        tables=(
            TableAccess("messages", (GET, PUT, UPDATE), query_indexes=("by_wa_id",)),
            TableAccess("accounts", (GET,)),
            TableAccess("usage", (UPDATE,)),
            _WALLET_WRITE,
            TableAccess("conversations", (UPDATE,)),
            TableAccess("identities", (GET, PUT)),
            TableAccess("instances", (GET, UPDATE, CHECK)),
            TableAccess("leases", (GET,)),
            TableAccess("cloud_numbers", (GET,)),
            TableAccess("rate_limits", (GET, UPDATE)),
            TableAccess("idempotency", (GET, PUT, UPDATE, DELETE)),
        ),
        send=SHARDS,
        publish_events=True,
        # A Cloud API number's received media: fetched from Graph with its token (KMS decrypt) and stored.
        buckets=(("media", ("PutObject", "AbortMultipartUpload")),),
        otp_key="unseal",
    ),
    "inbox": Access(
        why=(
            "GET /conversations (the instance's rows by last activity), GET /conversations/{jid}/messages "
            "(the contact's rows, then its thread under each of its keys), POST /conversations/{jid}/read "
            "(conditional update of the row, the unread messages, then mark_read commands on the control "
            "queue); a @lid or a phone's other side read from identities."
        ),
        tables=(
            *_AUTH,
            TableAccess("instances", (GET,)),
            TableAccess("identities", (GET,)),
            TableAccess("conversations", ("BatchGetItem", UPDATE), query_indexes=("by_activity",)),
            TableAccess("messages", (), query_indexes=("by_chat",)),
        ),
        send=CONTROLS,
        otp_key="unseal",  # a Cloud API number's read receipt goes to Graph with its token
    ),
    "dead_jobs": Access(
        why=(
            "Consumer of the shard queues' dead-letter queues: a job no worker could send fails for good, "
            "through the same path as a status report (conditional update or transaction with the usage "
            "counter and the refund, the low-balance check, one event)."
        ),
        tables=(
            TableAccess("messages", (GET, UPDATE)),
            TableAccess("accounts", (GET,)),
            TableAccess("usage", (UPDATE,)),
            _WALLET_WRITE,
        ),
        publish_events=True,
    ),
    "outbox": Access(
        why=(
            "Every minute: queries the outbox index for due messages, re-sends them to their shard, postpones "
            "them. An OTP is never re-sent (its record has no code): past its expiry it fails, through the same "
            "path as a status report (conditional update or transaction with the usage counter and the refund, "
            "one event)."
        ),
        tables=(
            TableAccess("messages", (GET, UPDATE), query_indexes=("outbox",)),
            TableAccess("usage", (UPDATE,)),
            TableAccess("wallets", (PUT, UPDATE)),
        ),
        send=(*SHARDS, *PRIORITY_SHARDS),
        publish_events=True,
    ),
    "event_log": Access(
        why=(
            "Consumer of the bus's event-log rule: claims log numbers on the stream's counter item (UpdateItem), "
            "writes each event once (its id item and its log item) and holes for numbers it did not use."
        ),
        tables=(TableAccess("events", (PUT, UPDATE)),),
    ),
    # IAM cannot narrow this PutItem to the fences' `log#` items: dynamodb:LeadingKeys conditions the partition
    # key only, and the sort key has no condition key, so the grant covers the whole events table's items.
    "stream": Access(
        why=(
            "GET /stream: resolves Last-Event-ID to a log number (or reads the counter), reads the account's log "
            "(SSE), and fences a number missing for GAP_WAIT with a hole (a conditional PutItem)."
        ),
        tables=(*_AUTH, TableAccess("events", (GET, QUERY, PUT))),
    ),
    "webhooks": Access(
        why=(
            "The webhooks API: endpoints (create, read, list by account, update, rotate, delete), deliveries "
            "(pages, replay), and delivery jobs for a test event or a replay."
        ),
        tables=(
            *_AUTH,
            TableAccess("webhooks", (GET, PUT, UPDATE, DELETE), query_indexes=("by_account",)),
            TableAccess("deliveries", (GET, PUT, UPDATE, QUERY)),
        ),
        send=("webhook-deliveries",),
    ),
    "webhook_fanout": Access(
        why="Consumer of the bus's webhook rule: one delivery record and one job per subscribed endpoint.",
        tables=(
            TableAccess("webhooks", (), query_indexes=("by_account",)),
            TableAccess("deliveries", (GET, PUT)),
        ),
        send=("webhook-deliveries",),
    ),
    "webhook_dispatch": Access(
        why=(
            "Signs and POSTs each delivery, records every attempt, postpones a retry by changing the "
            "message's visibility, tracks a failing endpoint and disables it after 3 days (an event)."
        ),
        tables=(
            # BatchGetItem: a delivery and its endpoint in one read; GetItem: a failing streak's start.
            TableAccess("webhooks", ("BatchGetItem", GET, UPDATE)),
            TableAccess("deliveries", ("BatchGetItem", UPDATE)),
            TableAccess("usage", (UPDATE,)),
            TableAccess("accounts", (GET,)),
        ),
        consume=("webhook-deliveries",),
        send=("webhook-deliveries-dlq",),  # an exhausted delivery's job is kept there
        publish_events=True,
    ),
    WORKER: Access(
        why=(
            "Leases its shards (its heartbeat in the registry item, conditional lease updates, and while under "
            "its fair share one batch read of the shard leases); "
            "per held shard: opens the shard's instances (query by shard), polls its priority, shard and "
            "control queues, reads a job's message status (consistent read), answers the API's questions "
            "in requests; reports statuses, states, inbound messages and identities to status-updates. "
            "Its engine hosts open OTP codes (KMS decrypt of each code's data key) just before sending them."
        ),
        tables=(
            TableAccess("messages", (GET,)),
            TableAccess("instances", (GET,), query_indexes=("by_shard",)),
            TableAccess("leases", ("BatchGetItem", UPDATE)),
            TableAccess("requests", (PUT,)),
        ),
        send=("status-updates",),
        consume=(*SHARDS, *PRIORITY_SHARDS, *CONTROLS),
        buckets=(("media", MEDIA_WRITE),),  # outbound media read to send, inbound media and profile pictures stored
        otp_key="unseal",
    ),
}


def function_groups(topology: Topology) -> tuple[str, ...]:
    """Every group that becomes one Lambda function: API groups (with the fallback), consumers, schedules."""
    from bzapper.topology import DEFAULT_GROUP

    groups = [*topology.api_groups, DEFAULT_GROUP]
    groups += [consumer.group for consumer in topology.consumers]
    groups += [schedule.group for schedule in topology.schedules]
    groups += [trigger.group for trigger in topology.triggers]
    return tuple(dict.fromkeys(groups))


def problems(topology: Topology, access: dict[str, Access] | None = None) -> list[str]:
    """What is out of step between the topology and the access map (empty when they agree)."""
    access = ACCESS if access is None else access
    found: list[str] = []
    groups = set(function_groups(topology))
    for group in sorted(groups - set(access)):
        found.append(f"group {group!r} has no entry in infra/access.py ACCESS: declare what it may touch")
    # An entry for a group the topology does not have (yet) deploys nothing: harmless, so not a problem.
    tables = {table.name: table for table in topology.tables}
    queues = {queue.name for queue in topology.queues} | {queue.dlq_name for queue in topology.queues}
    for group, entry in sorted(access.items()):
        for grant in entry.tables:
            table = tables.get(grant.table)
            if table is None:
                found.append(f"{group}: table {grant.table!r} is not in the topology")
                continue
            indexes = {index.name for index in table.indexes}
            found += [
                f"{group}: index {grant.table}.{index} is not in the topology"
                for index in grant.query_indexes
                if index not in indexes
            ]
            found += [f"{group}: {grant.table}: {action!r} is a wildcard" for action in grant.actions if "*" in action]
        found += [
            f"{group}: queue {queue!r} is not in the topology"
            for queue in (*entry.send, *entry.consume)
            if queue not in queues
        ]
        found += [
            f"{group}: secret {name!r} is not in STRIPE_SECRET_FIELDS or CLOUD_SECRET_FIELDS"
            for name in entry.secrets
            if name not in STRIPE_SECRET_FIELDS and name not in CLOUD_SECRET_FIELDS
        ]
        found += [
            f"{group}: bucket {bucket!r} is not in the topology"
            for bucket, _ in entry.buckets
            if bucket not in topology.buckets
        ]
        found += [
            f"{group}: user_pool action {action!r} is not one Cognito action"
            for action in entry.user_pool
            if not action.startswith("cognito-idp:") or "*" in action
        ]
        if entry.otp_key is not None and entry.otp_key not in OTP_KEY_ACTIONS:
            found.append(f"{group}: otp_key {entry.otp_key!r} is not one of {sorted(OTP_KEY_ACTIONS)}")
    return found
