"""The web console on AWS: its build (`console/dist`) in a private S3 bucket, served by CloudFront, no server of ours.

Locally, `bzapper dev` serves the same build at /console on the API's own origin (bzapper_dev.local.console). Here
the console has an origin of its own (the distribution's domain, or `bzapper:consoleDomain`), so:

- `config.json`, written at deploy time beside `index.html`, tells it where the API is (`apiBaseUrl`) and where
  the stream is (`streamBaseUrl`: the stream's Function URL, since the HTTP API cannot relay a stream);
- its Content-Security-Policy is the local one with those two origins added to `connect-src`
  (`content_security_policy`);
- the HTTP API and the Function URL allow its origin, and only it, by CORS (infra/components/cors.py).

The console calls the API and the API names the console (CORS): CloudFormation cannot have both name each other
exactly. The API's CORS needs the exact origin, so when that origin is CloudFront's generated domain the policy's
`connect-src` names the API and the stream by their AWS domains in the stage's region instead
(`https://*.execute-api.<region>.amazonaws.com`, `https://*.lambda-url.<region>.on.aws`). With a console domain
of our own, the origin is known at synth and the policy names the API and the stream exactly (`connect_sources`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnOutput, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import bundling
from infra.components import nag
from infra.components.cors import origin
from infra.components.logs import log_group
from infra.config import InfraConfig

CONTENT_SECURITY_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)
"""The local stack's policy (bzapper_dev.local.console.CONTENT_SECURITY_POLICY, which never ships: a test keeps
the two equal): everything from the console's own origin, nothing inline, nothing from a CDN."""
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
"""The local stack's `permissions-policy`: the console needs no camera, microphone or location."""
HSTS_MAX_AGE = Duration.days(730)
"""Two years, HSTS's usual value; the local stack has none (it is plain HTTP on the loopback)."""

ASSETS_PATTERN = "assets/*"
"""Vite's hashed files: a new build gives each changed file a new name, so they are cached for a year."""
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"
"""index.html and the other unhashed files: the browser revalidates them (an ETag) at every load."""
CONFIG_CACHE_CONTROL = "no-store"
"""config.json: never kept, so a new API URL reaches every browser at once (as on the local stack)."""
CONFIG_FILE = "config.json"
MODE = "aws"
"""config.json's `mode` (the local stack says `local`)."""
BOOTSTRAP_QUALIFIER = "@aws-cdk/core:bootstrapQualifier"
"""The context key naming `cdk bootstrap`'s qualifier, part of the asset bucket's name."""
BASIC_EXECUTION_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class ConsoleNotBuilt(ValueError):
    """The console's build folder is missing or holds no index.html."""


def built(config: InfraConfig) -> Path:
    """The console's build folder, checked: fails the synth with what to do when there is none."""
    folder = Path(config.console_dist)
    folder = folder if folder.is_absolute() else bundling.ROOT / folder
    if not (folder / "index.html").is_file():
        raise ConsoleNotBuilt(
            f"The web console is not built: {folder} has no index.html. Build it first (`make console`), or "
            "synthesize this stage without the console: -c bzapper:skipConsole=true"
        )
    return folder


def content_security_policy(connect_sources: list[str]) -> str:
    """The local policy, with `connect_sources` (the API's and the stream's origins) allowed in `connect-src`."""
    directives = [
        " ".join([directive, *connect_sources]) if directive.startswith("connect-src ") else directive
        for directive in CONTENT_SECURITY_POLICY
    ]
    return "; ".join(directives)


def url_origin(url: str) -> str:
    """`https://host` of an `https://host/…` URL token (a Function URL ends with `/`; an Origin never does)."""
    return Fn.join("", ["https://", Fn.select(2, Fn.split("/", url))])


def connect_sources(
    config: InfraConfig,
    *,
    api: str,
    streams: list[str],
    media_buckets: Sequence[str] = (),
) -> list[str]:
    """What the console may connect to besides its own origin: the API's and the streams' origins, and the media
    bucket's (GET /media/{id} redirects to a pre-signed URL on it, in both S3 host name forms boto3 signs).

    Exact when CloudFormation allows it, else the AWS domain of that kind of endpoint in the stage's region (why:
    the module's docstring). The API's own domain (`bzapper:apiDomain`) is always known, so always exact.
    """
    media = [
        source
        for bucket in media_buckets
        for source in (f"https://{bucket}.s3.{Aws.URL_SUFFIX}", f"https://{bucket}.s3.{Aws.REGION}.{Aws.URL_SUFFIX}")
    ]
    if config.console_domain:
        return [api, *streams, *media]
    api_source = api if config.api_domain else f"https://*.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
    return ([api_source, f"https://*.lambda-url.{Aws.REGION}.on.aws"] if streams else [api_source]) + media


def settings(*, api: str, streams: dict[str, str]) -> dict[str, str]:
    """config.json: the API's base URL, each streaming group's (`stream` → `streamBaseUrl`), and the mode."""
    found = {"apiBaseUrl": api}
    for group, url in streams.items():
        head, *rest = group.split("_")
        found[head + "".join(part.capitalize() for part in rest) + "BaseUrl"] = url
    return {**found, "mode": MODE}


class SecurityHeaders(Construct):
    """The local stack's security headers (bzapper_dev.local.console.SECURITY_HEADERS) plus HSTS, as a CloudFront
    response headers policy: CloudFront adds them itself, overriding whatever the bucket's objects would say."""

    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, connect_sources: list[str]) -> None:
        super().__init__(scope, construct_id)
        self.policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Policy",
            # CloudFront is global: the region keeps two stages of one name in one account apart.
            response_headers_policy_name=f"{config.name('console-headers')}-{Aws.REGION}",
            comment=f"bzapper {config.stage}: the web console's security headers (as bzapper dev sends them)",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(connect_sources), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True
                    )
                ]
            ),
        )


class ConsoleSite(Construct):
    """The private bucket, the distribution in front of it (Origin Access Control) and the security headers.

    `connect_sources`: the origins the console may call besides its own (`connect_sources()`); `origin` is then
    the one the API's CORS allows. Both cache behaviours answer with `SecurityHeaders`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, connect_sources: list[str]) -> None:
        super().__init__(scope, construct_id)
        # Only CloudFront reads it (OAC, signed requests) and only the deployment writes it. Its content is the
        # build, reproducible from git, so it goes with its stack, emptied first.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # what OAC reads without a KMS key policy
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        nag.acknowledge(self.bucket, "AwsSolutions-S1", reason_key="console-logs")

        self.headers = SecurityHeaders(self, "SecurityHeaders", config=config, connect_sources=connect_sources)

        bucket_origin = origins.S3BucketOrigin.with_origin_access_control(
            self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
        )
        behavior: dict[str, Any] = {
            "origin": bucket_origin,
            "viewer_protocol_policy": cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            "allowed_methods": cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            "compress": True,
            "response_headers_policy": self.headers.policy,
        }
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.console_certificate_arn)
            if config.console_certificate_arn
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"bzapper {config.stage}: the web console",
            # index.html, config.json and any other unhashed file: straight from the bucket, every time.
            default_behavior=cloudfront.BehaviorOptions(
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED, **behavior
            ),
            additional_behaviors={
                ASSETS_PATTERN: cloudfront.BehaviorOptions(
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED, **behavior
                )
            },
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # South America is only in the "all" class, and most of the console's users are in Brazil.
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            domain_names=[config.console_domain] if config.console_domain else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
        )
        # Access logs, WAF and geo restriction: see the reasons in infra/components/nag.py.
        nag.acknowledge(self.distribution, "AwsSolutions-CFR1")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR2")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR3", reason_key="console-logs")
        if certificate is None:
            nag.acknowledge(self.distribution, "AwsSolutions-CFR4")

        self.hostname = config.console_domain or self.distribution.distribution_domain_name
        self.origin = origin(self.hostname)
        """The console's origin: the only one the API's CORS allows."""
        # Outputs of the stack itself (`ConsoleUrl`), beside the API's `Url` and `StreamUrl`.
        stack = Stack.of(self)
        CfnOutput(stack, "ConsoleUrl", value=self.origin + "/", description="The web console")
        CfnOutput(
            stack,
            "ConsoleDistributionDomainName",
            value=self.distribution.distribution_domain_name,
            description="The console's CloudFront domain: the target of a custom domain's DNS record",
        )


class ConsoleContent(Construct):
    """The build and config.json, uploaded by CDK's BucketDeployment (a zip of the folder: no Docker)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        site: ConsoleSite,
        dist: Path,
        console_settings: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        common: dict[str, Any] = {
            "destination_bucket": site.bucket,
            "log_group": log_group(self, "DeploymentLogs", config=config),
        }
        uploads = []
        if (dist / "assets").is_dir():
            # Never pruned: a page loaded before a deployment may still ask for the previous build's files.
            uploads.append(
                s3deploy.BucketDeployment(
                    self,
                    "Assets",
                    sources=[s3deploy.Source.asset(str(dist / "assets"))],
                    destination_key_prefix="assets/",
                    cache_control=[s3deploy.CacheControl.from_string(ASSETS_CACHE_CONTROL)],
                    prune=False,
                    **common,
                )
            )
        # Written at deploy time: the URLs are known only then (the custom resource fills them in).
        uploads.append(
            s3deploy.BucketDeployment(
                self,
                "Config",
                sources=[s3deploy.Source.json_data(CONFIG_FILE, console_settings)],
                cache_control=[s3deploy.CacheControl.from_string(CONFIG_CACHE_CONTROL)],
                prune=False,
                **common,
            )
        )
        # index.html last, once what it loads is in place; what an older build had and this one lacks goes.
        pages = s3deploy.BucketDeployment(
            self,
            "Pages",
            sources=[s3deploy.Source.asset(str(dist), exclude=["assets", CONFIG_FILE])],
            exclude=[ASSETS_PATTERN, CONFIG_FILE],  # the other two deployments' files: never pruned from here
            cache_control=[s3deploy.CacheControl.from_string(PAGE_CACHE_CONTROL)],
            prune=True,
            **common,
        )
        for upload in uploads:
            pages.node.add_dependency(upload)
        self.deployments = [*uploads, pages]
        _acknowledge_deployment_handler(pages, site.bucket)


def _acknowledge_deployment_handler(deployment: s3deploy.BucketDeployment, bucket: s3.Bucket) -> None:
    """CDK's own grants to the deployment's handler (one singleton function for every deployment of the stack):
    each finding by name, so that anything else on it still fails the synth."""
    handler = deployment.handler_role.node.scope
    assert handler is not None
    stack = Stack.of(deployment)
    bucket_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    qualifier = deployment.node.try_get_context(BOOTSTRAP_QUALIFIER) or DefaultStackSynthesizer.DEFAULT_QUALIFIER
    nag.acknowledge(handler, "AwsSolutions-IAM4", f"Policy::{BASIC_EXECUTION_POLICY}", reason_key="bucket-deployment")
    for finding in (
        *(f"Action::s3:{action}" for action in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")),
        f"Resource::<{bucket_id}.Arn>/*",
        f"Resource::arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*",
    ):
        nag.acknowledge(handler, "AwsSolutions-IAM5", finding, reason_key="bucket-deployment")
    nag.acknowledge(handler, "AwsSolutions-L1", reason_key="bucket-deployment-runtime")
