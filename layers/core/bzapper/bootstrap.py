"""The composition root: the only module that builds adapters and hands them out behind their ports.

Functions, the session worker, the local runtime and the CLI get their collaborators here; services and the
API never import an adapter. Built once per process and shared by every request and record (Lambda reuses
a warm process). Heavy adapters (the media pipeline, KMS, the engines) are imported only when asked for.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from bzapper.config import settings
from bzapper.services.container import Services

if TYPE_CHECKING:  # types only: a cold start imports the ports its use cases need, not these
    from collections.abc import Callable

    from bzapper.domain.model import InstanceView
    from bzapper.domain.templates import Template
    from bzapper.ports.cloud import CloudApi
    from bzapper.ports.engine import Engine
    from bzapper.ports.identity import IdentityProvider, Mailer, TokenVerifier
    from bzapper.ports.media import MediaStore
    from bzapper.ports.sealing import Sealer
    from bzapper.ports.workers import LeaseStore, QueueReader


@cache
def services() -> Services:
    from bzapper.adapters.aws.accounts import AccountStore
    from bzapper.adapters.aws.checkouts import CheckoutStore
    from bzapper.adapters.aws.cloud_numbers import CloudNumbers
    from bzapper.adapters.aws.control import ControlChannel
    from bzapper.adapters.aws.eventlog import EventLog
    from bzapper.adapters.aws.events import EventBridgePublisher
    from bzapper.adapters.aws.fences import FenceChecker
    from bzapper.adapters.aws.idempotency import IdempotencyStore
    from bzapper.adapters.aws.identities import IdentityStore
    from bzapper.adapters.aws.inbox import InboxStore
    from bzapper.adapters.aws.instances import InstanceStore
    from bzapper.adapters.aws.keys import KeyStore
    from bzapper.adapters.aws.messages import MessageStore
    from bzapper.adapters.aws.queues import SqsDeliveryJobs, SqsJobQueue, SqsReportSink
    from bzapper.adapters.aws.ratelimits import RateLimitStore
    from bzapper.adapters.aws.revocations import SessionRevocations
    from bzapper.adapters.aws.templates import TemplateStore
    from bzapper.adapters.aws.usage import UsageStore
    from bzapper.adapters.aws.wallets import WalletStore
    from bzapper.adapters.aws.webhooks import DeliveryStore, WebhookStore
    from bzapper.adapters.http import HttpSender
    from bzapper.adapters.payments.gateway import ProviderGateway
    from bzapper.adapters.sandbox import HttpSandboxWorld

    rate_limits = RateLimitStore()
    built = Services(
        accounts=AccountStore(),
        instances=InstanceStore(),
        messages=MessageStore(rate_limits),
        idempotency=IdempotencyStore(),
        jobs=SqsJobQueue(),
        reports=SqsReportSink(),
        events=EventBridgePublisher(),
        wallets=WalletStore(),
        usage=UsageStore(),
        rate_limits=rate_limits,
        checkouts=CheckoutStore(),
        payments=ProviderGateway(),
        event_log=EventLog(),
        webhooks=WebhookStore(),
        deliveries=DeliveryStore(),
        delivery_jobs=SqsDeliveryJobs(),
        http=HttpSender(),
        control=ControlChannel(),
        identities=IdentityStore(),
        fences=FenceChecker(),
        media=media_store(),
        inbox=InboxStore(),
        sandbox=HttpSandboxWorld(),
        sealers=_ConfiguredSealers(),
        keys=KeyStore(),
        identity=identity_provider(),
        tokens=token_verifier(),
        revocations=SessionRevocations(),
        mailer=mailer(),
        templates=TemplateStore(),
        template_source=None,
        cloud=cloud_api(),
        cloud_numbers=CloudNumbers(),
    )
    built.template_source = _CloudTemplates(built)
    return built


class _CloudTemplates:
    """The Cloud API numbers' template source (bzapper.services.cloud.CloudTemplateSource), loaded at its first
    use: most functions never read a template, and that module brings the cloud engine's whole service."""

    def __init__(self, built: Services) -> None:
        self._built = built

    def fetch(self, instance: InstanceView) -> list[Template]:
        from bzapper.services.cloud import CloudTemplateSource

        return CloudTemplateSource(self._built).fetch(instance)


def cloud_api() -> CloudApi:
    """The Graph API: graph.facebook.com for live numbers, the sandbox network's simulated one for test numbers.
    Built lazily (httpx is imported at the first call), so functions that never call Graph pay nothing."""
    from bzapper.engines.cloud.graph import GraphApi

    current = settings()
    return GraphApi(
        live_url=current.cloud.live_graph_url,
        test_url=f"{current.sandbox_url.rstrip('/')}/graph" if current.sandbox_url else None,
        version=current.cloud.graph_api_version,
    )


def identity_provider() -> IdentityProvider | None:
    """Amazon Cognito; on the local stack, moto's Cognito with the codes it never sends made and checked here
    (adapters/local_identity.py). None when this deployment has no user pool."""
    current = settings()
    pool, client = current.identity.user_pool_id, current.identity.client_id
    if not pool or not client:
        return None
    if current.local_mode and current.identity.mailbox_dir:
        from bzapper.adapters.local_identity import LocalCognitoIdentity

        return LocalCognitoIdentity(pool, client, current.identity.mailbox_dir)
    from bzapper.adapters.aws.cognito import CognitoIdentity

    return CognitoIdentity(pool, client)


def token_verifier() -> TokenVerifier | None:
    current = settings()
    if not current.cognito_issuer or not current.identity.client_id:
        return None
    from bzapper.adapters.tokens import CognitoTokenVerifier

    return CognitoTokenVerifier(
        issuer=current.cognito_issuer,
        client_id=current.identity.client_id,
        jwks_url=current.identity.jwks_url,
        allow_test_keys=current.local_mode,  # moto signs with a key whose private half is public
    )


def mailer() -> Mailer:
    """Our own emails: the local mailbox on the local stack, SES from the stage's sender on AWS."""
    current = settings()
    if current.local_mode and current.identity.mailbox_dir:
        from bzapper.adapters.mailbox import LocalMailbox

        return LocalMailbox(current.identity.mailbox_dir)
    if current.identity.mail_from:
        from bzapper.adapters.mailbox import SesMailer

        return SesMailer(current.identity.mail_from)
    from bzapper.adapters.mailbox import NoMailer

    return NoMailer()


def media_store() -> MediaStore:
    from bzapper.adapters.aws.media import MediaStore as S3MediaStore

    return S3MediaStore()


def sealer() -> Sealer | None:
    """The OTP sealer this process is configured with (the KMS key on AWS, the stack's key locally), if any."""
    from bzapper.adapters.sealing import configured_sealer

    return configured_sealer()


def lease_store() -> LeaseStore:
    from bzapper.adapters.aws.leases import LeaseStore as DynamoLeaseStore

    return DynamoLeaseStore()


def queue_reader(physical_name: str) -> QueueReader:
    from bzapper.adapters.aws.queues import SqsReader

    return SqsReader(physical_name)


def build_engine(name: str, config: dict[str, Any]) -> Engine:
    """The engine a worker's host runs: by name, or any "module:callable" factory (tests use it for faulty
    engines). Called inside the host process: the media reader and the OTP unsealer hold boto3 clients, which
    never cross processes, and an OTP's code is in clear only there."""
    if ":" in name:
        module, _, factory = name.partition(":")
        engine: Engine = getattr(importlib.import_module(module), factory)(**config)
        return engine
    from bzapper.adapters.sealing import engine_unseal

    if name == "sandbox":
        from bzapper.engines.sandbox.engine import SandboxEngine

        return SandboxEngine(config["sandbox_url"], unseal=engine_unseal(), media_fetch=media_store().read)
    if name == "whatsmeow":
        from bzapper.engines.whatsmeow.engine import WhatsmeowEngine

        return WhatsmeowEngine(
            media_fetch=media_store().read, unseal=engine_unseal(), picture_fetch=picture_fetch(), **config
        )
    raise ValueError(f"unknown engine {name!r}")


def picture_fetch() -> Callable[[str], bytes]:
    """A profile picture's bytes from its URL (the whatsmeow engine's): https on WhatsApp's picture hosts only,
    through the SSRF-guarded fetcher of media by URL (pinned address, no redirects, a deadline, a size cap)."""
    from bzapper.adapters.http import HttpSender
    from bzapper.domain.profiles import MAX_PICTURE_DOWNLOAD, is_picture_url

    sender = HttpSender()

    def fetch(url: str) -> bytes:
        if not is_picture_url(url):
            raise ValueError("not a WhatsApp profile picture URL")
        data = bytearray()
        with sender.get(url, timeout=PICTURE_FETCH_SECONDS, max_redirects=0) as download:
            for chunk in download.chunks():
                data += chunk
                if len(data) > MAX_PICTURE_DOWNLOAD:
                    raise ValueError("profile picture too large")
        return bytes(data)

    return fetch


PICTURE_FETCH_SECONDS = 5.0
"""Inside the worker's answer time (the API waits 8 s for the whole profile)."""


class _ConfiguredSealers:
    """The sealer of this process's configuration, resolved when an OTP asks (KMS and the cipher load then)."""

    def current(self) -> Sealer | None:
        return sealer()
