"""The OTP sealing key: one KMS key, rotated; the messages function (OTP codes) and the instances function
(a proxy's password, docs/settings.md) may only seal (GenerateDataKey) and the session workers only open
(Decrypt), each only for the OTP encryption context; nobody else touches it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.cdk import Synth
from test_infra_iam import function_roles, statements_of_role, worker_task_role

from bzapper.adapters.sealing import KMS_KEY_ENV, PURPOSE
from bzapper.topology import TOPOLOGY
from infra import access

pytestmark = pytest.mark.xdist_group("infra")


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def otp_key_id(synth: Synth) -> str:
    keys = {
        logical_id: key
        for logical_id, key in synth.resources("AWS::KMS::Key", "data").items()
        if "verification codes" in key["Properties"].get("Description", "")
    }
    assert len(keys) == 1, keys
    return next(iter(keys))


def key_statements(synth: Synth, role_id: str, key_id: str) -> list[dict]:
    return [
        statement
        for statement in statements_of_role(synth, role_id)
        if any(synth.target(resource) == key_id for resource in _listify(statement["Resource"]))
    ]


def test_the_otp_key_is_rotated_and_named_by_stage(synth: Synth) -> None:
    key_id = otp_key_id(synth)
    assert synth.resource(key_id)["Properties"]["EnableKeyRotation"] is True
    aliases = [a["Properties"] for a in synth.resources("AWS::KMS::Alias", "data").values()]
    assert any(
        alias["AliasName"] == f"alias/{synth.config.name('otp')}" and synth.target(alias["TargetKeyId"]) == key_id
        for alias in aliases
    )


SEALERS = {"messages", "instances"}
"""Seal with the key: an OTP's code (messages), a Cloud API number's token (instances)."""
OPENERS = {access.WORKER, "cloud_send", "statuses", "inbox"}
"""Open with it: OTP codes (the worker's engine hosts), a Cloud API number's token for Graph (its sends, its
received media, its read receipts)."""


@pytest.mark.parametrize(
    ("owner", "actions"),
    [
        *((group, ["kms:GenerateDataKey"]) for group in sorted(SEALERS)),
        *((group, ["kms:Decrypt"]) for group in sorted(OPENERS)),
    ],
)
def test_only_the_declared_use_of_the_key_for_the_otp_context(synth: Synth, owner: str, actions: list[str]) -> None:
    key_id = otp_key_id(synth)
    role = worker_task_role(synth) if owner == "worker" else function_roles(synth)[owner]
    (statement,) = key_statements(synth, role, key_id)
    assert _listify(statement["Action"]) == actions
    assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": PURPOSE}}


def test_no_other_role_touches_the_otp_key(synth: Synth) -> None:
    key_id = otp_key_id(synth)
    users = {group for group, entry in access.ACCESS.items() if entry.otp_key}
    assert users == SEALERS | OPENERS
    for group, role in function_roles(synth).items():
        if group not in users:
            assert key_statements(synth, role, key_id) == [], group


def test_the_key_is_given_to_the_code_that_uses_it(synth: Synth) -> None:
    key_id = otp_key_id(synth)
    for sealer in ("messages", "instances"):
        variables = synth.resource(synth.function_of_group(sealer))["Properties"]["Environment"]["Variables"]
        assert synth.target(variables[KMS_KEY_ENV]) == key_id
    (task,) = synth.resources("AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    env = {item["Name"]: item["Value"] for item in container["Environment"]}
    assert synth.target(env[KMS_KEY_ENV]) == key_id
    for group in access.function_groups(TOPOLOGY):
        variables = synth.resource(synth.function_of_group(group))["Properties"]["Environment"]["Variables"]
        if group in SEALERS | OPENERS:
            assert synth.target(variables[KMS_KEY_ENV]) == key_id, group
        else:
            assert KMS_KEY_ENV not in variables, group
    # A key ARN, never key material: nothing in any template looks like the local key's variable.
    assert all("BZ_OTP_LOCAL_KEY" not in json.dumps(template) for template in synth.templates.values())
