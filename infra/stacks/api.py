"""Compute: one Lambda per function group (API groups, queue consumers, schedules), the HTTP API in front.

The user pool's triggers are function groups too, built the same way, but in the identity stack beside the pool
that invokes them (infra/stacks/identity.py). Every API function is given the pool and its client, to verify
session tokens (offline, against the pool's public JWKS: the functions run outside any VPC, on Lambda's own
internet access).

Each function gets a role of its own with exactly what `infra/access.py` declares for its group, plus
its event source (an SQS mapping with partial batch failures) or its schedule (EventBridge Scheduler).
A streaming group's function (`Route.streaming`) also gets a response-streaming Function URL, output
as `<Group>Url` (`StreamUrl`): see infra/components/streaming.py.

The web console (its build in S3 behind CloudFront, output as `ConsoleUrl`) lives here too, unless
`bzapper:skipConsole`: see infra/components/console.py, and infra/components/cors.py for the CORS it gets.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, SecretValue, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from bzapper.topology import DEFAULT_GROUP, Consumer, Topology
from infra import access
from infra.components import console, cors, streaming
from infra.components.function import GroupFunction, Layers
from infra.components.http_api import HttpApi
from infra.components.identity import CLIENT_ENV, USER_POOL_ENV, mail_sender
from infra.components.permissions import Resources, grant
from infra.components.schedules import FunctionSchedule
from infra.config import InfraConfig
from infra.stacks.data import DataStack
from infra.stacks.identity import IdentityStack
from infra.stacks.messaging import MessagingStack

API_TIMEOUT = Duration.seconds(15)
"""Under API Gateway's 30 s integration limit, with room for one retried AWS call."""
API_MEMORY_MIB = 1024
"""FastAPI + pydantic cold starts roughly halve from 512 MB to 1 GB; arm64 keeps it cheap."""
WORKER_FUNCTION_MEMORY_MIB = 512


DLQ_VISIBILITY_TIMEOUT = 30
"""SQS's default, which the dead-letter queues keep (infra.components.queues)."""


def consumes_dead_letters(consumer: Consumer) -> bool:
    """A consumer of a queue's DLQ rather than of the queue itself (`Consumer.dead_letter`)."""
    return bool(getattr(consumer, "dead_letter", False))


def consumer_timeout(visibility_timeout: int) -> Duration:
    """Half the queue's visibility timeout: a batch never becomes visible again while still being processed."""
    return Duration.seconds(max(3, visibility_timeout // 2))


def schedule_timeout(every_seconds: int) -> Duration:
    """A run ends before the next one starts."""
    return Duration.seconds(max(10, min(every_seconds - 5, 900)))


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        topology: Topology,
        data: DataStack,
        messaging: MessagingStack,
        identity: IdentityStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        found = access.problems(topology)
        if found:
            raise ValueError("infra/access.py is out of step with the topology:\n  " + "\n  ".join(found))
        found = streaming.problems(topology)
        if found:
            raise ValueError("a streaming group cannot be served:\n  " + "\n  ".join(found))
        # Checked first: a missing console build fails the synth before anything is built.
        console_dist = None if config.skip_console else console.built(config)
        resources = Resources(
            tables=data.tables,
            queues=messaging.addressable_queues,
            bus=messaging.bus,
            buckets=data.buckets,
            otp_key=data.otp_key,
            user_pool=identity.user_pool,
            mail=mail_sender(self, config),
        )
        # Every function behind the API authenticates requests, and may be given a session token.
        session_env = {USER_POOL_ENV: identity.user_pool.user_pool_id, CLIENT_ENV: identity.client.user_pool_client_id}
        streaming_groups = set(topology.streaming_groups)
        layers = Layers(self, "Layers", config=config, streaming=bool(streaming_groups))
        api_groups = {*topology.api_groups, DEFAULT_GROUP}
        consumers = {consumer.group: consumer for consumer in topology.consumers}
        schedules = {schedule.group: schedule for schedule in topology.schedules}
        triggers = {trigger.group for trigger in topology.triggers}

        secrets_key = self._secrets_key(config, topology)
        self.functions: dict[str, GroupFunction] = {}
        for group in access.function_groups(topology):
            if group in triggers:
                continue  # built by the identity stack, beside the pool
            entry = access.ACCESS[group]
            if group in streaming_groups:
                description = f"HTTP routes of the {group} group, streamed through its Function URL"
                timeout, memory = streaming.TIMEOUT, streaming.MEMORY_MIB
            elif group in api_groups:
                description, timeout, memory = f"HTTP routes of the {group} group", API_TIMEOUT, API_MEMORY_MIB
            elif group in consumers:
                consumer = consumers[group]
                queue = topology.queue(consumer.queue)
                if consumes_dead_letters(consumer):
                    description = f"Consumer of the {queue.name} dead-letter queue"
                    visibility = DLQ_VISIBILITY_TIMEOUT
                else:
                    description, visibility = f"Consumer of the {queue.name} queue", queue.visibility_timeout
                timeout, memory = consumer_timeout(visibility), WORKER_FUNCTION_MEMORY_MIB
            else:
                every = schedules[group].every_seconds
                description = f"Runs every {every} s"
                timeout, memory = schedule_timeout(every), WORKER_FUNCTION_MEMORY_MIB
            function = GroupFunction(
                self,
                f"Fn-{group}",
                config=config,
                group=group,
                description=f"bzapper {config.stage}: {description}",
                layers=layers,
                timeout=timeout,
                memory_mib=memory,
                environment={**(session_env if group in api_groups else {}), **self._secret_env(config, entry)},
                environment_key=secrets_key if entry.secrets else None,
                streaming=group in streaming_groups,
                reserved_concurrency=config.stream_concurrency if group in streaming_groups else None,
            )
            function.add_environment(grant(function.role, entry, resources))
            self.functions[group] = function

        self.http = HttpApi(
            self,
            "Http",
            config=config,
            routes=topology.routes,
            functions={group: self.functions[group].function for group in sorted(api_groups)},
            default_group=DEFAULT_GROUP,
        )

        # The HTTP API above keeps the streaming routes, but cannot relay a stream: clients use this URL.
        self.streaming_urls: dict[str, streaming.StreamingUrl] = {}
        for group in topology.streaming_groups:
            url = streaming.StreamingUrl(self, f"Streaming-{group}", function=self.functions[group].function)
            served = ", ".join(f"{r.method} {r.path}" for r in topology.routes if r.group == group)
            CfnOutput(
                self,
                streaming.output_id(group),
                value=url.url,
                description=f"Base URL of {served}, streamed (the API's URL buffers them)",
            )
            self.streaming_urls[group] = url

        # The web console (S3, CloudFront) sits here, beside what it calls: its config.json (and, with a console
        # domain, its policy) names the API's and the stream's URLs, and their CORS names its origin. In a stack of
        # its own, each stack would need the other's outputs: a cycle CloudFormation refuses.
        self.console: console.ConsoleSite | None = None
        self.console_content: console.ConsoleContent | None = None
        if console_dist:
            # Where the console calls the API: its own domain when it has one (mapped by hand, docs/deploy.md).
            api_url = cors.origin(config.api_domain) if config.api_domain else self.http.api.api_endpoint
            stream_urls = {group: console.url_origin(url.url) for group, url in self.streaming_urls.items()}
            self.console = console.ConsoleSite(
                self,
                "Console",
                config=config,
                connect_sources=console.connect_sources(
                    config,
                    api=api_url,
                    streams=list(stream_urls.values()),
                    # The names the runtime derives from the stage (Buckets names them so): no cross-stack import.
                    media_buckets=[config.name(bucket) for bucket in topology.buckets],
                ),
            )
            self.http.allow_cors(cors.http_api(self.console.origin, topology.routes))
            for group, url in self.streaming_urls.items():
                url.allow_cors(cors.function_url(self.console.origin, [r for r in topology.routes if r.group == group]))
            self.console_content = console.ConsoleContent(
                self,
                "ConsoleContent",
                config=config,
                site=self.console,
                dist=console_dist,
                console_settings=console.settings(api=api_url, streams=stream_urls),
            )

        for consumer in topology.consumers:
            # Partial batch failures: only the failed records come back (and reach the DLQ after
            # max_receive_count); on a FIFO queue the rest of a failed record's group waits with it.
            self.functions[consumer.group].function.add_event_source(
                event_sources.SqsEventSource(
                    (messaging.dead_letter_queues if consumes_dead_letters(consumer) else messaging.queues)[
                        consumer.queue
                    ],
                    batch_size=consumer.batch_size,
                    report_batch_item_failures=True,
                )
            )

        self.schedules: dict[str, FunctionSchedule] = {
            spec.group: FunctionSchedule(
                self, f"Schedule-{spec.group}", config=config, spec=spec, function=self.functions[spec.group].function
            )
            for spec in topology.schedules
        }

    def _secrets_key(self, config: InfraConfig, topology: Topology) -> kms.Key | None:
        """A customer-managed key for the environment of the functions that carry the Stripe or Meta secrets."""
        groups = access.function_groups(topology)
        if not any(self._secret_env(config, access.ACCESS[group]) for group in groups):
            return None
        return kms.Key(
            self,
            "SecretsKey",
            alias=f"alias/{config.name('function-secrets')}",
            description=f"bzapper {config.stage}: encrypts the environment of the functions holding payment secrets",
            enable_key_rotation=True,
        )

    @staticmethod
    def _secret_env(config: InfraConfig, entry: access.Access) -> dict[str, str]:
        """Stripe's keys and the Meta app's secret, resolved by CloudFormation from Secrets Manager at deploy time
        (never in the template)."""
        found = {}
        for name in entry.secrets:
            if name in access.STRIPE_SECRET_FIELDS and config.stripe_secret_name:
                secret, field = config.stripe_secret_name, access.STRIPE_SECRET_FIELDS[name]
            elif name in access.CLOUD_SECRET_FIELDS and config.cloud_secret_name:
                secret, field = config.cloud_secret_name, access.CLOUD_SECRET_FIELDS[name]
            else:
                continue
            found[name] = SecretValue.secrets_manager(secret, json_field=field).unsafe_unwrap()
        return found
