"""cdk-nag and cfn-lint on the synthesized templates; the `cdk` CLI path that `make synth` takes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.cdk import PARTS, ROOT, STAGE, Synth, cdk_context

pytestmark = pytest.mark.xdist_group("infra")


def test_nag_ran_and_every_acknowledgment_has_a_written_reason(synth: Synth) -> None:
    from infra.components import nag

    # The fixture's synth would have raised on any finding left unacknowledged.
    made = nag.acknowledged()
    assert made, "cdk-nag acknowledgments are recorded"
    for _, rule in made:
        assert rule.startswith("AwsSolutions-"), rule
    assert all(len(reason) > 60 for reason in nag.REASONS.values())
    report = synth.outdir / "validation-report.json"
    if report.exists():
        assert all(plugin["conclusion"] == "success" for plugin in json.loads(report.read_text())["pluginReports"])


def test_nag_fails_the_synth_on_an_unacknowledged_finding(tmp_path) -> None:
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path), context=cdk_context(stage="dev"))
    stack = Stack(app, "Careless")
    sqs.Queue(stack, "NoDlqNoTls")  # no DLQ, no enforced TLS: AwsSolutions-SQS3, SQS4
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS3"):
        app.synth()


def test_cfn_lint_finds_no_error(synth: Synth) -> None:
    templates = [str(synth.outdir / f"{getattr(synth.stacks, part).stack_name}.template.json") for part in PARTS]
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", *templates], capture_output=True, text=True, check=False
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    assert result.returncode & 2 == 0, result.stderr


@pytest.mark.skipif(
    not (ROOT / "node_modules" / ".bin" / "cdk").exists(), reason="npm ci has not run (make test runs it)"
)
def test_the_pinned_cdk_cli_synthesizes_the_app_from_cdk_json(tmp_path, console_dist) -> None:
    """What `make synth` runs, with the placeholder layer and console build: the CLI, cdk.json's app command,
    every stack."""
    env = {
        **os.environ,
        "BZ_CDK_LAYER": "placeholder",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    env.pop("CDK_DEFAULT_ACCOUNT", None)
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [
            str(ROOT / "node_modules/.bin/cdk"),
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            f"stage={STAGE}",
            "-c",
            f"bzapper:consoleDist={console_dist}",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    produced = sorted(path.name for path in out.glob("*.template.json"))
    assert produced == sorted(f"bzapper-{STAGE}-{part}.template.json" for part in PARTS)
