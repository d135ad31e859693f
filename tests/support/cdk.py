"""Helpers of the infra tests (the synthesized stacks and how to read them); the fixture is in conftest."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the `infra` package lives at the repository root

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,21,22,23")

STAGE = "ci"
"""A protected stage (not `dev`): deletion protection and retained data, as in production."""
STRIPE_SECRET = "bzapper/ci/stripe"
CLOUD_SECRET = "bzapper/ci/meta-app"
PARTS = ("data", "messaging", "identity", "api", "sessions", "observability")
CDK_HANDLERS = ("CustomCDKBucketDeployment", "CustomS3AutoDeleteObjectsCustomResourceProvider")
"""Logical-id prefixes of the functions CDK adds for its own custom resources (the web console's upload, the
emptying of its bucket): not of any topology group."""

PLACEHOLDER_ASSETS = ("index-3f9a1c2e.js", "index-7b4d0e91.css")


def placeholder_console(folder: Path) -> Path:
    """A web console build as Vite lays it out (`console/dist` is `make console`'s, and may not exist): index.html
    and hashed files under assets/."""
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    scripts = "".join(f'<script type="module" src="./assets/{name}"></script>' for name in PLACEHOLDER_ASSETS)
    (folder / "index.html").write_text(f"<!doctype html><html><head>{scripts}</head><body></body></html>\n")
    for name in PLACEHOLDER_ASSETS:
        (folder / "assets" / name).write_text("/* placeholder */\n")
    return folder


@dataclass
class Synth:
    config: Any
    stacks: Any
    outdir: Path
    templates: dict[str, dict[str, Any]]
    """Stack part (data, messaging, ...) → its CloudFormation template."""

    def resources(self, kind: str, part: str | None = None) -> dict[str, dict[str, Any]]:
        """Logical id → resource, of one type, in one stack or in all of them."""
        found = {}
        for name, template in self.templates.items():
            if part is None or name == part:
                found.update({key: value for key, value in template["Resources"].items() if value["Type"] == kind})
        return found

    def group_functions(self, part: str | None = None) -> dict[str, dict[str, Any]]:
        """The Lambda functions of topology groups: every function but CDK's own handlers (CDK_HANDLERS)."""
        functions = self.resources("AWS::Lambda::Function", part)
        return {key: value for key, value in functions.items() if not key.startswith(CDK_HANDLERS)}

    def resource(self, logical_id: str) -> dict[str, Any]:
        for template in self.templates.values():
            if logical_id in template["Resources"]:
                return template["Resources"][logical_id]
        raise KeyError(logical_id)

    def target(self, value: Any) -> str | None:
        """The logical id a Ref, a GetAtt or a cross-stack import of either points at (None for anything else)."""
        if isinstance(value, dict):
            if "Ref" in value:
                return value["Ref"]
            if "Fn::GetAtt" in value:
                return value["Fn::GetAtt"][0]
            if "Fn::ImportValue" in value:
                return self.target(self.exports()[value["Fn::ImportValue"]])
        return None

    def exports(self) -> dict[str, Any]:
        found = {}
        for template in self.templates.values():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    found[output["Export"]["Name"]] = output["Value"]
        return found

    def function_of_group(self, group: str) -> str:
        """The logical id of the Lambda function named after `group`."""
        name = self.config.name(group)
        matches = [key for key, fn in self.group_functions().items() if fn["Properties"].get("FunctionName") == name]
        assert len(matches) == 1, f"{len(matches)} functions named {name}"
        return matches[0]


def consumed_queue(config: Any, consumer: Any) -> tuple[str, int]:
    """(physical name, visibility timeout) of the queue a topology consumer reads: the queue, or its DLQ."""
    from bzapper.topology import TOPOLOGY
    from infra.stacks.api import DLQ_VISIBILITY_TIMEOUT, consumes_dead_letters

    queue = TOPOLOGY.queue(consumer.queue)
    if consumes_dead_letters(consumer):
        return config.name(queue.dlq_name) + queue.physical_suffix, DLQ_VISIBILITY_TIMEOUT
    return config.name(queue.name) + queue.physical_suffix, queue.visibility_timeout


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context (the feature flags `cdk synth` uses), with overrides."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {key: value for key, value in {**context, **overrides}.items() if value is not None}
