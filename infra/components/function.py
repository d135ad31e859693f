"""One Lambda function per group: arm64, Python 3.12, the shared layers, JSON logs, its own role and log group."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling
from infra.components import nag
from infra.components.logs import log_group
from infra.components.streaming import ENVIRONMENT as STREAMING_ENVIRONMENT
from infra.components.streaming import HANDLER as STREAMING_HANDLER
from infra.components.streaming import web_adapter_layer_arn
from infra.config import LAYER_PLACEHOLDER, InfraConfig

RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, "PYTHON_" + bundling.LAMBDA_PYTHON.replace(".", "_"))
"""The runtime whose Python compiled the layers' bytecode: one constant, bundling.LAMBDA_PYTHON."""
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
"""Every functions/<group>/handler.py exposes `handler`."""


class Layers(Construct):
    """The runtime dependencies (pip, cached by pyproject's hash) and the `bzapper` package, as two layers.

    Two layers because they change at different paces: the dependencies rarely (their asset is reused
    deploy after deploy), the core package on every commit (a small upload).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, streaming: bool = False) -> None:
        """`streaming`: also the layers of the streaming functions (uvicorn, the Lambda Web Adapter)."""
        super().__init__(scope, construct_id)
        placeholder = config.layer_mode == LAYER_PLACEHOLDER
        common = {
            "compatible_runtimes": [RUNTIME],
            "compatible_architectures": [ARCHITECTURE],
        }
        dependencies = bundling.dependencies_layer(placeholder=placeholder)
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(dependencies)),
            description="bzapper runtime dependencies (pyproject [project].dependencies), linux arm64 cp312",
            **common,
        )
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            code=lambda_.Code.from_asset(str(bundling.core_layer())),
            description="bzapper core package (layers/core/bzapper)",
            **common,
        )
        self.streaming: list[lambda_.ILayerVersion] = []
        if streaming:
            server = lambda_.LayerVersion(
                self,
                "Server",
                code=lambda_.Code.from_asset(str(bundling.server_layer(dependencies, placeholder=placeholder))),
                description="bzapper streaming functions: uvicorn (pyproject's streaming extra), linux arm64 cp312",
                **common,
            )
            adapter = lambda_.LayerVersion.from_layer_version_arn(
                self, "WebAdapter", web_adapter_layer_arn(self, config.web_adapter_layer_version)
            )
            self.streaming = [server, adapter]

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.core]

    def of(self, *, streaming: bool) -> list[lambda_.ILayerVersion]:
        if streaming and not self.streaming:
            raise ValueError("a streaming function needs Layers(..., streaming=True)")
        return [*self.all, *(self.streaming if streaming else ())]


class GroupFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        group: str,
        description: str,
        layers: Layers,
        timeout: Duration,
        memory_mib: int,
        environment: dict[str, str] | None = None,
        environment_key: kms.IKey | None = None,
        streaming: bool = False,
        reserved_concurrency: int | None = None,
    ) -> None:
        """`streaming`: served by uvicorn behind the Lambda Web Adapter (`infra/components/streaming.py`)."""
        super().__init__(scope, construct_id)
        self.group = group
        self.streaming = is_streaming = streaming
        self.function_name = config.name(group)
        self.log_group = log_group(self, "Logs", config=config, name=f"/aws/lambda/{self.function_name}")
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"bzapper {config.stage} {group} function: only what infra/access.py grants it",
        )
        # Its own log group only, instead of AWSLambdaBasicExecutionRole's logs:* on every group.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=STREAMING_HANDLER if is_streaming else HANDLER,
            # Staged with its bytecode (no exclude: the staged __pycache__ is the build's own, not a stale one).
            code=lambda_.Code.from_asset(str(bundling.function_asset(group))),
            layers=layers.of(streaming=is_streaming),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_mib,
            reserved_concurrent_executions=reserved_concurrency,
            environment_encryption=environment_key,
            environment={
                "BZ_STAGE": config.stage,
                "POWERTOOLS_SERVICE_NAME": "bzapper",
                "POWERTOOLS_METRICS_NAMESPACE": "bzapper",
                **({"BZ_SANDBOX_URL": config.sandbox_url} if config.sandbox_url else {}),
                **(STREAMING_ENVIRONMENT if is_streaming else {}),
                **(environment or {}),
            },
        )
        nag.acknowledge(self.function, "AwsSolutions-L1")
        # Tracing adds xray:PutTraceSegments/PutTelemetryRecords, which accept no resource but `*`.
        nag.acknowledge(self.role, "AwsSolutions-IAM5", "Resource::*")

    def add_environment(self, environment: dict[str, str]) -> None:
        for key, value in environment.items():
            self.function.add_environment(key, value)
