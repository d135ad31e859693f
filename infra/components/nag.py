"""cdk-nag (AwsSolutions) acknowledgments: every one goes through here, with its reason written once.

cdk-nag 3 fails the synth on any finding not acknowledged on its construct (or an ancestor). Each
reason below says why the rule does not apply or what replaces it; `docs/deploy.md` lists them.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

REASONS: dict[str, str] = {
    "AwsSolutions-APIG4": (
        "Authentication is the API's own: every route except /health and the 404/405 fallback requires a "
        "Bearer key, checked by the function against the SHA-256 hashes in DynamoDB (Stripe-style keys, "
        "not IAM or JWT, so an API Gateway authorizer would only add latency and a second cache)."
    ),
    "AwsSolutions-IAM5[Resource::*]": (
        "X-Ray's PutTraceSegments/PutTelemetryRecords and ECR's GetAuthorizationToken support no "
        "resource-level permissions: AWS documents `*` as their only resource."
    ),
    "AwsSolutions-L1": (
        "Pinned to Python 3.12 on purpose: the layer is built by pip for cp312 and the worker image is "
        "python:3.12-slim; the runtime moves when both move together (infra/bundling.py LAMBDA_PYTHON)."
    ),
    "AwsSolutions-COG2": (
        "MFA is not required of console users at launch: the API's sign-in answers no challenge yet "
        "(bzapper.adapters.aws.cognito). Meanwhile passwords follow a strong policy, breached ones are refused "
        "(threat protection), failed sign-ins are rate limited per email and per address, and API keys, not "
        "console sessions, are what integrations use. MFA comes with a console flow for it."
    ),
    "AwsSolutions-ECS2": (
        "The environment holds names and URLs only (stage, queue URLs, paths, feature switches); no secret "
        "is ever passed in the environment."
    ),
    "AwsSolutions-SQS3[dlq]": (
        "This queue is a dead-letter queue (of an EventBridge rule target or of a schedule's target), "
        "so it has no dead-letter queue of its own."
    ),
    "AwsSolutions-CFR1": (
        "The console is for customers wherever they are: no country is refused. Who may act is the API's "
        "business (session tokens, rate limits); the distribution serves the same public files to everyone."
    ),
    "AwsSolutions-CFR2": (
        "No WAF in front of the console: it serves only the public, static build (no origin that computes "
        "anything, no form post to CloudFront), and a CloudFront web ACL must live in us-east-1 and costs a "
        "fixed monthly fee per stage. What needs protecting is the API: throttled at the stage and per account."
    ),
    "AwsSolutions-CFR4": (
        "Without a console domain of our own the distribution answers on CloudFront's default *.cloudfront.net "
        "certificate, whose security policy CloudFront sets (TLSv1) and no one can change. With "
        "bzapper:consoleDomain (and its certificate) the minimum is TLSv1.2_2021 and this is not acknowledged."
    ),
    "bucket-deployment": (
        "CDK's BucketDeployment handler (the only writer of the console's bucket): AWS's basic execution "
        "policy for its logs, and CDK's own grants, read on the asset bucket and read/write/delete of "
        "objects in the console's bucket (object-level action groups like s3:GetObject*, `<bucket>/*`)."
    ),
    "bucket-deployment-runtime": (
        "The runtime of CDK's BucketDeployment handler is aws-cdk-lib's choice (a Python runtime it tests with "
        "the AWS CLI layer it bundles): it moves when aws-cdk-lib is upgraded, not by a setting of ours."
    ),
    "console-logs": (
        "The console's bucket and distribution keep no access logs: they serve the same public build to "
        "everyone (no account data passes through them), every request that matters goes to the API, which "
        "logs each one, and CloudFront's standard logs need an ACL-enabled bucket. CloudWatch metrics remain."
    ),
    "bucket-objects": (
        "Objects of one bucket (`arn:…:s3:::<bucket>/*`): media keys are per account and file, made at run "
        "time, so no narrower ARN exists; the actions are object actions only, never on the bucket itself."
    ),
    "function-versions": (
        "Scoped to one function: EventBridge Scheduler may invoke that function and its versions and "
        "aliases (`<function arn>:*`, added by CDK's grantInvoke); no other function."
    ),
}

_used: list[tuple[str, str]] = []


def acknowledge(construct: IConstruct, rule: str, finding: str | None = None, *, reason_key: str | None = None) -> None:
    """Acknowledge `rule` (or one finding of it, `Rule[finding]`) on `construct` and its children."""
    rule_id = f"{rule}[{finding}]" if finding else rule
    reason = REASONS[reason_key or rule_id]
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
    _used.append((construct.node.path, rule_id))


def acknowledged() -> list[tuple[str, str]]:
    """(construct path, rule id) of every acknowledgment made by this process, for the report and tests."""
    return list(_used)
