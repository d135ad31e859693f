"""Console users: the Cognito user pool and its client, the CustomMessage trigger, what the functions are given
(the pool, the client, the sender), and who may do what with the pool and SES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.cdk import PARTS, STAGE, STRIPE_SECRET, Synth, cdk_context
from test_infra_iam import function_roles, statements_of_role

from bzapper.domain.identity import PASSWORD_MIN, password_problem
from bzapper.topology import DEFAULT_GROUP, TOPOLOGY
from infra import access

pytestmark = pytest.mark.xdist_group("infra")

SENDER = "no-reply@mail.example.com"
SENDER_DOMAIN = "mail.example.com"


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def the_one(resources: dict[str, dict]) -> tuple[str, dict]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def pool(synth: Synth) -> tuple[str, dict]:
    return the_one(synth.resources("AWS::Cognito::UserPool"))


def client(synth: Synth) -> dict:
    return the_one(synth.resources("AWS::Cognito::UserPoolClient"))[1]["Properties"]


def api_groups() -> set[str]:
    return {*TOPOLOGY.api_groups, DEFAULT_GROUP}


def variables(synth: Synth, group: str) -> dict[str, Any]:
    return synth.resource(synth.function_of_group(group))["Properties"]["Environment"]["Variables"]


def statements_naming(synth: Synth, role_id: str, prefixes: tuple[str, ...]) -> list[dict]:
    return [
        statement
        for statement in statements_of_role(synth, role_id)
        if any(action.startswith(prefixes) for action in _listify(statement["Action"]))
    ]


# The pool


def test_the_password_policy_is_the_cores_own_check(synth: Synth) -> None:
    _, user_pool = pool(synth)
    assert user_pool["Properties"]["Policies"]["PasswordPolicy"] == {
        "MinimumLength": PASSWORD_MIN,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
    }
    # The core refuses what the pool refuses: one rule broken at a time.
    strong = "Aa1!" + "x" * (PASSWORD_MIN - 4)
    assert password_problem(strong) is None
    assert password_problem(strong[: PASSWORD_MIN - 1]) == "too_short"
    assert password_problem(strong.lower()) == "uppercase"
    assert password_problem(strong.upper()) == "lowercase"
    assert password_problem(strong.replace("1", "y")) == "digit"
    assert password_problem(strong.replace("!", "y")) == "symbol"


def test_users_sign_up_and_in_by_email_verified_by_a_code(synth: Synth) -> None:
    _, user_pool = pool(synth)
    props = user_pool["Properties"]
    assert props["UserPoolName"] == synth.config.name("users")
    assert props["UsernameAttributes"] == ["email"]
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False  # self sign-up
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert props["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    schema = {attribute["Name"]: attribute for attribute in props["Schema"]}
    assert set(schema) == {"email", "name", "locale"}
    assert all(attribute["Mutable"] for attribute in schema.values())
    assert schema["email"]["Required"] is True
    assert props["MfaConfiguration"] == "OFF"
    assert "SmsConfiguration" not in props


def test_threat_protection_refuses_breached_passwords_on_the_plus_plan(synth: Synth) -> None:
    pool_id, user_pool = pool(synth)
    assert user_pool["Properties"]["UserPoolTier"] == "PLUS"
    assert user_pool["Properties"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    _, risk = the_one(synth.resources("AWS::Cognito::UserPoolRiskConfigurationAttachment"))
    props = risk["Properties"]
    assert synth.target(props["UserPoolId"]) == pool_id
    assert props["ClientId"] == "ALL"
    assert props["CompromisedCredentialsRiskConfiguration"] == {
        "Actions": {"EventAction": "BLOCK"},
        "EventFilter": ["SIGN_IN", "SIGN_UP", "PASSWORD_CHANGE"],
    }
    # Cognito sees our functions' addresses, not the users': adaptive risk is recorded, never acted on.
    actions = props["AccountTakeoverRiskConfiguration"]["Actions"]
    assert {level: action["EventAction"] for level, action in actions.items()} == {
        "LowAction": "NO_ACTION",
        "MediumAction": "NO_ACTION",
        "HighAction": "NO_ACTION",
    }


def test_outside_dev_the_pool_is_deletion_protected_retained_and_its_stack_termination_protected(
    synth: Synth,
) -> None:
    assert synth.config.protected
    _, user_pool = pool(synth)
    assert user_pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert user_pool["DeletionPolicy"] == "Retain" and user_pool["UpdateReplacePolicy"] == "Retain"
    assert synth.stacks.identity.termination_protection is True


def test_without_a_sender_cognito_sends_its_own_emails(synth: Synth) -> None:
    _, user_pool = pool(synth)
    assert user_pool["Properties"]["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}


@pytest.mark.parametrize(("stage", "mode"), [("dev", "audit"), ("dev", None)])
def test_a_dev_pool_can_be_torn_down_and_threat_protection_can_audit_only(stage: str, mode: str | None) -> None:
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra.components.identity import UserPool
    from infra.config import InfraConfig

    app = App(context=cdk_context(stage=stage, **({"bzapper:threatProtection": mode} if mode else {})))
    stack = Stack(app, "DevUsers")
    UserPool(stack, "Users", config=InfraConfig.from_context(app.node), triggers={})
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::Cognito::UserPool",
        {
            "DeletionPolicy": "Delete",
            "Properties": {
                "DeletionProtection": "INACTIVE",
                "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT" if mode == "audit" else "ENFORCED"},
            },
        },
    )


# The client


def test_the_api_client_has_no_secret_password_and_refresh_flows_only_and_revocable_tokens(synth: Synth) -> None:
    from bzapper.services.auth import REFRESH_LIFETIME_MS

    props = client(synth)
    assert synth.target(props["UserPoolId"]) == pool(synth)[0]
    assert props["GenerateSecret"] is False
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert "CallbackURLs" not in props and "AllowedOAuthFlows" not in props
    assert props["EnableTokenRevocation"] is True
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}
    assert props["AccessTokenValidity"] == 60
    assert props["IdTokenValidity"] == 60
    assert props["RefreshTokenValidity"] * 60_000 == REFRESH_LIFETIME_MS  # the core's 30 days
    assert sorted(props["ReadAttributes"]) == ["email", "locale", "name"]
    # Sign-up sends the email as an attribute (Cognito refuses it from a client that may not write it).
    assert sorted(props["WriteAttributes"]) == ["email", "locale", "name"]


def test_the_pool_and_client_ids_are_outputs(synth: Synth) -> None:
    outputs = synth.templates["identity"]["Outputs"]
    assert synth.target(outputs["UserPoolId"]["Value"]) == pool(synth)[0]
    client_id = the_one(synth.resources("AWS::Cognito::UserPoolClient"))[0]
    assert synth.target(outputs["UserPoolClientId"]["Value"]) == client_id


# The trigger


def test_each_trigger_invokes_its_group_function_for_this_pool_only(synth: Synth) -> None:
    from infra.components.identity import TRIGGER_OPERATIONS

    pool_id, user_pool = pool(synth)
    lambda_config = user_pool["Properties"]["LambdaConfig"]
    events = {"custom_message": "CustomMessage"}
    assert set(TRIGGER_OPERATIONS) == set(events)
    assert {events[trigger.event] for trigger in TOPOLOGY.triggers} == set(lambda_config)
    permissions = synth.resources("AWS::Lambda::Permission", "identity").values()
    for trigger in TOPOLOGY.triggers:
        function_id = synth.function_of_group(trigger.group)
        assert function_id in synth.templates["identity"]["Resources"]
        assert synth.target(lambda_config[events[trigger.event]]) == function_id
        (permission,) = [
            p["Properties"] for p in permissions if synth.target(p["Properties"]["FunctionName"]) == function_id
        ]
        assert permission["Principal"] == "cognito-idp.amazonaws.com"
        assert synth.target(permission["SourceArn"]) == pool_id
        props = synth.resource(function_id)["Properties"]
        assert props["Handler"] == "handler.handler"
        assert props["Timeout"] <= 5, "Cognito waits 5 s for a trigger"
        assert set(props["Environment"]["Variables"]) >= {"BZ_STAGE"}


def test_trigger_functions_are_built_once_in_the_identity_stack_only(synth: Synth) -> None:
    names = [f["Properties"]["FunctionName"] for f in synth.group_functions().values()]
    for trigger in TOPOLOGY.triggers:
        assert names.count(synth.config.name(trigger.group)) == 1
        assert synth.config.name(trigger.group) not in {
            f["Properties"]["FunctionName"] for f in synth.group_functions("api").values()
        }


# What the functions are given


def test_every_api_function_knows_the_pool_and_its_client_and_no_other_function_does(synth: Synth) -> None:
    from infra.components.identity import CLIENT_ENV, USER_POOL_ENV

    pool_id = pool(synth)[0]
    client_id = the_one(synth.resources("AWS::Cognito::UserPoolClient"))[0]
    for group in access.function_groups(TOPOLOGY):
        env = variables(synth, group)
        if group in api_groups():
            assert synth.target(env[USER_POOL_ENV]) == pool_id, group
            assert synth.target(env[CLIENT_ENV]) == client_id, group
        else:
            assert USER_POOL_ENV not in env and CLIENT_ENV not in env, group


def test_the_variables_infra_sets_are_the_ones_the_core_reads() -> None:
    from bzapper.config import Settings
    from infra.components.identity import CLIENT_ENV, MAIL_FROM_ENV, USER_POOL_ENV

    identity = Settings.from_environ({USER_POOL_ENV: "pool", CLIENT_ENV: "client", MAIL_FROM_ENV: SENDER}).identity
    assert (identity.user_pool_id, identity.client_id, identity.mail_from) == ("pool", "client", SENDER)


def test_only_the_declared_groups_may_call_cognito_and_only_on_the_pool(synth: Synth) -> None:
    pool_id = pool(synth)[0]
    users = {group for group, entry in access.ACCESS.items() if entry.user_pool}
    assert users == {"auth"}
    assert access.ACCESS["auth"].user_pool == (
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminUserGlobalSignOut",
    )
    for group, role in function_roles(synth).items():
        statements = statements_naming(synth, role, ("cognito-idp:",))
        if group not in users:
            assert statements == [], group
            continue
        (statement,) = statements
        assert _listify(statement["Action"]) == list(access.ACCESS[group].user_pool)
        assert [synth.target(resource) for resource in _listify(statement["Resource"])] == [pool_id]
        assert "Condition" not in statement


def test_without_a_sender_nobody_may_send_email_nor_is_told_a_sender(synth: Synth) -> None:
    from infra.components.identity import MAIL_FROM_ENV

    for group, role in function_roles(synth).items():
        assert statements_naming(synth, role, ("ses:",)) == [], group
        assert MAIL_FROM_ENV not in variables(synth, group), group
    assert "ses:" not in json.dumps(synth.templates)


# A stage with a sender


@pytest.fixture(scope="module")
def with_sender(tmp_path_factory: pytest.TempPathFactory, console_dist: Path) -> Synth:
    """The app again, with a sender verified by its domain (cdk-nag included: a second synth of a few seconds)."""
    from aws_cdk import App

    from infra.app import build
    from infra.config import InfraConfig

    context = {
        "bzapper:stripeSecretName": STRIPE_SECRET,
        "bzapper:mailFrom": SENDER,
        "bzapper:mailVerifiedDomain": SENDER_DOMAIN,
        "bzapper:consoleDist": str(console_dist),
    }
    outdir = tmp_path_factory.mktemp("cdk.out.sender")
    app = App(outdir=str(outdir), context=cdk_context(stage=STAGE, **context))
    config = InfraConfig.from_context(app.node)
    stacks = build(app, config)
    assembly = app.synth()
    templates = {part: assembly.get_stack_by_name(getattr(stacks, part).stack_name).template for part in PARTS}
    return Synth(config=config, stacks=stacks, outdir=outdir, templates=templates)


def _ses_identity(arn: Any) -> str:
    """`identity/<name>` of `arn:${Partition}:ses:${Region}:${AccountId}:identity/<name>` (how CDK writes it)."""
    parts = arn["Fn::Join"][1]
    assert parts[:3] == ["arn:", {"Ref": "AWS::Partition"}, ":ses:"]
    assert {"Ref": "AWS::Region"} in parts and {"Ref": "AWS::AccountId"} in parts
    return parts[-1].lstrip(":")


def test_with_a_sender_the_pool_sends_through_ses_from_it(with_sender: Synth) -> None:
    _, user_pool = pool(with_sender)
    email = user_pool["Properties"]["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == SENDER
    assert _ses_identity(email["SourceArn"]) == f"identity/{SENDER_DOMAIN}"


def test_with_a_sender_only_the_groups_that_send_email_may_and_only_as_it(with_sender: Synth) -> None:
    from infra.components.identity import MAIL_FROM_ENV

    senders = {group for group, entry in access.ACCESS.items() if entry.send_email}
    assert senders == {"auth"}
    for group, role in function_roles(with_sender).items():
        statements = statements_naming(with_sender, role, ("ses:",))
        env = variables(with_sender, group)
        if group not in senders:
            assert statements == [] and MAIL_FROM_ENV not in env, group
            continue
        (statement,) = statements
        assert _listify(statement["Action"]) == ["ses:SendEmail"]
        assert sorted(_ses_identity(arn) for arn in statement["Resource"]) == sorted(
            [f"identity/{SENDER}", f"identity/{SENDER_DOMAIN}"]
        )
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER}}
        assert env[MAIL_FROM_ENV] == SENDER


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ({"bzapper:mailFrom": "bzapper <no-reply@example.com>"}, "plain address"),
        ({"bzapper:mailFrom": "no-reply@Example.com"}, "lowercase domain"),
        ({"bzapper:mailFrom": "no-reply@example.com", "bzapper:mailVerifiedDomain": "other.com"}, "not the domain"),
        ({"bzapper:mailVerifiedDomain": "example.com"}, "needs bzapper:mailFrom"),
        ({"bzapper:threatProtection": "off"}, "threatProtection"),
    ],
)
def test_settings_refuse_a_sender_or_a_mode_cognito_would_refuse(context: dict[str, str], problem: str) -> None:
    from aws_cdk import App

    from infra.config import InfraConfig

    with pytest.raises(ValueError, match=problem):
        InfraConfig.from_context(App(context=cdk_context(stage="dev", **context)).node)


# The new tables


def test_the_identity_tables_are_deployed_like_every_table(synth: Synth) -> None:
    tables = {t["Properties"]["TableName"]: t["Properties"] for t in synth.resources("AWS::DynamoDB::Table").values()}
    keys = tables[synth.config.name("keys")]
    assert [index["IndexName"] for index in keys["GlobalSecondaryIndexes"]] == ["by_account"]
    assert tables[synth.config.name("revocations")]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    for name in ("keys", "users", "revocations"):
        props = tables[synth.config.name(name)]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["DeletionProtectionEnabled"] is True, name
