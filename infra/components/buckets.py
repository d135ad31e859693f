"""The topology's S3 buckets (media): private, encrypted, TLS-only, expiring, with server access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from bzapper.domain.media import UPLOADS_PREFIX
from infra.config import InfraConfig


class Buckets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, names: tuple[str, ...]) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY
        self.buckets: dict[str, s3.Bucket] = {}
        if not names:
            return
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption S3 server access logging accepts
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(max(config.log_retention_days, 1)))
            ],
            removal_policy=removal,
        )
        for name in names:
            # The runtime derives the name from the stage (bzapper.config.Settings.bucket): keep them equal.
            self.buckets[name] = s3.Bucket(
                self,
                name,
                bucket_name=config.name(name),
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.S3_MANAGED,
                enforce_ssl=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                versioned=False,
                server_access_logs_bucket=self.access_logs,
                server_access_logs_prefix=f"{name}/",
                # The console reads a received photo through GET /media/{id}'s pre-signed URL (fetch, to show it).
                # Any origin, GET only and no credentials: the pre-signed URL is the whole credential, and naming
                # the console's origin here would make the data stack depend on the api stack (a cycle).
                cors=[
                    s3.CorsRule(
                        allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                        allowed_origins=["*"],
                        max_age=3600,
                    )
                ],
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="expire-media",
                        expiration=Duration.days(config.media_expiry_days),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    ),
                    # A pre-signed upload never completed (POST /media/uploads) is not kept.
                    s3.LifecycleRule(
                        id="expire-unfinished-uploads", prefix=UPLOADS_PREFIX, expiration=Duration.days(1)
                    ),
                ],
                removal_policy=removal,
            )
