"""Turns an `infra.access.Access` entry into IAM statements on one role, and into the env the code reads."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from bzapper.adapters.sealing import KMS_KEY_ENV, PURPOSE
from infra.access import OTP_KEY_ACTIONS, Access
from infra.components import nag
from infra.components.identity import MAIL_FROM_ENV, MailSender

SEND_ACTIONS = ("sqs:SendMessage",)
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)


def queue_url_env_key(physical_name: str) -> str:
    """The variable `bzapper.adapters.aws.clients.queue_url` reads before asking SQS for the URL."""
    return "BZ_QUEUE_URL_" + physical_name.upper().replace("-", "_").replace(".", "_")


@dataclass
class Resources:
    """The deployed resources an access entry refers to, by their topology names."""

    tables: dict[str, dynamodb.Table]
    queues: dict[str, sqs.Queue]
    bus: events.IEventBus
    buckets: dict[str, s3.IBucket]
    otp_key: kms.IKey | None = None
    """The OTP sealing key (DataStack): needed by the entries that declare `otp_key`."""
    user_pool: cognito.IUserPool | None = None
    """The console users' pool (IdentityStack): needed by the entries that declare `user_pool`."""
    mail: MailSender | None = None
    """The stage's verified SES sender, if it has one: the entries with `send_email` may send as it."""


def grant(role: iam.IRole, access: Access, resources: Resources) -> dict[str, str]:
    """Adds the entry's statements to `role`; returns the environment (queue URLs) the code needs."""
    statements: list[iam.PolicyStatement] = []
    for table_access in access.tables:
        table = resources.tables[table_access.table]
        if table_access.actions:
            statements.append(
                iam.PolicyStatement(
                    actions=[f"dynamodb:{action}" for action in table_access.actions],
                    resources=[table.table_arn],
                )
            )
        if table_access.query_indexes:
            statements.append(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[f"{table.table_arn}/index/{index}" for index in table_access.query_indexes],
                )
            )
    if access.send:
        statements.append(
            iam.PolicyStatement(
                actions=list(SEND_ACTIONS), resources=[resources.queues[name].queue_arn for name in access.send]
            )
        )
    if access.consume:
        statements.append(
            iam.PolicyStatement(
                actions=list(CONSUME_ACTIONS), resources=[resources.queues[name].queue_arn for name in access.consume]
            )
        )
    if access.publish_events:
        statements.append(iam.PolicyStatement(actions=["events:PutEvents"], resources=[resources.bus.event_bus_arn]))
    for bucket_name, actions in access.buckets:
        # The objects of that one bucket, by its literal name: keys are per account and file, unknown in
        # advance, so the resource ends in `/*`; acknowledged for exactly this ARN and nothing wider.
        physical = bucket_physical_name_of(resources.buckets[bucket_name])
        objects = f"arn:{Aws.PARTITION}:s3:::{physical}/*"
        statements.append(iam.PolicyStatement(actions=[f"s3:{action}" for action in actions], resources=[objects]))
        nag.acknowledge(
            role, "AwsSolutions-IAM5", f"Resource::arn:<AWS::Partition>:s3:::{physical}/*", reason_key="bucket-objects"
        )
    env = queue_env(access, resources)
    if access.otp_key:
        if resources.otp_key is None:
            raise ValueError("an entry uses the OTP key, but no key was given")
        # Only for sealing codes: the encryption context every OTP carries (bzapper.adapters.sealing).
        statements.append(
            iam.PolicyStatement(
                actions=list(OTP_KEY_ACTIONS[access.otp_key]),
                resources=[resources.otp_key.key_arn],
                conditions={"StringEquals": {"kms:EncryptionContext:purpose": PURPOSE}},
            )
        )
        env[KMS_KEY_ENV] = resources.otp_key.key_arn
    if access.user_pool:
        if resources.user_pool is None:
            raise ValueError("an entry uses the user pool, but no pool was given")
        statements.append(
            iam.PolicyStatement(actions=list(access.user_pool), resources=[resources.user_pool.user_pool_arn])
        )
    if access.send_email and resources.mail is not None:
        # As the stage's sender only: its identity (and its domain's, when that is the verified one), and only
        # with that From address. Without a sender nothing is granted, and the code sends nothing.
        statements.append(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=list(resources.mail.identity_arns),
                conditions={"StringEquals": {"ses:FromAddress": resources.mail.address}},
            )
        )
        env[MAIL_FROM_ENV] = resources.mail.address
    for statement in statements:
        role.add_to_principal_policy(statement)
    return env


def queue_env(access: Access, resources: Resources, extra: tuple[str, ...] = ()) -> dict[str, str]:
    env = {}
    for name in dict.fromkeys((*access.send, *access.consume, *extra)):
        queue = resources.queues[name]
        env[queue_url_env_key(queue_physical_name_of(queue))] = queue.queue_url
    return env


def bucket_physical_name_of(bucket: s3.IBucket) -> str:
    """The bucket's literal name (set by infra.components.buckets from the topology, never a token)."""
    name = bucket.node.default_child.bucket_name  # type: ignore[union-attr]
    if not isinstance(name, str):
        raise TypeError(f"bucket {bucket.node.path} has no literal name")
    return name


def queue_physical_name_of(queue: sqs.Queue) -> str:
    """The queue's literal name (set by infra.components.queues from the topology, never a token)."""
    name = queue.node.default_child.queue_name  # type: ignore[union-attr]
    if not isinstance(name, str):
        raise TypeError(f"queue {queue.node.path} has no literal name")
    return name
