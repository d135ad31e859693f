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

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
"""A lowercase DNS name with at least two labels (what an Origin header and a CloudFront alias carry)."""
_CLOUDFRONT_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
"""CloudFront takes an alternate domain's certificate from ACM in us-east-1 only, whatever the stage's region."""

CONSOLE_DIST = "console/dist"
"""The console's build (`make console`), relative to the repository root: what CloudFront serves."""

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
    cloud_secret_name: str | None = None
    """A Secrets Manager secret (JSON: app_secret, verify_token) of the Meta app whose webhooks reach
    /cloud/webhook. Unset: only the simulated Graph API's public test secret verifies, so live Cloud API numbers
    receive no webhooks (docs/engines.md)."""
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
    skip_console: bool = False
    """No web console on this stage (`bzapper:skipConsole`): no bucket, no distribution, no CORS on the API.
    Otherwise the synth needs the console's build and fails without it (infra/components/console.py)."""
    console_dist: str = CONSOLE_DIST
    """The console's build folder: relative to the repository root, or absolute (`bzapper:consoleDist`)."""
    console_domain: str | None = None
    """The console's own hostname (e.g. console.example.com) instead of CloudFront's `d….cloudfront.net`: then the
    API's only CORS origin. Needs `console_certificate_arn`; the DNS record is yours to create (docs/deploy.md)."""
    console_certificate_arn: str | None = None
    """An ACM certificate in us-east-1 covering `console_domain` (CloudFront reads certificates there only)."""
    api_domain: str | None = None
    """The API's custom domain (e.g. api.example.com, mapped by hand: docs/deploy.md "DNS"). Set, the console is
    told to call it (config.json) and its Content-Security-Policy names it; unset, the `execute-api` URL."""

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
            cloud_secret_name=context("bzapper:cloudSecretName", None) or None,
            web_adapter_layer_version=int(context("bzapper:webAdapterLayerVersion", WEB_ADAPTER_LAYER_VERSION)),
            stream_concurrency=_optional_int(context("bzapper:streamConcurrency", None)),
            **_mail(context("bzapper:mailFrom", None) or None, context("bzapper:mailVerifiedDomain", None) or None),
            threat_protection=_threat_protection(str(context("bzapper:threatProtection", "enforced"))),
            **_console(
                skip=_flag("bzapper:skipConsole", context("bzapper:skipConsole", False)),
                dist=str(context("bzapper:consoleDist", CONSOLE_DIST)),
                domain=context("bzapper:consoleDomain", None) or None,
                certificate_arn=context("bzapper:consoleCertificateArn", None) or None,
            ),
            api_domain=_hostname("bzapper:apiDomain", context("bzapper:apiDomain", None) or None),
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


def _flag(key: str, value: Any) -> bool:
    """A boolean context value: JSON's true/false from cdk.json, or the text `-c key=value` gives."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ValueError(f"{key} must be true or false, not {value!r}")


def _hostname(key: str, value: str | None) -> str | None:
    if value is None:
        return None
    host = value.strip().lower()
    if not _HOSTNAME.match(host):
        raise ValueError(f"{key} {value!r}: a hostname like console.example.com (no scheme, port or path)")
    return host


def _console(*, skip: bool, dist: str, domain: str | None, certificate_arn: str | None) -> dict[str, Any]:
    """Whether the stage hosts the console, where its build is, and its own domain (with its certificate)."""
    domain = _hostname("bzapper:consoleDomain", domain)
    certificate_arn = certificate_arn and certificate_arn.strip()
    if skip and (domain or certificate_arn):
        raise ValueError("bzapper:skipConsole skips the console: drop bzapper:consoleDomain and its certificate")
    if bool(domain) != bool(certificate_arn):
        raise ValueError(
            "bzapper:consoleDomain and bzapper:consoleCertificateArn go together: CloudFront serves an alternate "
            "domain only with an ACM certificate for it"
        )
    if certificate_arn and not _CLOUDFRONT_CERTIFICATE.match(certificate_arn):
        raise ValueError(
            f"bzapper:consoleCertificateArn {certificate_arn!r}: an ACM certificate ARN in us-east-1 (CloudFront "
            "reads certificates from that region only)"
        )
    return {
        "skip_console": skip,
        "console_dist": dist,
        "console_domain": domain,
        "console_certificate_arn": certificate_arn,
    }


def _threat_protection(mode: str) -> str:
    if mode not in THREAT_PROTECTION_MODES:
        raise ValueError(f"bzapper:threatProtection must be one of {THREAT_PROTECTION_MODES}, not {mode!r}")
    return mode
