"""The web console on AWS: a private bucket behind CloudFront, the local stack's security headers, config.json, and
CORS on the API and the stream for the console's origin only; a missing build, the skip flag, custom domains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cdk import CDK_HANDLERS, PARTS, PLACEHOLDER_ASSETS, ROOT, STAGE, STRIPE_SECRET, Synth, cdk_context

from bzapper.topology import TOPOLOGY
from bzapper_dev.local import console as local
from infra.components import console, cors

pytestmark = pytest.mark.xdist_group("infra")

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""CloudFront's managed cache policies (their ids are fixed and documented)."""
CONSOLE_DOMAIN = "console.example.com"
API_DOMAIN = "api.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0b5c2f6e-1111-2222-3333-444455556666"


MEDIA_SOURCES = [
    "https://bzapper-ci-media.s3.${AWS::URLSuffix}",
    "https://bzapper-ci-media.s3.${AWS::Region}.${AWS::URLSuffix}",
]
"""GET /media/{id} redirects to a pre-signed URL on the media bucket, which the console fetches (a photo preview)."""


def synthesize(tmp_path_factory: pytest.TempPathFactory, name: str, **context: Any) -> Synth:
    """The app again, with these settings (cdk-nag included: it fails the synth on any unacknowledged finding)."""
    from aws_cdk import App

    from infra.app import build
    from infra.config import InfraConfig

    outdir = tmp_path_factory.mktemp(f"cdk.out.{name}")
    app = App(
        outdir=str(outdir), context=cdk_context(stage=STAGE, **{"bzapper:stripeSecretName": STRIPE_SECRET}, **context)
    )
    config = InfraConfig.from_context(app.node)
    stacks = build(app, config)
    assembly = app.synth()
    templates = {part: assembly.get_stack_by_name(getattr(stacks, part).stack_name).template for part in PARTS}
    return Synth(config=config, stacks=stacks, outdir=outdir, templates=templates)


@pytest.fixture(scope="module")
def with_domains(tmp_path_factory: pytest.TempPathFactory, console_dist: Path) -> Synth:
    return synthesize(
        tmp_path_factory,
        "domains",
        **{
            "bzapper:consoleDist": str(console_dist),
            "bzapper:consoleDomain": CONSOLE_DOMAIN,
            "bzapper:consoleCertificateArn": CERTIFICATE,
            "bzapper:apiDomain": API_DOMAIN,
        },
    )


@pytest.fixture(scope="module")
def skipped(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    missing = tmp_path_factory.mktemp("no-console") / "dist"
    return synthesize(
        tmp_path_factory, "skipped", **{"bzapper:skipConsole": "true", "bzapper:consoleDist": str(missing)}
    )


# Reading the templates


def one(synth: Synth, kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = synth.resources(kind, "api").items()
    return found


def render(value: Any) -> str:
    """A CloudFormation string expression as text, with `${…}` for what only deployment knows."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if "Fn::Select" in value:
        index, source = value["Fn::Select"]
        separator, text = source["Fn::Split"]
        return "${" + f"{render(text)}.split({separator!r})[{index}]" + "}"
    raise AssertionError(f"unexpected expression {value}")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def headers_config(synth: Synth) -> dict[str, Any]:
    return one(synth, "AWS::CloudFront::ResponseHeadersPolicy")[1]["Properties"]["ResponseHeadersPolicyConfig"]


def distribution(synth: Synth) -> tuple[str, dict[str, Any]]:
    logical_id, resource = one(synth, "AWS::CloudFront::Distribution")
    return logical_id, resource["Properties"]["DistributionConfig"]


def behaviors(synth: Synth) -> dict[str, dict[str, Any]]:
    """Path pattern (`*` for the default) → cache behaviour."""
    config = distribution(synth)[1]
    return {"*": config["DefaultCacheBehavior"], **{b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}}


def deployments(synth: Synth) -> dict[str, dict[str, Any]]:
    """Construct id (Assets, Config, Pages) → the BucketDeployment custom resource's properties."""
    found = {}
    for logical_id, resource in synth.resources("Custom::CDKBucketDeployment", "api").items():
        for name in ("Assets", "Config", "Pages"):
            if logical_id.startswith(f"ConsoleContent{name}"):
                found[name] = {**resource["Properties"], "DependsOn": resource.get("DependsOn", [])}
    return found


def staged(synth: Synth, deployment: dict[str, Any]) -> Path:
    """The folder CDK staged for a deployment's source (the CLI zips it when it publishes)."""
    (key,) = deployment["SourceObjectKeys"]
    return synth.outdir / f"asset.{key.removesuffix('.zip')}"


def config_json(synth: Synth) -> dict[str, str]:
    """config.json as the deployment writes it: the markers replaced by the values they stand for."""
    deployment = deployments(synth)["Config"]
    text = (staged(synth, deployment) / console.CONFIG_FILE).read_text()
    for markers in deployment.get("SourceMarkers", []):
        for marker, value in markers.items():
            text = text.replace(marker, render(value))
    return json.loads(text)


def console_origin(synth: Synth) -> str:
    return "https://${" + distribution(synth)[0] + ".DomainName}"


def stream_origin(synth: Synth) -> str:
    (url_id,) = synth.resources("AWS::Lambda::Url", "api")
    return "https://${${" + url_id + ".FunctionUrl}.split('/')[2]}"


# The bucket and the distribution


def test_the_bucket_is_private_and_cloudfront_reads_it_through_origin_access_control(synth: Synth) -> None:
    bucket_id, bucket = one(synth, "AWS::S3::Bucket")
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in props and "AccessControl" not in props
    distribution_id, config = distribution(synth)
    (origin,) = config["Origins"]
    assert synth.target(origin["DomainName"]) == bucket_id and "RegionalDomainName" in json.dumps(origin)
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}, "OAC, not the legacy origin access identity"
    oac = synth.resource(synth.target(origin["OriginAccessControlId"]))["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    (policy,) = [p for p in synth.resources("AWS::S3::BucketPolicy", "api").values()]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    by_principal = {json.dumps(s["Principal"], sort_keys=True): s for s in allows}
    cloudfront = by_principal.pop(json.dumps({"Service": "cloudfront.amazonaws.com"}))
    assert cloudfront["Action"] == "s3:GetObject", "read only: no listing, no writes"
    assert cloudfront["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    (source,) = cloudfront["Condition"]["StringEquals"].values()
    assert {"Ref": distribution_id} in source["Fn::Join"][1], "this distribution only"
    # The one other reader: CDK's handler that empties the bucket when its stack is deleted.
    assert [synth.target(json.loads(p)["AWS"]) for p in by_principal] == [
        key for key in synth.resources("AWS::IAM::Role", "api") if key.startswith("CustomS3AutoDeleteObjects")
    ]


def test_the_distribution_serves_https_over_http2_and_http3_with_index_html_at_the_root(synth: Synth) -> None:
    config = distribution(synth)[1]
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    assert config["PriceClass"] == "PriceClass_All", "South America is in no cheaper class"
    assert "ViewerCertificate" not in config, "CloudFront's own certificate without a console domain"
    for pattern, behavior in behaviors(synth).items():
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https", pattern
        assert behavior["AllowedMethods"] == ["GET", "HEAD"], pattern
        assert behavior["Compress"] is True, pattern


def test_hashed_assets_are_cached_for_a_year_and_index_html_and_config_json_never(synth: Synth) -> None:
    assert {pattern: b["CachePolicyId"] for pattern, b in behaviors(synth).items()} == {
        "*": CACHING_DISABLED,
        console.ASSETS_PATTERN: CACHING_OPTIMIZED,
    }
    found = deployments(synth)
    assert {name: d["SystemMetadata"]["cache-control"] for name, d in found.items()} == {
        "Assets": "public, max-age=31536000, immutable",
        "Pages": "no-cache",
        "Config": "no-store",
    }


def test_the_build_is_uploaded_by_bucket_deployments_from_staged_folders_without_docker(
    synth: Synth, console_dist: Path
) -> None:
    found = deployments(synth)
    assets, pages = found["Assets"], found["Pages"]
    assert assets["DestinationBucketKeyPrefix"] == "assets/" and assets["Prune"] is False
    assert sorted(path.name for path in staged(synth, assets).iterdir()) == sorted(PLACEHOLDER_ASSETS)
    assert sorted(path.name for path in staged(synth, pages).iterdir()) == ["index.html"]
    assert (staged(synth, pages) / "index.html").read_text() == (console_dist / "index.html").read_text()
    # Pages prunes what an older build left, but never the other two deployments' files.
    assert pages["Prune"] is True and pages["Exclude"] == [console.ASSETS_PATTERN, console.CONFIG_FILE]
    assert found["Config"]["Prune"] is False
    # index.html goes last, once the files it loads are in place.
    assert {name for name, d in found.items() if any(dep.startswith("ConsoleContent") for dep in d["DependsOn"])} == {
        "Pages"
    }
    assets_manifest = json.loads((synth.outdir / f"{synth.stacks.api.stack_name}.assets.json").read_text())
    assert assets_manifest["dockerImages"] == {}, "nothing of the api stack is built by Docker"


def test_cdk_adds_one_upload_handler_and_one_bucket_emptier_and_nothing_else(synth: Synth) -> None:
    helpers = set(synth.resources("AWS::Lambda::Function")) - set(synth.group_functions())
    assert sorted(prefix for prefix in CDK_HANDLERS for key in helpers if key.startswith(prefix)) == sorted(
        CDK_HANDLERS
    )
    assert len(helpers) == len(CDK_HANDLERS)


def test_the_upload_handler_writes_the_console_bucket_only(synth: Synth) -> None:
    from test_infra_iam import cdk_handler_roles, statements_of_role

    bucket_id = one(synth, "AWS::S3::Bucket")[0]
    for role in cdk_handler_roles(synth):
        for statement in statements_of_role(synth, role):
            writes = [a for a in statement["Action"] if a.startswith(("s3:Put", "s3:Delete", "s3:Abort"))]
            if writes:
                targets = {synth.target(r["Fn::Join"][1][0] if "Fn::Join" in r else r) for r in statement["Resource"]}
                assert targets == {bucket_id}, statement


def test_the_console_url_is_an_output(synth: Synth) -> None:
    outputs = synth.templates["api"]["Outputs"]
    assert render(outputs["ConsoleUrl"]["Value"]) == console_origin(synth) + "/"
    assert synth.target(outputs["ConsoleDistributionDomainName"]["Value"]) == distribution(synth)[0]


# The headers


def test_the_local_policy_and_the_deployed_one_start_from_the_same_directives() -> None:
    assert "; ".join(console.CONTENT_SECURITY_POLICY) == local.CONTENT_SECURITY_POLICY
    assert console.content_security_policy([]) == local.CONTENT_SECURITY_POLICY
    assert local.SECURITY_HEADERS["permissions-policy"] == console.PERMISSIONS_POLICY


def test_every_response_carries_the_local_stacks_headers_plus_hsts(synth: Synth) -> None:
    config = headers_config(synth)
    security = config["SecurityHeadersConfig"]
    deployed = {
        "content-security-policy": render(security["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        "x-content-type-options": "nosniff" if "ContentTypeOptions" in security else None,
        "referrer-policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        "x-frame-options": security["FrameOptions"]["FrameOption"],
        **{h["Header"].lower(): h["Value"] for h in config["CustomHeadersConfig"]["Items"]},
    }
    assert set(deployed) == set(local.SECURITY_HEADERS), "every header of the local stack, and no other"
    for name, value in local.SECURITY_HEADERS.items():
        if name != "content-security-policy":
            assert deployed[name] == value, name
    # The policy: the local one, with the API's and the stream's origins in connect-src.
    here, there = directives(local.CONTENT_SECURITY_POLICY), directives(deployed["content-security-policy"])
    assert list(there) == list(here)
    assert {name: sources for name, sources in there.items() if name != "connect-src"} == {
        name: sources for name, sources in here.items() if name != "connect-src"
    }
    assert there["connect-src"] == [
        *here["connect-src"],
        "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://*.lambda-url.${AWS::Region}.on.aws",
        *MEDIA_SOURCES,
    ]
    assert all((h.get("Override") is True) for h in [*security.values(), *config["CustomHeadersConfig"]["Items"]]), (
        "the origin cannot weaken them"
    )
    hsts = security["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 365 * 86400 and hsts["IncludeSubdomains"] is True
    headers_id = one(synth, "AWS::CloudFront::ResponseHeadersPolicy")[0]
    assert all(synth.target(b["ResponseHeadersPolicyId"]) == headers_id for b in behaviors(synth).values())


# config.json


def test_config_json_tells_the_console_where_the_api_and_the_stream_are(synth: Synth) -> None:
    api_id = one(synth, "AWS::ApiGatewayV2::Api")[0]
    assert config_json(synth) == {
        "apiBaseUrl": "${" + api_id + ".ApiEndpoint}",
        "streamBaseUrl": stream_origin(synth),
        "mode": "aws",
    }
    assert sorted(p.name for p in staged(synth, deployments(synth)["Config"]).iterdir()) == [console.CONFIG_FILE]


# CORS


NOT_FROM_BROWSERS = {"Stripe-Signature", "X-Hub-Signature-256"}
"""Request headers of the contract no browser sends (Stripe's and Meta's webhook signatures)."""


def header_parameters() -> set[str]:
    """Every request header openapi.yaml documents as a parameter."""
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    shared = document.get("components", {}).get("parameters", {})
    found = set()
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                parameter = shared[parameter["$ref"].rsplit("/", 1)[1]] if "$ref" in parameter else parameter
                if parameter.get("in") == "header":
                    found.add(parameter["name"])
    return found


def test_the_allowed_and_exposed_headers_are_the_contracts() -> None:
    from bzapper.api.auth import MODE_HEADER
    from bzapper.api.contract import HEADERS

    assert set(cors.EXPOSED_HEADERS) == set(HEADERS), "every response header the API documents, and no other"
    allowed = {header.lower() for header in cors.REQUEST_HEADERS}
    documented = {header.lower() for header in header_parameters() - NOT_FROM_BROWSERS}
    assert documented and documented <= allowed
    # Not parameters in the contract: the credential, the JSON body, the session's mode, the SDK's stream.
    assert {"authorization", "content-type", MODE_HEADER, "cache-control"} <= allowed


def test_the_api_allows_the_console_origin_only(synth: Synth) -> None:
    configuration = one(synth, "AWS::ApiGatewayV2::Api")[1]["Properties"]["CorsConfiguration"]
    assert [render(o) for o in configuration["AllowOrigins"]] == [console_origin(synth)]
    assert configuration["AllowMethods"] == sorted({route.method for route in TOPOLOGY.routes})
    assert configuration["AllowHeaders"] == list(cors.REQUEST_HEADERS)
    assert configuration["ExposeHeaders"] == list(cors.EXPOSED_HEADERS)
    assert configuration["AllowCredentials"] is False
    assert configuration["MaxAge"] == 7200
    assert "*" not in json.dumps(configuration)


def test_the_stream_url_allows_the_console_origin_only(synth: Synth) -> None:
    (url,) = synth.resources("AWS::Lambda::Url", "api").values()
    configuration = url["Properties"]["Cors"]
    assert [render(o) for o in configuration["AllowOrigins"]] == [console_origin(synth)]
    assert configuration["AllowMethods"] == ["GET"]
    assert configuration["AllowHeaders"] == list(cors.REQUEST_HEADERS)
    assert configuration["ExposeHeaders"] == list(cors.EXPOSED_HEADERS)
    assert configuration["AllowCredentials"] is False and configuration["MaxAge"] == 7200
    assert "*" not in json.dumps(configuration)


# Custom domains: the console's own (its certificate) and the API's


def test_a_console_domain_is_the_distributions_alias_with_tls12_and_the_only_cors_origin(with_domains: Synth) -> None:
    config = distribution(with_domains)[1]
    assert config["Aliases"] == [CONSOLE_DOMAIN]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    (url,) = with_domains.resources("AWS::Lambda::Url", "api").values()
    api = one(with_domains, "AWS::ApiGatewayV2::Api")[1]["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == [f"https://{CONSOLE_DOMAIN}"]
    assert url["Properties"]["Cors"]["AllowOrigins"] == [f"https://{CONSOLE_DOMAIN}"]
    outputs = with_domains.templates["api"]["Outputs"]
    assert outputs["ConsoleUrl"]["Value"] == f"https://{CONSOLE_DOMAIN}/"


def test_with_a_console_domain_the_policy_names_the_api_and_the_stream_exactly(with_domains: Synth) -> None:
    security = headers_config(with_domains)["SecurityHeadersConfig"]
    policy = directives(render(security["ContentSecurityPolicy"]["ContentSecurityPolicy"]))
    assert policy["connect-src"] == ["'self'", f"https://{API_DOMAIN}", stream_origin(with_domains), *MEDIA_SOURCES]
    assert config_json(with_domains) == {
        "apiBaseUrl": f"https://{API_DOMAIN}",
        "streamBaseUrl": stream_origin(with_domains),
        "mode": "aws",
    }


def test_the_console_settings_are_checked() -> None:
    from infra.config import InfraConfig

    class Node:
        def __init__(self, **context: object) -> None:
            self.context = context

        def try_get_context(self, key: str) -> object:
            return self.context.get(key)

    default = InfraConfig.from_context(Node())
    assert (default.skip_console, default.console_domain, default.api_domain) == (False, None, None)
    assert default.console_dist == "console/dist"
    for value, skip in (("true", True), ("1", True), (True, True), ("false", False), (False, False)):
        assert InfraConfig.from_context(Node(**{"bzapper:skipConsole": value})).skip_console is skip
    problems = {
        "must be true or false": {"bzapper:skipConsole": "maybe"},
        "go together": {"bzapper:consoleDomain": CONSOLE_DOMAIN},
        "in us-east-1": {
            "bzapper:consoleDomain": CONSOLE_DOMAIN,
            "bzapper:consoleCertificateArn": CERTIFICATE.replace("us-east-1", "sa-east-1"),
        },
        "a hostname": {"bzapper:apiDomain": "https://api.example.com/"},
        "skips the console": {
            "bzapper:skipConsole": "true",
            "bzapper:consoleDomain": CONSOLE_DOMAIN,
            "bzapper:consoleCertificateArn": CERTIFICATE,
        },
    }
    for message, context in problems.items():
        with pytest.raises(ValueError, match=message):
            InfraConfig.from_context(Node(**context))


# No build, or no console


def test_without_a_build_the_synth_fails_and_says_what_to_do(tmp_path: Path) -> None:
    from aws_cdk import App

    from infra.app import build
    from infra.config import InfraConfig

    app = App(
        outdir=str(tmp_path / "cdk.out"), context=cdk_context(stage=STAGE, **{"bzapper:consoleDist": str(tmp_path)})
    )
    with pytest.raises(console.ConsoleNotBuilt, match=r"make console.*-c bzapper:skipConsole=true") as failure:
        build(app, InfraConfig.from_context(app.node), nag=False)
    assert str(tmp_path) in str(failure.value)


def test_the_skip_flag_leaves_the_console_and_cors_out(skipped: Synth) -> None:
    template = skipped.templates["api"]
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    assert not {k for k in kinds if k.startswith("AWS::CloudFront::")}
    assert not kinds & {"AWS::S3::Bucket", "Custom::CDKBucketDeployment", "Custom::S3AutoDeleteObjects"}
    assert set(skipped.resources("AWS::Lambda::Function", "api")) == set(skipped.group_functions("api"))
    assert "CorsConfiguration" not in one(skipped, "AWS::ApiGatewayV2::Api")[1]["Properties"]
    assert all("Cors" not in url["Properties"] for url in skipped.resources("AWS::Lambda::Url", "api").values())
    assert not {key for key in template["Outputs"] if key.startswith("Console")}
