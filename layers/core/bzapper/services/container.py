"""The process's adapters, built once and shared by every request and record (Lambda reuses them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bzapper.adapters.aws.accounts import AccountStore
from bzapper.adapters.aws.checkouts import CheckoutStore
from bzapper.adapters.aws.control import ControlChannel
from bzapper.adapters.aws.eventlog import EventLog
from bzapper.adapters.aws.events import EventBridgePublisher
from bzapper.adapters.aws.fences import FenceChecker
from bzapper.adapters.aws.idempotency import IdempotencyStore
from bzapper.adapters.aws.identities import IdentityStore
from bzapper.adapters.aws.inbox import InboxStore
from bzapper.adapters.aws.instances import InstanceStore
from bzapper.adapters.aws.media import MediaStore
from bzapper.adapters.aws.messages import MessageStore
from bzapper.adapters.aws.queues import SqsDeliveryJobs, SqsJobQueue, SqsReportSink
from bzapper.adapters.aws.ratelimits import RateLimitStore
from bzapper.adapters.aws.usage import UsageStore
from bzapper.adapters.aws.wallets import WalletStore
from bzapper.adapters.aws.webhooks import DeliveryStore, WebhookStore
from bzapper.adapters.http import HttpSender
from bzapper.adapters.sandbox import HttpSandboxWorld
from bzapper.ports import EventPublisher, JobQueue, ReportSink, SandboxWorld


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
    event_log: EventLog
    webhooks: WebhookStore
    deliveries: DeliveryStore
    delivery_jobs: SqsDeliveryJobs
    http: HttpSender
    control: ControlChannel
    identities: IdentityStore
    fences: FenceChecker
    media: MediaStore
    inbox: InboxStore
    sandbox: SandboxWorld


@cache
def services() -> Services:
    return Services(
        accounts=AccountStore(),
        instances=InstanceStore(),
        messages=MessageStore(),
        idempotency=IdempotencyStore(),
        jobs=SqsJobQueue(),
        reports=SqsReportSink(),
        events=EventBridgePublisher(),
        wallets=WalletStore(),
        usage=UsageStore(),
        rate_limits=RateLimitStore(),
        checkouts=CheckoutStore(),
        event_log=EventLog(),
        webhooks=WebhookStore(),
        deliveries=DeliveryStore(),
        delivery_jobs=SqsDeliveryJobs(),
        http=HttpSender(),
        control=ControlChannel(),
        identities=IdentityStore(),
        fences=FenceChecker(),
        media=MediaStore(),
        inbox=InboxStore(),
        sandbox=HttpSandboxWorld(),
    )
