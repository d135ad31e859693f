"""In-memory fakes of every port (bzapper.ports), for unit tests: no AWS, no network, no sockets.

Each fake keeps its AWS adapter's semantics where a service can observe them (conditions, forward-only
statuses, the send transaction's all-or-nothing, once-only ledger entries, ...), records its calls and can be
told to fail its next calls (bzapper.adapters.memory.faults). `memory_fakes` builds a consistent set: the
stores a send transaction spans (messages, wallets, usage, instances, idempotency, and the inbox and checkouts
that write into them) share one lock, and every fake reads the same clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from bzapper.adapters.memory.accounts import MemoryAccountStore, MemoryKeyStore
from bzapper.adapters.memory.billing import (
    MemoryCheckoutStore,
    MemoryPaymentGateway,
    MemoryUsageStore,
    MemoryWalletStore,
)
from bzapper.adapters.memory.clock import ManualClock
from bzapper.adapters.memory.cloud import MemoryCloudApi, MemoryCloudNumbers
from bzapper.adapters.memory.events import MemoryEventLog, MemoryEventPublisher, MemoryFenceChecker, MemoryReportSink
from bzapper.adapters.memory.faults import Call, ConditionFailed, Faults
from bzapper.adapters.memory.identity import (
    MemoryIdentityProvider,
    MemoryMailer,
    MemorySessionRevocations,
    MemoryTokenVerifier,
)
from bzapper.adapters.memory.inbox import MemoryIdentityStore, MemoryInboxStore
from bzapper.adapters.memory.instances import MemoryControlChannel, MemoryInstanceStore
from bzapper.adapters.memory.media import MemoryMediaStore
from bzapper.adapters.memory.messages import (
    MemoryIdempotencyStore,
    MemoryJobQueue,
    MemoryMessageStore,
    MemoryRateLimitStore,
)
from bzapper.adapters.memory.sandbox import MemorySandboxWorld
from bzapper.adapters.memory.sealing import MemorySealer, MemorySealerSource
from bzapper.adapters.memory.templates import MemoryTemplateSource, MemoryTemplateStore
from bzapper.adapters.memory.webhooks import (
    MemoryDeliveryJobs,
    MemoryDeliveryStore,
    MemoryHttpClient,
    MemoryWebhookStore,
)
from bzapper.adapters.memory.workers import MemoryLeaseStore, MemoryQueueReader
from bzapper.domain.clock import now_ms
from bzapper.domain.eventlog import GAP_WAIT_MS
from bzapper.services.container import Services

__all__ = [
    "Call",
    "ConditionFailed",
    "Faults",
    "ManualClock",
    "MemoryFakes",
    "MemoryQueueReader",
    "memory_fakes",
    "memory_services",
]


@dataclass
class MemoryFakes:
    """Every fake of one in-memory system, each typed as itself (a test reaches into it), and the `services`
    container the use cases get (the same instances, typed as their ports)."""

    clock: Callable[[], int]
    accounts: MemoryAccountStore
    instances: MemoryInstanceStore
    messages: MemoryMessageStore
    idempotency: MemoryIdempotencyStore
    jobs: MemoryJobQueue
    reports: MemoryReportSink
    events: MemoryEventPublisher
    wallets: MemoryWalletStore
    usage: MemoryUsageStore
    rate_limits: MemoryRateLimitStore
    checkouts: MemoryCheckoutStore
    payments: MemoryPaymentGateway
    event_log: MemoryEventLog
    webhooks: MemoryWebhookStore
    deliveries: MemoryDeliveryStore
    delivery_jobs: MemoryDeliveryJobs
    http: MemoryHttpClient
    control: MemoryControlChannel
    identities: MemoryIdentityStore
    leases: MemoryLeaseStore
    fences: MemoryFenceChecker
    media: MemoryMediaStore
    inbox: MemoryInboxStore
    sandbox: MemorySandboxWorld
    sealer: MemorySealer
    sealers: MemorySealerSource
    keys: MemoryKeyStore
    identity: MemoryIdentityProvider
    tokens: MemoryTokenVerifier
    revocations: MemorySessionRevocations
    mailer: MemoryMailer
    templates: MemoryTemplateStore
    template_source: MemoryTemplateSource
    cloud: MemoryCloudApi
    cloud_numbers: MemoryCloudNumbers

    @cached_property
    def services(self) -> Services:
        return Services(
            accounts=self.accounts,
            instances=self.instances,
            messages=self.messages,
            idempotency=self.idempotency,
            jobs=self.jobs,
            reports=self.reports,
            events=self.events,
            wallets=self.wallets,
            usage=self.usage,
            rate_limits=self.rate_limits,
            checkouts=self.checkouts,
            payments=self.payments,
            event_log=self.event_log,
            webhooks=self.webhooks,
            deliveries=self.deliveries,
            delivery_jobs=self.delivery_jobs,
            http=self.http,
            control=self.control,
            identities=self.identities,
            fences=self.fences,
            media=self.media,
            inbox=self.inbox,
            sandbox=self.sandbox,
            sealers=self.sealers,
            keys=self.keys,
            identity=self.identity,
            tokens=self.tokens,
            revocations=self.revocations,
            mailer=self.mailer,
            templates=self.templates,
            template_source=self.template_source,
            cloud=self.cloud,
            cloud_numbers=self.cloud_numbers,
        )


def memory_fakes(
    *,
    clock: Callable[[], int] = now_ms,
    otp_sealing: bool = True,
    sandbox_network: bool = True,
    live_payments: bool = True,
    gap_wait_ms: int = GAP_WAIT_MS,
) -> MemoryFakes:
    """A consistent in-memory system. `clock` (e.g. a ManualClock) is read by every fake; `otp_sealing`,
    `sandbox_network` and `live_payments` say whether this deployment has an OTP key, a sandbox network and a
    Stripe key."""
    transaction = threading.RLock()  # one DynamoDB transaction spans these stores
    wallets = MemoryWalletStore(clock, transaction)
    usage = MemoryUsageStore(transaction)
    instances = MemoryInstanceStore(clock, transaction)
    idempotency = MemoryIdempotencyStore(transaction)
    rate_limits = MemoryRateLimitStore(clock)
    messages = MemoryMessageStore(
        wallets=wallets,
        usage=usage,
        instances=instances,
        idempotency=idempotency,
        rate_limits=rate_limits,
        clock=clock,
        lock=transaction,
    )
    webhooks = MemoryWebhookStore(clock)
    leases = MemoryLeaseStore()
    sealer = MemorySealer(clock)
    accounts = MemoryAccountStore(clock)
    identity = MemoryIdentityProvider(clock)
    return MemoryFakes(
        clock=clock,
        accounts=accounts,
        instances=instances,
        messages=messages,
        idempotency=idempotency,
        jobs=MemoryJobQueue(clock),
        reports=MemoryReportSink(),
        events=MemoryEventPublisher(),
        wallets=wallets,
        usage=usage,
        rate_limits=rate_limits,
        checkouts=MemoryCheckoutStore(wallets, clock, transaction),
        payments=MemoryPaymentGateway(live_configured=live_payments, clock=clock),
        event_log=MemoryEventLog(clock, gap_wait_ms),
        webhooks=webhooks,
        deliveries=MemoryDeliveryStore(webhooks, clock),
        delivery_jobs=MemoryDeliveryJobs(),
        http=MemoryHttpClient(),
        control=MemoryControlChannel(),
        identities=MemoryIdentityStore(),
        leases=leases,
        fences=MemoryFenceChecker(leases),
        media=MemoryMediaStore(),
        inbox=MemoryInboxStore(messages, usage, clock, transaction),
        sandbox=MemorySandboxWorld(enabled=sandbox_network),
        sealer=sealer,
        sealers=MemorySealerSource(sealer if otp_sealing else None),
        keys=MemoryKeyStore(accounts, clock),
        identity=identity,
        tokens=MemoryTokenVerifier(identity),
        revocations=MemorySessionRevocations(clock),
        mailer=MemoryMailer(),
        templates=MemoryTemplateStore(),
        template_source=MemoryTemplateSource(),
        cloud=MemoryCloudApi(),
        cloud_numbers=MemoryCloudNumbers(instances),
    )


def memory_services(
    *,
    clock: Callable[[], int] = now_ms,
    otp_sealing: bool = True,
    sandbox_network: bool = True,
    live_payments: bool = True,
    gap_wait_ms: int = GAP_WAIT_MS,
) -> Services:
    """The services container over a fresh `memory_fakes(...)` (the same options)."""
    return memory_fakes(
        clock=clock,
        otp_sealing=otp_sealing,
        sandbox_network=sandbox_network,
        live_payments=live_payments,
        gap_wait_ms=gap_wait_ms,
    ).services
