"""Deployment settings: read once from the CDK context (`cdk.json`, or `-c key=value`), with safe defaults.

Everything that differs between a developer's stage and production lives here, so the stacks never
branch on a stage name themselves.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from bzapper.topology import physical_name

LAYER_BUNDLE = "bundle"
LAYER_PLACEHOLDER = "placeholder"
LAYER_ENV = "BZ_CDK_LAYER"
"""`placeholder` skips the pip bundling (tests): the layer then holds only the `bzapper` package."""

WEB_ADAPTER_LAYER_VERSION = 30
"""The AWS Lambda Web Adapter layer (`LambdaAdapterLayerArm64:<version>`, published by AWS's account
753240598075 in each commercial region): 30 is the 1.x GA release's layer, the one the adapter's user
guide ("Zip packages") lists. Pinned, since a layer version is immutable: bump it on purpose
(`-c bzapper:webAdapterLayerVersion=N`), after reading the adapter's changelog."""

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
"""A plain address with a lowercase ASCII domain: what Cognito's `From` and an SES identity's ARN both accept."""

THREAT_PROTECTION_MODES = ("enforced", "audit")
"""The user pool's threat protection (Cognito's Plus plan): `enforced` acts on what it detects, `audit` only
reports it (AWS suggests a few weeks of `audit` before `enforced` on a pool with existing users)."""


@dataclass(frozen=True)
class InfraConfig:
    stage: str
    layer_mode: str = LAYER_BUNDLE
    log_retention_days: int = 30
    alarm_email: str | None = None
    api_rate_limit: int = 200
    """Steady requests per second the HTTP API accepts for the whole stage (per-account limits are the app's)."""
    api_burst_limit: int = 400
    worker_min_tasks: int = 1
    worker_max_tasks: int = 4
    worker_cpu: int = 512
    worker_memory_mib: int = 1024
    media_expiry_days: int = 30
    nat_gateways: int = 1
    stripe_secret_name: str | None = None
    """A Secrets Manager secret (JSON: secret_key, webhook_secret) created by the operator before deploying."""
    sandbox_url: str | None = None
    """Where the sandbox network runs for this stage (test keys); unset: the sandbox endpoints answer not_supported."""
    web_adapter_layer_version: int = WEB_ADAPTER_LAYER_VERSION
    stream_concurrency: int | None = None
    """Reserved concurrency of each streaming function: an open stream holds one execution for up to 15
    minutes, so this caps how many streams can run at once (and keeps them from starving the API).
    Unset: no reservation (a new account's small concurrency quota cannot reserve any)."""
    mail_from: str | None = None
    """The sender of every email (the user pool's codes and our own notices), verified in SES in the stage's
    region. Unset: Cognito's own email, with its small daily quota, and our own notices are not sent."""
    mail_verified_domain: str | None = None
    """Set when the SES identity `mail_from` is verified under is its domain rather than the address itself."""
    threat_protection: str = "enforced"
    """One of THREAT_PROTECTION_MODES."""

    @property
    def protected(self) -> bool:
        """Outside `dev`, data survives a mistaken `cdk destroy` (deletion protection, retained resources)."""
        return self.stage != "dev"

    def name(self, logical: str) -> str:
        return physical_name(self.stage, logical)

    def stack_name(self, part: str) -> str:
        return self.name(part)

    @classmethod
    def from_context(cls, node: Any) -> InfraConfig:
        """`node` is the App's construct node: `node.try_get_context(key)`."""

        def context(key: str, default: Any) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        stage = str(context("stage", "dev"))
        if not _STAGE.match(stage):
            raise ValueError(f"stage {stage!r}: lowercase letters, digits and '-', starting with a letter, 20 at most")
        protected = stage != "dev"
        layer_mode = os.environ.get(LAYER_ENV) or str(context("bzapper:layer", LAYER_BUNDLE))
        if layer_mode not in (LAYER_BUNDLE, LAYER_PLACEHOLDER):
            raise ValueError(f"bzapper:layer must be {LAYER_BUNDLE!r} or {LAYER_PLACEHOLDER!r}, not {layer_mode!r}")
        return cls(
            stage=stage,
            layer_mode=layer_mode,
            log_retention_days=int(context("bzapper:logRetentionDays", 90 if protected else 14)),
            alarm_email=context("bzapper:alarmEmail", None) or None,
            api_rate_limit=int(context("bzapper:apiRateLimit", 200)),
            api_burst_limit=int(context("bzapper:apiBurstLimit", 400)),
            worker_min_tasks=int(context("bzapper:workerMinTasks", 1)),
            worker_max_tasks=int(context("bzapper:workerMaxTasks", 4)),
            worker_cpu=int(context("bzapper:workerCpu", 512)),
            worker_memory_mib=int(context("bzapper:workerMemoryMiB", 1024)),
            media_expiry_days=int(context("bzapper:mediaExpiryDays", 30)),
            nat_gateways=int(context("bzapper:natGateways", 2 if protected else 1)),
            sandbox_url=context("bzapper:sandboxUrl", None) or None,
            stripe_secret_name=context("bzapper:stripeSecretName", None) or None,
            web_adapter_layer_version=int(context("bzapper:webAdapterLayerVersion", WEB_ADAPTER_LAYER_VERSION)),
            stream_concurrency=_optional_int(context("bzapper:streamConcurrency", None)),
            **_mail(context("bzapper:mailFrom", None) or None, context("bzapper:mailVerifiedDomain", None) or None),
            threat_protection=_threat_protection(str(context("bzapper:threatProtection", "enforced"))),
        )


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _mail(address: str | None, verified_domain: str | None) -> dict[str, str | None]:
    """The sender and, when its domain rather than the address is the verified SES identity, that domain."""
    if address is None:
        if verified_domain is not None:
            raise ValueError("bzapper:mailVerifiedDomain needs bzapper:mailFrom (the sender's address)")
        return {"mail_from": None, "mail_verified_domain": None}
    address = address.strip()
    if not _EMAIL.match(address):
        raise ValueError(
            f"bzapper:mailFrom {address!r}: a plain address with a lowercase domain, like no-reply@example.com"
        )
    if verified_domain is not None and verified_domain.strip().lower() != address.rpartition("@")[2]:
        raise ValueError(f"bzapper:mailVerifiedDomain {verified_domain!r} is not the domain of {address!r}")
    return {"mail_from": address, "mail_verified_domain": verified_domain and verified_domain.strip().lower()}


def _threat_protection(mode: str) -> str:
    if mode not in THREAT_PROTECTION_MODES:
        raise ValueError(f"bzapper:threatProtection must be one of {THREAT_PROTECTION_MODES}, not {mode!r}")
    return mode
