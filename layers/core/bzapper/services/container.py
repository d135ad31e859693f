"""The collaborators every use case may call, typed as ports: the services never know which adapter is behind
one (AWS in production and on the local stack, in-memory fakes in unit tests). `bzapper.bootstrap` fills it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: a function imports the ports (and the domain modules behind them) its own use cases need,
    # not all of them at its cold start.
    from bzapper.ports.accounts import AccountStore, KeyStore
    from bzapper.ports.billing import CheckoutStore, PaymentGateway, UsageStore, WalletStore
    from bzapper.ports.cloud import CloudApi, CloudNumbers
    from bzapper.ports.events import EventLog, EventPublisher, FenceChecker, ReportSink
    from bzapper.ports.identity import IdentityProvider, Mailer, SessionRevocations, TokenVerifier
    from bzapper.ports.inbox import IdentityStore, InboxStore
    from bzapper.ports.instances import ControlChannel, InstanceStore
    from bzapper.ports.media import MediaStore
    from bzapper.ports.messages import IdempotencyStore, JobQueue, MessageStore, RateLimitStore
    from bzapper.ports.sandbox import SandboxWorld
    from bzapper.ports.sealing import SealerSource
    from bzapper.ports.templates import TemplateSource, TemplateStore
    from bzapper.ports.webhooks import DeliveryJobs, DeliveryStore, HttpClient, WebhookStore


@dataclass
class Services:
    accounts: AccountStore
    instances: InstanceStore
    messages: MessageStore
    idempotency: IdempotencyStore
    jobs: JobQueue
    reports: ReportSink
    events: EventPublisher
    wallets: WalletStore
    usage: UsageStore
    rate_limits: RateLimitStore
    checkouts: CheckoutStore
    payments: PaymentGateway
    event_log: EventLog
    webhooks: WebhookStore
    deliveries: DeliveryStore
    delivery_jobs: DeliveryJobs
    http: HttpClient
    control: ControlChannel
    identities: IdentityStore
    fences: FenceChecker
    media: MediaStore
    inbox: InboxStore
    sandbox: SandboxWorld
    sealers: SealerSource
    """The OTP sealer, if this deployment has a key (else OTPs are not supported)."""
    keys: KeyStore
    identity: IdentityProvider | None
    """None when this deployment has no user pool: the auth API answers not_supported."""
    tokens: TokenVerifier | None
    revocations: SessionRevocations
    mailer: Mailer
    cloud: CloudApi
    """Meta's Graph API, for the numbers of engine `cloud`."""
    cloud_numbers: CloudNumbers
    templates: TemplateStore
    """Each Cloud API number's message templates, as last read from its WhatsApp Business Account."""
    template_source: TemplateSource | None = None
    """Reads a number's templates from its account (the Cloud API engine's); None: the stored copy only."""
