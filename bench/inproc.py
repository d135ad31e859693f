"""The in-process world: the real function modules, the real services, the sandbox network on a thread.

Everything bzapper reads its settings from the environment once, so `bench.run` sets the environment
(moto server URL, stage `bench`, the sandbox network's URL) before anything here is imported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import botocore.session

from bench.backend import EndpointSession, Floor, drain, job_body_of
from bench.dynamo_units import DynamoSizer, Schema, schemas


def uncounted_client(service: str, endpoint_url: str) -> Any:
    """A botocore client the counting hooks never see (for reading item sizes, and the harness's own I/O)."""
    create = getattr(botocore.session.Session.create_client, "__wrapped__", botocore.session.Session.create_client)
    return create(botocore.session.get_session(), service, region_name="us-east-1", endpoint_url=endpoint_url)


@dataclass
class InProcess:
    moto_url: str
    settings: Any
    services: Any
    messages_handler: Any
    statuses_handler: Any
    account: dict[str, str]
    network: Any
    network_server: Any
    network_url: str
    floor: Floor
    raw_ddb: Any
    raw_sqs: Any
    schemas: dict[str, Schema]

    def sizer(self) -> DynamoSizer:
        return DynamoSizer(self.raw_ddb, self.schemas)

    def shard_queue_url(self) -> str:
        from bzapper.adapters.aws.clients import queue_url
        from bzapper.topology import shard_queue_name

        shard = self.services.instances.get(self.account["instance_id"]).shard
        return queue_url(self.settings.queue(shard_queue_name(shard), fifo=True))

    def purge_jobs(self) -> None:
        drain(self.raw_sqs, self.shard_queue_url())

    def close(self) -> None:
        self.network_server.shutdown()
        self.network_server.server_close()


def create(moto_url: str, time_scale: float = 0.25) -> InProcess:
    from bzapper_dev.sandbox.network import SandboxNetwork
    from bzapper_dev.sandbox.server import serve_network

    network = SandboxNetwork(time_scale=time_scale)
    server, _ = serve_network(network, host="127.0.0.1", port=0)
    network_url = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ["BZ_SANDBOX_URL"] = network_url
    from bzapper.config import reset_settings, settings

    reset_settings()  # bzapper reads its settings once: read them again with the network's URL
    from bzapper.bootstrap import services
    from bzapper.services.accounts import create_test_account
    from bzapper.topology import TOPOLOGY
    from bzapper_dev.local.functions import load_function
    from bzapper_dev.local.provision import provision

    current = settings()
    provision(EndpointSession(moto_url), current)
    svc = services()
    account = create_test_account(svc, name="Bench", locale="en", credits=1_000_000)
    messages = load_function("messages").handler
    statuses = load_function("statuses").handler

    # One real send gives the floor its item and its job body, byte for byte.
    from bench.apigw import send_event
    from bzapper_dev.local.lambda_context import LocalLambdaContext

    response = messages(send_event(account["api_key"], account["instance_id"]), LocalLambdaContext("bench-messages"))
    if response["statusCode"] != 202:
        raise RuntimeError(f"the bench's first send was refused: {response}")
    message_id = json.loads(response["body"])["message_id"]
    raw_ddb = uncounted_client("dynamodb", moto_url)
    item = raw_ddb.get_item(TableName=current.table("messages"), Key={"message_id": {"S": message_id}})["Item"]
    floor = Floor(moto_url, current, item, job_body_of(item))
    return InProcess(
        moto_url=moto_url,
        settings=current,
        services=svc,
        messages_handler=messages,
        statuses_handler=statuses,
        account=account,
        network=network,
        network_server=server,
        network_url=network_url,
        floor=floor,
        raw_ddb=raw_ddb,
        raw_sqs=uncounted_client("sqs", moto_url),
        schemas=schemas(current.table, TOPOLOGY),
    )
