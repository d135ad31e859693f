"""Log groups with a bounded retention (CloudWatch accepts only certain numbers of days)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import InfraConfig

_RETENTION = (
    (1, logs.RetentionDays.ONE_DAY),
    (3, logs.RetentionDays.THREE_DAYS),
    (5, logs.RetentionDays.FIVE_DAYS),
    (7, logs.RetentionDays.ONE_WEEK),
    (14, logs.RetentionDays.TWO_WEEKS),
    (30, logs.RetentionDays.ONE_MONTH),
    (60, logs.RetentionDays.TWO_MONTHS),
    (90, logs.RetentionDays.THREE_MONTHS),
    (180, logs.RetentionDays.SIX_MONTHS),
    (365, logs.RetentionDays.ONE_YEAR),
    (731, logs.RetentionDays.TWO_YEARS),
)


def retention(days: int) -> logs.RetentionDays:
    """The shortest retention CloudWatch offers that keeps at least `days` days."""
    return next((value for limit, value in _RETENTION if days <= limit), logs.RetentionDays.TWO_YEARS)


def log_group(scope: Construct, construct_id: str, *, config: InfraConfig, name: str | None = None) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=retention(config.log_retention_days),
        removal_policy=RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY,
    )
