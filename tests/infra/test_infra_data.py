"""Tables and buckets: recovery, expiry, protection; nothing public, nothing unencrypted, TLS only."""

from __future__ import annotations

import pytest
from support.cdk import Synth, cdk_context

from bzapper.topology import TOPOLOGY

pytestmark = pytest.mark.xdist_group("infra")


def tables_by_name(synth: Synth) -> dict[str, dict]:
    return {t["Properties"]["TableName"]: t for t in synth.resources("AWS::DynamoDB::Table").values()}


def test_every_table_is_on_demand_with_pitr_ttl_and_its_indexes(synth: Synth) -> None:
    tables = tables_by_name(synth)
    for spec in TOPOLOGY.tables:
        table = tables[synth.config.name(spec.name)]
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        keys = {key["AttributeName"]: key["KeyType"] for key in props["KeySchema"]}
        assert keys == {spec.hash_key: "HASH", **({spec.range_key: "RANGE"} if spec.range_key else {})}
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        attribute_types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        deployed = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
        assert set(deployed) == {index.name for index in spec.indexes}
        for index in spec.indexes:
            schema = {key["AttributeName"]: key["KeyType"] for key in deployed[index.name]["KeySchema"]}
            assert schema == {index.hash_key: "HASH", **({index.range_key: "RANGE"} if index.range_key else {})}
            assert attribute_types[index.hash_key] == index.hash_type
            if index.range_key:
                assert attribute_types[index.range_key] == index.range_type
            projection = deployed[index.name]["Projection"]
            assert projection["ProjectionType"] == index.projection
            assert tuple(projection.get("NonKeyAttributes", ())) == index.include


def test_outside_dev_tables_are_deletion_protected_and_retained(synth: Synth) -> None:
    assert synth.config.protected
    for table in tables_by_name(synth).values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"


def test_in_dev_tables_can_be_torn_down() -> None:
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra.components.tables import Tables
    from infra.config import InfraConfig

    app = App(context=cdk_context(stage="dev"))
    stack = Stack(app, "DevTables")
    config = InfraConfig.from_context(app.node)
    assert not config.protected
    Tables(stack, "Tables", config=config, tables=TOPOLOGY.tables)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::Table", len(TOPOLOGY.tables))
    template.all_resources("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})
    template.all_resources_properties("AWS::DynamoDB::Table", {"DeletionProtectionEnabled": False})


def _bucket_policy_statements(synth: Synth, bucket_id: str) -> list[dict]:
    return [
        statement
        for policy in synth.resources("AWS::S3::BucketPolicy").values()
        if synth.target(policy["Properties"]["Bucket"]) == bucket_id
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_buckets_block_public_access_are_encrypted_tls_only_and_expire(synth: Synth) -> None:
    buckets = synth.resources("AWS::S3::Bucket")
    named = {b["Properties"].get("BucketName"): key for key, b in buckets.items()}
    for name in TOPOLOGY.buckets:
        assert synth.config.name(name) in named, f"bucket {name} missing"
        props = buckets[named[synth.config.name(name)]]["Properties"]
        assert "LoggingConfiguration" in props
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(rule.get("ExpirationInDays") == synth.config.media_expiry_days for rule in rules)
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert "AccessControl" not in props
        denies_plain_http = [
            s
            for s in _bucket_policy_statements(synth, bucket_id)
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies_plain_http, f"{bucket_id} accepts plain HTTP"
        # The console's bucket holds its build, reproducible from git: emptied and deleted with its stack.
        console = synth.stacks.api.console is not None and bucket_id in synth.resources("AWS::S3::Bucket", "api")
        assert bucket["DeletionPolicy"] == ("Delete" if console else "Retain"), bucket_id
