"""Queues: every one has a dead-letter queue with the topology's redrive, encryption and TLS; the bus is archived."""

from __future__ import annotations

import pytest
from support.cdk import Synth

from bzapper.topology import TOPOLOGY

pytestmark = pytest.mark.xdist_group("infra")


def queues_by_name(synth: Synth) -> dict[str, tuple[str, dict]]:
    return {q["Properties"]["QueueName"]: (key, q) for key, q in synth.resources("AWS::SQS::Queue").items()}


def dlq_ids(synth: Synth) -> set[str]:
    """Queues that are some redrive policy's target, or some EventBridge target's or schedule's DLQ."""
    found = set()
    for queue in synth.resources("AWS::SQS::Queue").values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            found.add(synth.target(redrive["deadLetterTargetArn"]))
    for rule in synth.resources("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            if "DeadLetterConfig" in target:
                found.add(synth.target(target["DeadLetterConfig"]["Arn"]))
    return found


def test_every_queue_has_a_dead_letter_queue(synth: Synth) -> None:
    dlqs = dlq_ids(synth)
    for logical_id, queue in synth.resources("AWS::SQS::Queue").items():
        if logical_id in dlqs:
            continue
        redrive = queue["Properties"].get("RedrivePolicy")
        assert redrive, f"{queue['Properties']['QueueName']} has no dead-letter queue"


def test_redrive_follows_the_topology(synth: Synth) -> None:
    queues = queues_by_name(synth)
    for spec in TOPOLOGY.queues:
        _, queue = queues[synth.config.name(spec.name) + spec.physical_suffix]
        props = queue["Properties"]
        assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
        assert props["VisibilityTimeout"] == spec.visibility_timeout
        assert props.get("FifoQueue", False) is spec.fifo
        dlq_id, dlq = queues[synth.config.name(spec.dlq_name) + spec.physical_suffix]
        assert synth.target(props["RedrivePolicy"]["deadLetterTargetArn"]) == dlq_id
        assert dlq["Properties"].get("FifoQueue", False) is spec.fifo
        assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_queues_are_encrypted_and_tls_only(synth: Synth) -> None:
    policies = [p["Properties"] for p in synth.resources("AWS::SQS::QueuePolicy").values()]
    for logical_id, queue in synth.resources("AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        tls = [
            statement
            for policy in policies
            if any(synth.target(ref) == logical_id for ref in policy["Queues"])
            for statement in policy["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert tls, f"{logical_id} accepts plain HTTP"


def test_bus_is_named_for_the_stage_and_archived(synth: Synth) -> None:
    (bus_id, bus), *_ = synth.resources("AWS::Events::EventBus").items()
    assert bus["Properties"]["Name"] == synth.config.name(TOPOLOGY.bus)
    (archive,) = synth.resources("AWS::Events::Archive").values()
    assert synth.target(archive["Properties"]["SourceArn"]) == bus_id
    assert archive["Properties"]["RetentionDays"] >= 7


def test_topology_rules_have_a_retry_policy_and_a_dlq(synth: Synth) -> None:
    from infra.components.bus import rule_spec

    rules = {r["Properties"]["Name"]: r["Properties"] for r in synth.resources("AWS::Events::Rule").values()}
    assert len(rules) == len(TOPOLOGY.rules)
    for rule in TOPOLOGY.rules:
        spec = rule_spec(rule)
        (target,) = rules[synth.config.name(spec.name)]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == spec.retry_attempts
        assert "DeadLetterConfig" in target


def test_rules_deliver_to_their_queue_with_retries_and_a_dlq(tmp_path) -> None:
    """The rule path, on a topology that declares rules (whatever the committed topology holds today)."""
    import dataclasses

    from aws_cdk import App, Validations
    from cdk_nag import AwsSolutionsChecks
    from support.cdk import cdk_context

    from bzapper.topology import Queue
    from infra.components.bus import DEFAULT_RULE_RETRIES
    from infra.config import InfraConfig
    from infra.stacks.messaging import MessagingStack

    @dataclasses.dataclass(frozen=True)
    class Rule:
        name: str
        queue: str
        source: str = "bzapper"

    topology = dataclasses.replace(
        TOPOLOGY,
        queues=(*TOPOLOGY.queues, Queue("rule-target")),
        rules=(Rule("to-target", "rule-target"),),
    )
    app = App(outdir=str(tmp_path), context=cdk_context(stage="dev"))
    stack = MessagingStack(app, "Rules", config=InfraConfig.from_context(app.node), topology=topology)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    resources = template["Resources"]
    (rule,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert rule["Name"] == "bzapper-dev-to-target"
    assert rule["EventPattern"] == {"source": ["bzapper"]}
    (target,) = rule["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": DEFAULT_RULE_RETRIES, "MaximumEventAgeInSeconds": 86400}
    target_queue = resources[target["Arn"]["Fn::GetAtt"][0]]["Properties"]
    dlq = resources[target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]]["Properties"]
    assert target_queue["QueueName"] == "bzapper-dev-rule-target"
    assert dlq["QueueName"] == "bzapper-dev-rule-to-target-dlq"


def test_send_job_queues_have_the_short_visibility_the_workers_heartbeat_extends(synth: Synth) -> None:
    """A dead worker's jobs (and the number each blocks) come back after the queue's visibility timeout: it is
    short, and a live worker's heartbeat renews its jobs in hand well before it runs out (docs/sessions.md)."""
    from bzapper.topology import JOB_VISIBILITY_SECONDS, SHARD_COUNT, priority_queue_name, shard_queue_name
    from bzapper.worker.visibility import HEARTBEAT_SECONDS, RENEW_WITHIN_SECONDS

    queues = queues_by_name(synth)
    for shard in range(SHARD_COUNT):
        for name in (shard_queue_name(shard), priority_queue_name(shard)):
            _, queue = queues[synth.config.name(name) + ".fifo"]
            assert queue["Properties"]["VisibilityTimeout"] == JOB_VISIBILITY_SECONDS
    assert JOB_VISIBILITY_SECONDS <= 10
    assert 2 * HEARTBEAT_SECONDS <= RENEW_WITHIN_SECONDS < JOB_VISIBILITY_SECONDS
