"""The session workers: a Fargate service (linux/arm64) from worker/Dockerfile, autoscaled, with the session store.

The session store is an encrypted EFS file system mounted through an access point (IAM-authorized,
TLS in transit): the engines keep one sqlite store per instance there, so a replaced task picks its
instances' sessions back up without a new QR scan.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import bundling
from infra.access import ACCESS, WORKER
from infra.components import nag
from infra.components.logs import log_group
from infra.components.permissions import Resources, grant
from infra.config import InfraConfig

SESSION_DIR = "/var/lib/bzapper/sessions"
WORKER_UID = "10001"
"""The image's `bzapper` user (worker/Dockerfile); the access point writes as it."""


class SessionStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            file_system_name=config.name("sessions"),
            encrypted=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            enable_automatic_backups=config.protected,
            removal_policy=RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY,
        )
        self.access_point = self.file_system.add_access_point(
            "Sessions",
            path="/sessions",
            create_acl=efs.Acl(owner_uid=WORKER_UID, owner_gid=WORKER_UID, permissions="750"),
            posix_user=efs.PosixUser(uid=WORKER_UID, gid=WORKER_UID),
        )


class WorkerService(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        vpc: ec2.IVpc,
        store: SessionStore,
        resources: Resources,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=config.name("sessions"),
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            family=config.name("worker"),
            cpu=config.worker_cpu,
            memory_limit_mib=config.worker_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            volumes=[
                ecs.Volume(
                    name="sessions",
                    efs_volume_configuration=ecs.EfsVolumeConfiguration(
                        file_system_id=store.file_system.file_system_id,
                        transit_encryption="ENABLED",
                        authorization_config=ecs.AuthorizationConfig(
                            access_point_id=store.access_point.access_point_id, iam="ENABLED"
                        ),
                    ),
                )
            ],
        )
        task_role = self.task_definition.task_role
        environment = {
            "BZ_STAGE": config.stage,
            "AWS_REGION": Stack.of(self).region,
            "BZ_SESSION_DIR": SESSION_DIR,
            "NEONIZE_BOT_TAG": "off",
            **({"BZ_SANDBOX_URL": config.sandbox_url} if config.sandbox_url else {}),
            **grant(task_role, ACCESS[WORKER], resources),
        }
        self.log_group = log_group(self, "Logs", config=config, name=f"/ecs/{config.name('worker')}")
        self.container = self.task_definition.add_container(
            "worker",
            # Staged without Docker at synth; `cdk deploy` builds it (Docker or Finch on the deployer's machine).
            image=ecs.ContainerImage.from_asset(
                str(bundling.worker_context()),
                file="worker/Dockerfile",
                platform=ecr_assets.Platform.LINUX_ARM64,
            ),
            logging=ecs.LogDriver.aws_logs(stream_prefix="worker", log_group=self.log_group),
            environment=environment,
            stop_timeout=Duration.seconds(30),
            essential=True,
        )
        self.container.add_mount_points(
            ecs.MountPoint(container_path=SESSION_DIR, source_volume="sessions", read_only=False)
        )
        store.file_system.grant(task_role, "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="bzapper session workers: no inbound; outbound to WhatsApp and AWS",
            allow_all_outbound=True,
        )
        store.file_system.connections.allow_default_port_from(self.security_group, "workers mount the session store")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            service_name=config.name("worker"),
            task_definition=self.task_definition,
            desired_count=config.worker_min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            enable_execute_command=False,
        )
        scaling = self.service.auto_scale_task_count(
            min_capacity=config.worker_min_tasks, max_capacity=config.worker_max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=60,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(1),
        )
        scaling.scale_on_memory_utilization(
            "Memory",
            target_utilization_percent=70,
            scale_in_cooldown=Duration.minutes(10),
            scale_out_cooldown=Duration.minutes(1),
        )
        nag.acknowledge(self.task_definition, "AwsSolutions-ECS2")
        # The execution role pulls the image: ecr:GetAuthorizationToken has no resource but `*`.
        nag.acknowledge(self.task_definition, "AwsSolutions-IAM5", "Resource::*")

    @property
    def task_role(self) -> iam.IRole:
        return self.task_definition.task_role
