"""The CDK app synthesized once per test session (cdk-nag included), with the layer bundling skipped.

Every infra test module is in the xdist group "infra", so one pytest worker synthesizes it once.
`make synth` does the real pip bundling; here the dependencies layer is a placeholder
(BZ_CDK_LAYER=placeholder), which changes one asset and nothing in the templates' shape. The web console's
build is a placeholder too (`console/dist` is `make console`'s, and may not exist): `placeholder_console`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.cdk import CLOUD_SECRET, PARTS, STAGE, STRIPE_SECRET, Synth, cdk_context, placeholder_console


@pytest.fixture(scope="session")
def console_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return placeholder_console(tmp_path_factory.mktemp("console") / "dist")


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, console_dist: Path) -> Synth:
    from aws_cdk import App

    from infra.app import build
    from infra.config import LAYER_ENV, LAYER_PLACEHOLDER, InfraConfig

    os.environ[LAYER_ENV] = LAYER_PLACEHOLDER
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = cdk_context(
        stage=STAGE,
        **{
            "bzapper:stripeSecretName": STRIPE_SECRET,
            "bzapper:cloudSecretName": CLOUD_SECRET,
            "bzapper:consoleDist": str(console_dist),
        },
    )
    app = App(outdir=str(outdir), context=context)
    config = InfraConfig.from_context(app.node)
    stacks = build(app, config)
    assembly = app.synth()  # raises when cdk-nag reports a finding that is not acknowledged
    templates = {part: assembly.get_stack_by_name(getattr(stacks, part).stack_name).template for part in PARTS}
    return Synth(config=config, stacks=stacks, outdir=outdir, templates=templates)
