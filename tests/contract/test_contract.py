"""openapi.yaml is generated from the apps, and the topology (what AWS and local route) matches them."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.openapi.utils import get_openapi

from bzapper.api.apps import create_app
from bzapper.api.contract import openapi_document, openapi_yaml
from bzapper.domain.errors import ERROR_CODES
from bzapper.topology import TOPOLOGY
from bzapper_dev.local.functions import functions_dir, load_function

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_code():
    committed = (ROOT / "openapi.yaml").read_text()
    assert committed == openapi_yaml(), "openapi.yaml is stale: run `make openapi` and commit it"


def _operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_every_group_app_serves_exactly_its_topology_routes():
    for group in TOPOLOGY.api_groups:
        expected = {(route.method, route.path) for route in TOPOLOGY.routes if route.group == group}
        app = load_function(group).app  # the very app the Lambda function serves
        served = get_openapi(title="t", version="1", routes=app.routes)
        assert _operations(served) == expected, group


def test_every_operation_in_the_contract_is_routed():
    assert _operations(openapi_document()) == {(route.method, route.path) for route in TOPOLOGY.routes}


def test_every_function_directory_is_in_the_topology():
    groups = set(TOPOLOGY.api_groups) | {c.group for c in TOPOLOGY.consumers} | {s.group for s in TOPOLOGY.schedules}
    groups |= {t.group for t in TOPOLOGY.triggers}
    on_disk = {path.parent.name for path in functions_dir().glob("*/handler.py")}
    assert on_disk == groups


def test_authenticated_operations_declare_security_and_errors():
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    error_codes = document["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert set(error_codes) == set(ERROR_CODES)
    for route in TOPOLOGY.routes:
        operation = document["paths"][route.path][route.method.lower()]
        assert "500" in operation["responses"] or not route.auth
        if route.auth:
            assert operation["security"] == [{"HTTPBearer": []}]
            assert "401" in operation["responses"]
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }


def test_no_framework_default_validation_schema_leaks():
    document = openapi_document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert create_app().openapi_url is None  # Lambda functions do not serve the spec themselves
