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
from infra.config import LAYER_PLACEHOLDER, InfraConfig

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
"""Every functions/<group>/handler.py exposes `handler`."""


class Layers(Construct):
    """The runtime dependencies (pip, cached by pyproject's hash) and the `bzapper` package, as two layers.

    Two layers because they change at different paces: the dependencies rarely (their asset is reused
    deploy after deploy), the core package on every commit (a small upload).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig) -> None:
        super().__init__(scope, construct_id)
        placeholder = config.layer_mode == LAYER_PLACEHOLDER
        common = {
            "compatible_runtimes": [RUNTIME],
            "compatible_architectures": [ARCHITECTURE],
        }
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(bundling.dependencies_layer(placeholder=placeholder))),
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

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.core]


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
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = group
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
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(bundling.ROOT / "functions" / group), exclude=bundling.FUNCTION_ASSET_EXCLUDES
            ),
            layers=layers.all,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_mib,
            environment_encryption=environment_key,
            environment={
                "BZ_STAGE": config.stage,
                "POWERTOOLS_SERVICE_NAME": "bzapper",
                "POWERTOOLS_METRICS_NAMESPACE": "bzapper",
                **({"BZ_SANDBOX_URL": config.sandbox_url} if config.sandbox_url else {}),
                **(environment or {}),
            },
        )
        nag.acknowledge(self.function, "AwsSolutions-L1")
        # Tracing adds xray:PutTraceSegments/PutTelemetryRecords, which accept no resource but `*`.
        nag.acknowledge(self.role, "AwsSolutions-IAM5", "Resource::*")

    def add_environment(self, environment: dict[str, str]) -> None:
        for key, value in environment.items():
            self.function.add_environment(key, value)
