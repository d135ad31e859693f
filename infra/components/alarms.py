"""Alarms (every DLQ, every function, the workers, the API) to one encrypted SNS topic, and the dashboard.

Metrics are addressed by the resources' physical names (all derived from the stage), so this stack
holds no reference into the others but the HTTP API's id.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from bzapper.topology import SHARD_COUNT, Topology, shard_queue_name
from infra.components.bus import rule_spec
from infra.config import InfraConfig

FIVE_MINUTES = Duration.minutes(5)
SHARD_BACKLOG_AGE_SECONDS = 300
"""A job older than this on a shard queue means no worker is taking it: workers are down or stuck."""


def _queue_name(config: InfraConfig, logical: str, fifo: bool) -> str:
    return config.name(logical) + (".fifo" if fifo else "")


def dead_letter_queue_names(config: InfraConfig, topology: Topology) -> list[str]:
    names = [_queue_name(config, queue.dlq_name, queue.fifo) for queue in topology.queues]
    names += [config.name(rule_spec(rule).dlq_name) for rule in topology.rules]
    return names


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        topology: Topology,
        function_groups: tuple[str, ...],
        api_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "TopicKey",
            alias=f"alias/{config.name('alarms')}",
            description=f"bzapper {config.stage}: encrypts the alarm topic",
            enable_key_rotation=True,
        )
        # CloudWatch publishes to an encrypted topic only if the key lets it.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "Topic", topic_name=config.name("alarms"), master_key=key, enforce_ssl=True, display_name="bzapper"
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(name: str, metric: cloudwatch.IMetric, description: str, **props: object) -> None:
            created = cloudwatch.Alarm(
                self,
                name,
                alarm_name=config.name(name),
                alarm_description=description,
                metric=metric,
                **{
                    "evaluation_periods": 1,
                    "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
                    "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    **props,
                },
            )
            created.add_alarm_action(action)
            created.add_ok_action(action)
            self.alarms[name] = created

        for dlq in dead_letter_queue_names(config, topology):
            alarm(
                f"dlq-{dlq.removeprefix(config.name('')).removesuffix('.fifo')}",
                self.queue_metric(dlq, "ApproximateNumberOfMessagesVisible", "Maximum"),
                f"{dlq} holds messages that failed every retry: inspect, fix, then redrive.",
                threshold=1,
            )
        for group in function_groups:
            alarm(
                f"fn-{group}-errors",
                self.function_metric(config.name(group), "Errors"),
                f"The {group} function failed (an unhandled error, a timeout or a crash).",
                threshold=1,
            )
            alarm(
                f"fn-{group}-throttles",
                self.function_metric(config.name(group), "Throttles"),
                f"The {group} function was throttled: the account's concurrency is exhausted.",
                threshold=1,
            )
        # Worker health: enough tasks running, memory under control, and shards drained.
        cluster, service = config.name("sessions"), config.name("worker")
        alarm(
            "worker-running-tasks",
            self.worker_metric(cluster, service, "RunningTaskCount", "Minimum"),
            "Fewer session workers are running than the minimum: sessions are not being served.",
            threshold=config.worker_min_tasks,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            evaluation_periods=2,
        )
        alarm(
            "worker-memory",
            self.worker_metric(cluster, service, "MemoryUtilized", "Maximum"),
            "A session worker is close to its memory limit.",
            threshold=int(config.worker_memory_mib * 0.85),
            evaluation_periods=3,
        )
        for shard in range(SHARD_COUNT):
            queue = next(q for q in topology.queues if q.name == shard_queue_name(shard))
            name = _queue_name(config, queue.name, queue.fifo)
            alarm(
                f"{queue.name}-backlog-age",
                self.queue_metric(name, "ApproximateAgeOfOldestMessage", "Maximum"),
                f"Jobs wait on {name} for more than {SHARD_BACKLOG_AGE_SECONDS} s: no worker is taking them.",
                threshold=SHARD_BACKLOG_AGE_SECONDS,
                evaluation_periods=2,
            )
        alarm(
            "api-5xx",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5xx",
                dimensions_map={"ApiId": api_id, "Stage": "$default"},
                statistic="Sum",
                period=FIVE_MINUTES,
            ),
            "The API answered 5xx (an internal error or an integration failure).",
            threshold=5,
        )

        queue_names = [_queue_name(config, queue.name, queue.fifo) for queue in topology.queues]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=config.name("overview"))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    cloudwatch.Metric(
                        namespace="AWS/ApiGateway",
                        metric_name=name,
                        dimensions_map={"ApiId": api_id, "Stage": "$default"},
                        statistic="Sum",
                        period=Duration.minutes(1),
                    )
                    for name in ("Count", "4xx", "5xx")
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p50, p99)",
                left=[
                    cloudwatch.Metric(
                        namespace="AWS/ApiGateway",
                        metric_name="Latency",
                        dimensions_map={"ApiId": api_id, "Stage": "$default"},
                        statistic=statistic,
                        period=Duration.minutes(1),
                    )
                    for statistic in ("p50", "p99")
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[self.function_metric(config.name(group), "Errors") for group in function_groups],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function duration (p99)",
                left=[
                    self.function_metric(config.name(group), "Duration", "p99", Duration.minutes(1))
                    for group in function_groups
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Queue depth",
                left=[self.queue_metric(name, "ApproximateNumberOfMessagesVisible", "Maximum") for name in queue_names],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Oldest message age (s)",
                left=[self.queue_metric(name, "ApproximateAgeOfOldestMessage", "Maximum") for name in queue_names],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues",
                left=[
                    self.queue_metric(name, "ApproximateNumberOfMessagesVisible", "Maximum")
                    for name in dead_letter_queue_names(config, topology)
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Session workers",
                left=[self.worker_metric(cluster, service, "RunningTaskCount", "Average")],
                right=[
                    self.worker_metric(cluster, service, "CpuUtilized", "Average"),
                    self.worker_metric(cluster, service, "MemoryUtilized", "Average"),
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24),
        )

    @staticmethod
    def queue_metric(queue_name: str, metric: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/SQS",
            metric_name=metric,
            dimensions_map={"QueueName": queue_name},
            statistic=statistic,
            period=FIVE_MINUTES,
        )

    @staticmethod
    def function_metric(
        function_name: str, metric: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=metric,
            dimensions_map={"FunctionName": function_name},
            statistic=statistic,
            period=period,
        )

    @staticmethod
    def worker_metric(cluster: str, service: str, metric: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=metric,
            dimensions_map={"ClusterName": cluster, "ServiceName": service},
            statistic=statistic,
            period=Duration.minutes(1),
        )
