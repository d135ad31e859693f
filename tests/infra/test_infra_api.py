"""The HTTP API and the functions behind it: every documented operation reaches its group's function."""

from __future__ import annotations

import json

import pytest
import yaml
from support.cdk import ROOT, Synth, consumed_queue

from bzapper.topology import DEFAULT_GROUP, TOPOLOGY, match_route

pytestmark = pytest.mark.xdist_group("infra")

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def openapi_operations() -> list[tuple[str, str]]:
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    return [
        (method.upper(), path) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS
    ]


def routes(synth: Synth) -> dict[str, dict]:
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synth.resources("AWS::ApiGatewayV2::Route").values()
    }


def routed_function(synth: Synth, route: dict) -> str:
    join = route["Target"]["Fn::Join"][1]
    assert join[0] == "integrations/"
    integration = synth.resource(join[1]["Ref"])["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    return synth.target(integration["IntegrationUri"])


def test_openapi_lists_operations() -> None:
    assert len(openapi_operations()) >= len(TOPOLOGY.routes)


@pytest.mark.parametrize(("method", "path"), openapi_operations())
def test_every_openapi_operation_has_a_route_to_its_group_function(synth: Synth, method: str, path: str) -> None:
    route, _ = match_route(method, path)
    assert route is not None, f"{method} {path} is in openapi.yaml but not in the topology"
    deployed = routes(synth).get(f"{method} {route.path}")
    assert deployed is not None, f"no API Gateway route for {method} {route.path}"
    assert routed_function(synth, deployed) == synth.function_of_group(route.group)


def test_unmatched_requests_go_to_the_fallback_group(synth: Synth) -> None:
    default = routes(synth)["$default"]
    assert routed_function(synth, default) == synth.function_of_group(DEFAULT_GROUP)


def test_stage_is_throttled_and_access_logged(synth: Synth) -> None:
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    throttle = props["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] == synth.config.api_rate_limit
    assert throttle["ThrottlingBurstLimit"] == synth.config.api_burst_limit
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId" and "status" in log_format
    log_group = synth.resource(synth.target(props["AccessLogSettings"]["DestinationArn"]))
    assert log_group["Properties"]["RetentionInDays"] >= synth.config.log_retention_days


def test_every_function_is_arm64_python312_with_layers_json_logs_and_its_log_group(synth: Synth) -> None:
    functions = {**synth.group_functions("api"), **synth.group_functions("identity")}
    assert functions
    streaming = {synth.function_of_group(group) for group in TOPOLOGY.streaming_groups}
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Runtime"] == "python3.12", logical_id
        # Streaming functions: run.sh behind the Web Adapter, plus its layer and uvicorn's (test_infra_streaming).
        assert props["Handler"] == ("run.sh" if logical_id in streaming else "handler.handler"), logical_id
        assert len(props["Layers"]) == (4 if logical_id in streaming else 2), logical_id
        assert props["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["Environment"]["Variables"]["BZ_STAGE"] == synth.config.stage
        log_group = synth.resource(synth.target(props["LoggingConfig"]["LogGroup"]))
        assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert log_group["Properties"]["RetentionInDays"] >= synth.config.log_retention_days


def test_functions_that_send_know_their_queue_urls(synth: Synth) -> None:
    from infra.components.permissions import queue_url_env_key

    env = synth.resource(synth.function_of_group("messages"))["Properties"]["Environment"]["Variables"]
    for queue in TOPOLOGY.queues:
        if queue.name.startswith("shard-"):
            assert queue_url_env_key(synth.config.name(queue.name) + queue.physical_suffix) in env


def test_payment_secrets_come_from_secrets_manager_and_an_encrypted_environment(synth: Synth) -> None:
    for group, variable in (("billing", "BZ_STRIPE_SECRET_KEY"), ("payments", "BZ_STRIPE_WEBHOOK_SECRET")):
        props = synth.resource(synth.function_of_group(group))["Properties"]
        value = json.dumps(props["Environment"]["Variables"][variable])
        assert "resolve:secretsmanager:bzapper/ci/stripe" in value
        assert synth.resource(synth.target(props["KmsKeyArn"]))["Properties"]["EnableKeyRotation"] is True
    messages = synth.resource(synth.function_of_group("messages"))["Properties"]
    assert "KmsKeyArn" not in messages
    assert not any("STRIPE" in name for name in messages["Environment"]["Variables"])


def test_the_meta_app_secret_comes_from_secrets_manager_to_the_webhook_function_only(synth: Synth) -> None:
    props = synth.resource(synth.function_of_group("cloud"))["Properties"]
    for variable in ("BZ_CLOUD_APP_SECRET", "BZ_CLOUD_VERIFY_TOKEN"):
        assert "resolve:secretsmanager:bzapper/ci/meta-app" in json.dumps(props["Environment"]["Variables"][variable])
    assert synth.resource(synth.target(props["KmsKeyArn"]))["Properties"]["EnableKeyRotation"] is True
    for group in ("cloud_send", "statuses", "instances", "messages"):
        variables = synth.resource(synth.function_of_group(group))["Properties"]["Environment"]["Variables"]
        assert not any(name.startswith("BZ_CLOUD_") for name in variables), group


def test_consumers_are_sqs_mappings_with_partial_batch_failures(synth: Synth) -> None:
    mappings = synth.resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(TOPOLOGY.consumers)
    for consumer in TOPOLOGY.consumers:
        queue_name, visibility_timeout = consumed_queue(synth.config, consumer)
        (mapping,) = [
            m["Properties"]
            for m in mappings.values()
            if synth.resource(synth.target(m["Properties"]["EventSourceArn"]))["Properties"]["QueueName"] == queue_name
        ]
        assert synth.target(mapping["FunctionName"]) == synth.function_of_group(consumer.group)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == consumer.batch_size
        timeout = synth.resource(synth.function_of_group(consumer.group))["Properties"]["Timeout"]
        assert timeout <= visibility_timeout, "a batch must finish before it becomes visible again"


def test_schedules_invoke_their_function_at_the_topology_rate(synth: Synth) -> None:
    schedules = synth.resources("AWS::Scheduler::Schedule")
    assert len(schedules) == len(TOPOLOGY.schedules)
    for spec in TOPOLOGY.schedules:
        (schedule,) = [
            s["Properties"] for s in schedules.values() if s["Properties"]["Name"] == synth.config.name(spec.group)
        ]
        minutes = spec.every_seconds // 60
        assert schedule["ScheduleExpression"] == f"rate({minutes} minute{'s' if minutes > 1 else ''})"
        assert synth.target(schedule["Target"]["Arn"]) == synth.function_of_group(spec.group)
