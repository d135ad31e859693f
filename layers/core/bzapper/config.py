"""Settings read once from the environment: the same code runs on Lambda, Fargate and a laptop.

This is the only module that reads the process environment (tests/unit/test_settings.py fails otherwise);
every variable is listed, with its default and who sets it, in docs/deploy.md ("The runtime's
environment"), which a test keeps equal to what `Settings.from_environ` reads. Standard library only and
read lazily: importing it costs a Lambda cold start nothing.

`settings()` is read once per process and cached. Code that changes the environment of its own process
(the local runtime before it starts the stack, the CLI pointing at it, a test) calls `reset_settings()`
afterwards; objects already built from the old values (cached clients, the services container) keep them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from bzapper.topology import physical_name

QUEUE_URL_PREFIX = "BZ_QUEUE_URL_"
"""`BZ_QUEUE_URL_<NAME>`: a queue's URL given by the CDK app (infra/components/permissions.py), saving the
GetQueueUrl call; <NAME> is the physical name upper-cased with `-` and `.` as `_`."""
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
"""The POSIX locale variables, in their order of precedence: the CLI's language (bzapper.i18n.terminal_locale)."""
SANDBOX_PAYMENTS_SECRET_DEFAULT = "whsec_bzapper_sandbox_public"  # noqa: S105 - test mode only, by design
"""Public on purpose: an event it signs can only ever credit a test-mode wallet."""


def queue_url_variable(physical_name: str) -> str:
    return QUEUE_URL_PREFIX + physical_name.upper().replace("-", "_").replace(".", "_")


@dataclass(frozen=True)
class PaymentSettings:
    stripe_secret_key: str | None = field(repr=False)
    """Set on the billing function only (from Secrets Manager); unset, live checkouts are not configured."""
    stripe_webhook_secret: str | None = field(repr=False)
    """Set on the payments function only."""
    checkout_success_url: str
    checkout_cancel_url: str
    sandbox_webhook_secret: str


@dataclass(frozen=True)
class OtpSettings:
    kms_key: str | None
    """The OTP key (bzapper.adapters.sealing.KMS_KEY_ENV), set by infra on the messages function and workers."""
    local_key: str | None = field(repr=False)
    """The local stack's sealing key (sealing.LOCAL_KEY_ENV), honoured in local mode only."""


CLOUD_TEST_APP_SECRET_DEFAULT = "bzapper-sandbox-cloud-app-secret"  # noqa: S105 - public by design
"""The simulated Graph API's app secret: public on purpose; what it signs may only touch test-mode numbers."""


@dataclass(frozen=True)
class CloudSettings:
    """Meta's WhatsApp Cloud API (engine `cloud`)."""

    graph_api_version: str
    app_secret: str | None = field(default=None, repr=False)
    """The Meta app's secret: signs the webhooks of live numbers (Secrets Manager on AWS)."""
    test_app_secret: str = field(default=CLOUD_TEST_APP_SECRET_DEFAULT, repr=False)
    verify_token: str | None = field(default=None, repr=False)
    """What Meta's webhook verification (GET /cloud/webhook) must present as `hub.verify_token`."""
    live_graph_url: str = "https://graph.facebook.com"


@dataclass(frozen=True)
class WorkerSettings:
    """The session worker process (`python -m bzapper.worker`)."""

    worker_id: str | None
    """A stable id (`bzapper dev` gives its worker one); None: a fresh id per start."""
    parent_pid: int | None
    """`bzapper dev`'s pid: the worker exits when that process is gone."""
    lease_seconds: float
    open_sweep_seconds: float
    sandbox_sessions_per_host: int
    whatsmeow_store: str | None
    """Where whatsmeow sessions live: BZ_WHATSMEOW_STORE (`bzapper dev --engine whatsmeow`), else
    BZ_SESSION_DIR (the EFS mount on Fargate); None: no whatsmeow engine."""
    sessions_per_host: int
    send_interval_ms: int
    send_jitter_ms: int


@dataclass(frozen=True)
class IdentitySettings:
    """Console users (Amazon Cognito) and our own emails."""

    user_pool_id: str | None
    """BZ_COGNITO_USER_POOL_ID; unset: the auth API answers not_supported and session tokens are refused."""
    client_id: str | None
    jwks_url: str | None
    """Where the pool's signing keys are served (BZ_COGNITO_JWKS_URL); default: Cognito's own URL for the pool."""
    mailbox_dir: str | None
    """The local stack's mailbox (BZ_MAILBOX_DIR, local mode only): our emails, and the codes moto never sends."""
    mail_from: str | None
    """The verified SES sender of our own emails on AWS (BZ_MAIL_FROM); unset: they are not sent."""
    signup_test_credits: int
    """Free test credits a new account starts with (BZ_SIGNUP_TEST_CREDITS)."""


@dataclass(frozen=True)
class LoggingSettings:
    log_level: str
    """The long-running processes' level (bzapper.logs); Lambda's logger is Powertools'."""
    metrics_disabled: bool
    """POWERTOOLS_METRICS_DISABLED: Powertools reads it too; we also skip the cold-start metric."""


@dataclass(frozen=True)
class LocalSettings:
    """Read by the dev package only (`bzapper` CLI, `bzapper dev`), kept here so one module reads the environment."""

    functions_dir: str | None
    schedule_seconds: float | None
    """Every schedule's period in the local runtime, instead of the topology's."""
    powertools_log_level: str | None
    """What the local runtime passes on to Powertools (WARNING when unset)."""
    sandbox_cloud_callback_url: str | None
    """Where the standalone sandbox network's simulated Cloud API posts its webhooks (`bzapper dev` sets its own)."""
    locale_variables: Mapping[str, str] = field(hash=False)
    """LC_ALL, LC_MESSAGES and LANG as set (empty ones left out)."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    local_mode: bool
    """True on the embedded local stack: loopback URLs are allowed and the sandbox is the only engine."""
    sandbox_url: str | None
    auth_cache_seconds: float
    outbox_grace_seconds: int
    """How long a committed message may wait for its queue send before the sweeper re-sends it."""
    stream_max_seconds: float
    """How long one GET /stream lasts before the client reconnects (a Lambda stream lives 15 minutes)."""
    webhook_backoff_scale: float
    """1 in production; the local stack's tests shrink the retry schedule."""
    aws_endpoint_url: str | None
    """botocore reads it itself; kept so the CLI can tell whether a stack was chosen already."""
    payments: PaymentSettings
    otp: OtpSettings
    worker: WorkerSettings
    logging: LoggingSettings
    local: LocalSettings
    identity: IdentitySettings
    cloud: CloudSettings = field(default_factory=lambda: CloudSettings("v23.0"))
    queue_urls: Mapping[str, str] = field(default_factory=dict, hash=False)
    """`BZ_QUEUE_URL_<NAME>` → URL, as the CDK app set them."""

    @property
    def cognito_issuer(self) -> str | None:
        """Cognito's issuer for the pool (moto uses the same, even locally)."""
        if not self.identity.user_pool_id:
            return None
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.identity.user_pool_id}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        # An empty variable counts as unset everywhere.
        def text(name: str) -> str | None:
            return environ.get(name) or None

        def number(name: str, default: float) -> float:
            return float(environ.get(name) or default)

        def whole(name: str, default: int) -> int:
            return int(environ.get(name) or default)

        def flag(name: str, true: tuple[str, ...] = ("1", "true", "yes")) -> bool:
            return (environ.get(name) or "").lower() in true

        parent_pid = text("BZ_WORKER_PARENT_PID")
        schedule_seconds = text("BZ_LOCAL_SCHEDULE_SECONDS")
        return cls(
            stage=text("BZ_STAGE") or "local",
            region=text("AWS_REGION") or text("AWS_DEFAULT_REGION") or "us-east-1",
            local_mode=flag("BZ_LOCAL_MODE"),
            sandbox_url=text("BZ_SANDBOX_URL"),
            auth_cache_seconds=number("BZ_AUTH_CACHE_SECONDS", 60),
            outbox_grace_seconds=whole("BZ_OUTBOX_GRACE_SECONDS", 30),
            stream_max_seconds=number("BZ_STREAM_MAX_SECONDS", 900),
            webhook_backoff_scale=number("BZ_WEBHOOK_BACKOFF_SCALE", 1),
            aws_endpoint_url=text("AWS_ENDPOINT_URL"),
            payments=PaymentSettings(
                stripe_secret_key=text("BZ_STRIPE_SECRET_KEY"),
                stripe_webhook_secret=text("BZ_STRIPE_WEBHOOK_SECRET"),
                checkout_success_url=text("BZ_CHECKOUT_SUCCESS_URL") or "https://bzapper.com.br/billing/success",
                checkout_cancel_url=text("BZ_CHECKOUT_CANCEL_URL") or "https://bzapper.com.br/billing/cancel",
                sandbox_webhook_secret=text("BZ_SANDBOX_PAYMENTS_SECRET") or SANDBOX_PAYMENTS_SECRET_DEFAULT,
            ),
            otp=OtpSettings(kms_key=text("BZ_OTP_KMS_KEY"), local_key=text("BZ_OTP_LOCAL_KEY")),
            worker=WorkerSettings(
                worker_id=text("BZ_WORKER_ID"),
                parent_pid=int(parent_pid) if parent_pid else None,
                lease_seconds=number("BZ_LEASE_SECONDS", 15),
                open_sweep_seconds=number("BZ_OPEN_SWEEP_SECONDS", 120),
                sandbox_sessions_per_host=whole("BZ_SANDBOX_SESSIONS_PER_HOST", 1000),
                whatsmeow_store=text("BZ_WHATSMEOW_STORE") or text("BZ_SESSION_DIR"),
                sessions_per_host=whole("BZ_SESSIONS_PER_HOST", 50),
                send_interval_ms=whole("BZ_SEND_INTERVAL_MS", 0),
                send_jitter_ms=whole("BZ_SEND_JITTER_MS", 0),
            ),
            logging=LoggingSettings(
                log_level=text("BZ_LOG_LEVEL") or "INFO",
                metrics_disabled=flag("POWERTOOLS_METRICS_DISABLED", true=("1", "true")),
            ),
            local=LocalSettings(
                functions_dir=text("BZ_FUNCTIONS_DIR"),
                schedule_seconds=float(schedule_seconds) if schedule_seconds else None,
                powertools_log_level=text("POWERTOOLS_LOG_LEVEL"),
                sandbox_cloud_callback_url=text("BZ_SANDBOX_CLOUD_CALLBACK_URL"),
                locale_variables={name: environ[name] for name in LOCALE_VARIABLES if environ.get(name)},
            ),
            identity=IdentitySettings(
                user_pool_id=text("BZ_COGNITO_USER_POOL_ID"),
                client_id=text("BZ_COGNITO_CLIENT_ID"),
                jwks_url=text("BZ_COGNITO_JWKS_URL"),
                mailbox_dir=text("BZ_MAILBOX_DIR"),
                mail_from=text("BZ_MAIL_FROM"),
                signup_test_credits=whole("BZ_SIGNUP_TEST_CREDITS", 1000),
            ),
            cloud=CloudSettings(
                graph_api_version=text("BZ_GRAPH_API_VERSION") or "v23.0",
                app_secret=text("BZ_CLOUD_APP_SECRET"),
                test_app_secret=text("BZ_CLOUD_TEST_APP_SECRET") or CLOUD_TEST_APP_SECRET_DEFAULT,
                verify_token=text("BZ_CLOUD_VERIFY_TOKEN"),
                live_graph_url=text("BZ_GRAPH_URL") or "https://graph.facebook.com",
            ),
            queue_urls={name: url for name, url in environ.items() if name.startswith(QUEUE_URL_PREFIX) and url},
        )

    def table(self, logical: str) -> str:
        return physical_name(self.stage, logical)

    def queue(self, logical: str, fifo: bool) -> str:
        return physical_name(self.stage, logical) + (".fifo" if fifo else "")

    def bucket(self, logical: str) -> str:
        return physical_name(self.stage, logical)

    @property
    def bus(self) -> str:
        return physical_name(self.stage, "events")

    def queue_url(self, physical_name: str) -> str | None:
        """The URL the CDK app gave for this queue, if any (else the caller asks SQS)."""
        return self.queue_urls.get(queue_url_variable(physical_name))


@cache
def settings() -> Settings:
    return Settings.from_environ(os.environ)


def reset_settings() -> None:
    """Read the environment again at the next `settings()`: after this process changed its own environment."""
    settings.cache_clear()
