"""Least privilege: each role holds exactly what infra/access.py declares, and no wildcard action anywhere."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from support.cdk import CDK_HANDLERS, Synth, consumed_queue

from bzapper.topology import TOPOLOGY
from infra import access

pytestmark = pytest.mark.xdist_group("infra")

NO_RESOURCE_LEVEL = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ecr:GetAuthorizationToken"}
"""Actions AWS documents with `*` as their only resource."""
DATA_TYPES = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::S3::Bucket"}


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def statements_of_role(synth: Synth, role_id: str) -> list[dict]:
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if any(synth.target(ref) == role_id for ref in policy["Properties"]["Roles"]):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    for inline in synth.resource(role_id)["Properties"].get("Policies", []):
        found += inline["PolicyDocument"]["Statement"]
    return found


def _literal_s3_arn(resource: Any) -> tuple[str, str] | None:
    """(bucket name, suffix) of `arn:${AWS::Partition}:s3:::<bucket><suffix>` (how bucket grants are written)."""
    if not (isinstance(resource, dict) and "Fn::Join" in resource):
        return None
    parts = resource["Fn::Join"][1]
    if len(parts) != 3 or parts[:2] != ["arn:", {"Ref": "AWS::Partition"}] or not parts[2].startswith(":s3:::"):
        return None
    name, slash, key = parts[2].removeprefix(":s3:::").partition("/")
    return name, slash + key


def describe(synth: Synth, resource: Any) -> tuple[str, str, str]:
    """(CloudFormation type, physical name, suffix) of a statement's resource; ("*", "*", "") for `*`."""
    if resource == "*":
        return "*", "*", ""
    s3_objects = _literal_s3_arn(resource)
    if s3_objects:
        return "AWS::S3::Bucket", *s3_objects
    suffix = ""
    if isinstance(resource, dict) and "Fn::Join" in resource:
        head, *rest = resource["Fn::Join"][1]
        assert all(isinstance(part, str) for part in rest), resource
        resource, suffix = head, "".join(rest)
    logical_id = synth.target(resource)
    if logical_id is None:
        return "?", str(resource), suffix
    target = synth.resource(logical_id)
    props = target["Properties"]
    name = (
        props.get("TableName") or props.get("QueueName") or props.get("Name") or props.get("BucketName") or logical_id
    )
    return target["Type"], name, suffix


def data_grants(synth: Synth, statements: list[dict]) -> dict[tuple[str, str], set[str]]:
    """(resource type, physical name + suffix) → actions, for the data resources only."""
    grants: dict[tuple[str, str], set[str]] = defaultdict(set)
    for statement in statements:
        for resource in _listify(statement["Resource"]):
            kind, name, suffix = describe(synth, resource)
            if kind in DATA_TYPES:
                grants[(kind, name + suffix)].update(_listify(statement["Action"]))
    return dict(grants)


def expected_grants(synth: Synth, entry: access.Access, consumed: tuple[str, ...] = ()) -> dict:
    from infra.components.permissions import CONSUME_ACTIONS, SEND_ACTIONS

    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for grant in entry.tables:
        table = synth.config.name(grant.table)
        if grant.actions:
            expected[("AWS::DynamoDB::Table", table)].update(f"dynamodb:{a}" for a in grant.actions)
        for index in grant.query_indexes:
            expected[("AWS::DynamoDB::Table", f"{table}/index/{index}")].add("dynamodb:Query")
    for name in entry.send:
        expected[("AWS::SQS::Queue", synth.config.name(name) + TOPOLOGY.queue(name).physical_suffix)].update(
            SEND_ACTIONS
        )
    for name in entry.consume:
        expected[("AWS::SQS::Queue", synth.config.name(name) + TOPOLOGY.queue(name).physical_suffix)].update(
            CONSUME_ACTIONS
        )
    for physical in consumed:  # the event source mapping's own grant (CDK's grantConsumeMessages)
        expected[("AWS::SQS::Queue", physical)].update(
            {
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            }
        )
    if entry.publish_events:
        expected[("AWS::Events::EventBus", synth.config.name(TOPOLOGY.bus))].add("events:PutEvents")
    for bucket, actions in entry.buckets:
        expected[("AWS::S3::Bucket", synth.config.name(bucket) + "/*")].update(f"s3:{a}" for a in actions)
    return dict(expected)


def function_roles(synth: Synth) -> dict[str, str]:
    return {
        group: synth.target(synth.resource(synth.function_of_group(group))["Properties"]["Role"])
        for group in access.function_groups(TOPOLOGY)
    }


def worker_task_role(synth: Synth) -> str:
    (task,) = synth.resources("AWS::ECS::TaskDefinition").values()
    return synth.target(task["Properties"]["TaskRoleArn"])


def test_access_map_matches_the_topology() -> None:
    assert access.problems(TOPOLOGY) == []


def test_each_function_role_holds_exactly_its_declared_access(synth: Synth) -> None:
    consumers: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for consumer in TOPOLOGY.consumers:
        consumers[consumer.group] += (consumed_queue(synth.config, consumer)[0],)
    roles = function_roles(synth)
    assert len(set(roles.values())) == len(roles), "every function has a role of its own"
    for group, role_id in roles.items():
        granted = data_grants(synth, statements_of_role(synth, role_id))
        assert granted == expected_grants(synth, access.ACCESS[group], consumers[group]), group


def test_the_worker_task_role_holds_exactly_its_declared_access(synth: Synth) -> None:
    granted = data_grants(synth, statements_of_role(synth, worker_task_role(synth)))
    assert granted == expected_grants(synth, access.ACCESS[access.WORKER])


def test_no_role_has_a_wildcard_action_or_a_wildcard_resource_beyond_the_documented_ones(synth: Synth) -> None:
    roles = [*function_roles(synth).values(), worker_task_role(synth)]
    for role_id in roles:
        for statement in statements_of_role(synth, role_id):
            actions = _listify(statement["Action"])
            assert not any("*" in action for action in actions), (role_id, actions)
            if "*" in _listify(statement["Resource"]):
                assert set(actions) <= NO_RESOURCE_LEVEL, (role_id, actions)


def cdk_handler_roles(synth: Synth) -> set[str]:
    """The roles of CDK's own handlers (the console's upload: its grants are test_infra_console's)."""
    return {
        synth.target(function["Properties"]["Role"])
        for logical_id, function in synth.resources("AWS::Lambda::Function").items()
        if logical_id.startswith(CDK_HANDLERS)
    }


def test_no_policy_anywhere_has_a_wildcard_action_on_a_data_resource(synth: Synth) -> None:
    skipped = cdk_handler_roles(synth)
    for template in synth.templates.values():
        for resource in template["Resources"].values():
            documents = []
            if resource["Type"] == "AWS::IAM::Policy":
                if {synth.target(role) for role in resource["Properties"]["Roles"]} <= skipped:
                    continue
                documents.append(resource["Properties"]["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in documents:
                for statement in document["Statement"]:
                    wildcard = [a for a in _listify(statement["Action"]) if "*" in a]
                    if not wildcard:
                        continue
                    kinds = {describe(synth, r)[0] for r in _listify(statement["Resource"])}
                    assert not kinds & DATA_TYPES, (wildcard, kinds)
