"""Console users: an Amazon Cognito user pool (email sign-in, its triggers) and the one app client the API uses.

The API calls Cognito's public operations itself (`bzapper.adapters.aws.cognito`: sign-up, confirmation,
USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH, token revocation, password reset), server side, so the client has no
secret, no OAuth and no hosted UI. Every function verifies the access tokens offline against the pool's JWKS.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from bzapper.domain.identity import PASSWORD_MIN
from bzapper.topology import Trigger
from infra.components import nag
from infra.config import InfraConfig

USER_POOL_ENV = "BZ_COGNITO_USER_POOL_ID"
CLIENT_ENV = "BZ_COGNITO_CLIENT_ID"
MAIL_FROM_ENV = "BZ_MAIL_FROM"
"""What `bzapper.config` reads (IdentitySettings): the pool and client every API function verifies tokens
against, and the sender of our own emails (the functions whose access entry has `send_email`)."""

ACCESS_TOKEN_VALIDITY = Duration.minutes(60)
"""Access and ID tokens: the console renews them with its refresh token (POST /auth/refresh)."""
REFRESH_TOKEN_VALIDITY = Duration.days(30)
"""`bzapper.services.auth.REFRESH_LIFETIME_MS`: how long a signed-out refresh token is remembered (a test)."""

# The core refuses the same passwords before asking Cognito (bzapper.domain.identity.password_problem).
PASSWORD_POLICY = cognito.PasswordPolicy(
    min_length=PASSWORD_MIN,
    require_lowercase=True,
    require_uppercase=True,
    require_digits=True,
    require_symbols=True,
)

TRIGGER_OPERATIONS = {"custom_message": cognito.UserPoolOperation.CUSTOM_MESSAGE}
"""`topology.Trigger.event` → the user pool operation that invokes the function."""

_NO_ACTION = cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty(
    event_action="NO_ACTION", notify=False
)

THREAT_PROTECTION = {
    "enforced": cognito.StandardThreatProtectionMode.FULL_FUNCTION,
    "audit": cognito.StandardThreatProtectionMode.AUDIT_ONLY,
}


@dataclass(frozen=True)
class MailSender:
    """The stage's verified SES sender: the address and the ARNs of the identities SES may authorize it under."""

    address: str
    identity_arns: tuple[str, ...]


def mail_sender(scope: Construct, config: InfraConfig) -> MailSender | None:
    """The sender for IAM, in `scope`'s stack (account and region); None when the stage has none.

    SES authorizes a send against the most specific verified identity: the address if it is verified itself,
    else its domain. Both ARNs are named when a domain is configured, and a grant is also conditioned on the
    From address, so the role can send as this one sender and nothing else of the domain.
    """
    if not config.mail_from:
        return None
    stack = Stack.of(scope)
    names = dict.fromkeys(name for name in (config.mail_from, config.mail_verified_domain) if name)
    arns = tuple(stack.format_arn(service="ses", resource="identity", resource_name=name) for name in names)
    return MailSender(address=config.mail_from, identity_arns=arns)


class UserPool(Construct):
    """The user pool and its app client; `triggers` are the functions of the topology's `Trigger`s."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        triggers: dict[Trigger, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        unknown = sorted(trigger.event for trigger in triggers if trigger.event not in TRIGGER_OPERATIONS)
        if unknown:
            raise ValueError(f"user pool triggers with no Cognito operation: {unknown} (TRIGGER_OPERATIONS)")
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=config.name("users"),
            # Email is the username: sign-in with it (any case), verified by a code at sign-up.
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=True,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # A changed email takes effect only once its code is confirmed; until then the old one still signs in.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
                locale=cognito.StandardAttribute(required=False, mutable=True),  # the language of our emails
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=PASSWORD_POLICY,
            # The sign-in answers no challenge (bzapper.adapters.aws.cognito): MFA comes with a console flow for it.
            mfa=cognito.Mfa.OFF,
            email=self._email(config, Stack.of(self).region),
            # Threat protection is a Plus plan feature; the risk configuration below says what it does.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=THREAT_PROTECTION[config.threat_protection],
            deletion_protection=config.protected,
            removal_policy=RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY,
        )
        for trigger, function in triggers.items():
            # Also lets cognito-idp invoke the function, for this pool only (its ARN as the source).
            self.pool.add_trigger(TRIGGER_OPERATIONS[trigger.event], function)
        nag.acknowledge(self.pool, "AwsSolutions-COG2")

        # What threat protection does. Every Cognito call comes from our functions (server side, with no
        # UserContextData: a client without a secret cannot pass the user's address on), so adaptive
        # authentication would only ever judge our own addresses: its risk levels are recorded, never acted on.
        # A password found in a known breach is refused at sign-up, at sign-in and at a password change.
        risk = cognito.CfnUserPoolRiskConfigurationAttachment
        self.risk_configuration = risk(
            self,
            "RiskConfiguration",
            user_pool_id=self.pool.user_pool_id,
            client_id="ALL",
            compromised_credentials_risk_configuration=risk.CompromisedCredentialsRiskConfigurationTypeProperty(
                actions=risk.CompromisedCredentialsActionsTypeProperty(event_action="BLOCK"),
                event_filter=["SIGN_IN", "SIGN_UP", "PASSWORD_CHANGE"],
            ),
            account_takeover_risk_configuration=risk.AccountTakeoverRiskConfigurationTypeProperty(
                actions=risk.AccountTakeoverActionsTypeProperty(
                    low_action=_NO_ACTION, medium_action=_NO_ACTION, high_action=_NO_ACTION
                )
            ),
        )

        self.client = self.pool.add_client(
            "ApiClient",
            user_pool_client_name=config.name("api"),
            generate_secret=False,  # the API is the only caller, and its tokens are verified by signature
            auth_flows=cognito.AuthFlow(user_password=True),  # CDK adds ALLOW_REFRESH_TOKEN_AUTH
            disable_o_auth=True,  # no hosted UI, no redirects: CDK's default OAuth flows would open them
            enable_token_revocation=True,  # sign-out revokes the refresh token and the tokens it issued
            prevent_user_existence_errors=True,  # an unknown email reads like a wrong password
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            id_token_validity=ACCESS_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            read_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True, locale=True),
            # Sign-up sends the email as an attribute, which Cognito refuses from a client not allowed to write
            # it; a signed-in user may change their name and language, and their email only through a new code.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, fullname=True, locale=True
            ),
        )

    @staticmethod
    def _email(config: InfraConfig, region: str) -> cognito.UserPoolEmail:
        if not config.mail_from:
            # Cognito's own sender: a small daily quota per account (docs/deploy.md), enough for a trial stage.
            return cognito.UserPoolEmail.with_cognito()
        return cognito.UserPoolEmail.with_ses(
            from_email=config.mail_from,
            ses_verified_domain=config.mail_verified_domain,
            # SES in the stage's own region, where the API's SES client sends our own emails too. Given as the
            # stack's region (a token when synthesized offline), which CDK otherwise refuses to guess.
            ses_region=region,
        )
