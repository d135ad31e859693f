"""POST /messages/text through the real handler, against its floor, on the same backend in the same run.

Floor and handler run in alternating batches (floor first in even rounds, handler first in odd
ones) with the queues emptied before each batch, so neither gets the quieter moment or the emptier
queue (moto's SQS slows as a queue fills).
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.apigw import send_event
from bench.counting import RECORDER
from bench.stats import median, summary_ms


def _batches(
    runners: dict[str, Callable[[], tuple[bool, float]]],
    before_batch: Callable[[], None],
    rounds: int,
    per_round: int,
    budget_s: float,
) -> dict[str, dict[str, Any]]:
    samples: dict[str, list[float]] = {name: [] for name in runners}
    walls: dict[str, float] = dict.fromkeys(runners, 0.0)
    accepted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    deadline = time.monotonic() + budget_s
    names = list(runners)
    for round_no in range(rounds):
        if time.monotonic() > deadline:
            break
        for name in names if round_no % 2 == 0 else reversed(names):
            before_batch()
            started = time.perf_counter()
            for _ in range(per_round):
                ok, seconds = runners[name]()
                samples[name].append(seconds)
                accepted[name] += ok
                refused[name] += not ok
            walls[name] += time.perf_counter() - started
    return {
        name: {
            **summary_ms(samples[name]),
            "accepted": accepted[name],
            "refused": refused[name],
            "per_second": round(accepted[name] / walls[name], 1) if walls[name] else None,
        }
        for name in runners
    }


def _ratio(handler: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    return {
        "p50_x": round(handler["p50_ms"] / floor["p50_ms"], 2),
        "p99_x": round(handler["p99_ms"] / floor["p99_ms"], 2),
        "throughput_x": round(handler["per_second"] / floor["per_second"], 3) if floor["per_second"] else None,
    }


# -- in-process -----------------------------------------------------------------------------------


def in_process(ctx: Any, rounds: int, per_round: int, budget_s: float) -> dict[str, Any]:
    """The Lambda handler called directly with API Gateway v2 events: one request at a time, as one
    Lambda instance serves them. CPU time and time inside botocore are recorded per call, so what
    is ours and what is the backend's can be told apart."""
    from bzapper_dev.local.lambda_context import LocalLambdaContext

    handler = ctx.messages_handler
    key, instance = ctx.account["api_key"], ctx.account["instance_id"]
    cpu: list[float] = []
    in_aws: list[float] = []
    totals: list[float] = []

    def one_send() -> tuple[bool, float]:
        event = send_event(key, instance)
        context = LocalLambdaContext("bzapper-bench-messages")
        aws_before, cpu_before = RECORDER.aws_seconds(), time.process_time()
        started = time.perf_counter()
        response = handler(event, context)
        elapsed = time.perf_counter() - started
        cpu.append(time.process_time() - cpu_before)
        in_aws.append(RECORDER.aws_seconds() - aws_before)
        totals.append(elapsed)
        return response["statusCode"] == 202, elapsed

    def one_floor() -> tuple[bool, float]:
        started = time.perf_counter()
        ctx.floor.send()
        return True, time.perf_counter() - started

    def empty_queues() -> None:
        ctx.floor.purge()
        ctx.purge_jobs()

    for _ in range(5):  # warm: connections open, caches filled, code paths imported
        one_send()
        one_floor()
    cpu.clear()
    in_aws.clear()
    totals.clear()
    result = _batches({"handler": one_send, "floor": one_floor}, empty_queues, rounds, per_round, budget_s)
    handler_stats = result["handler"]
    handler_stats["cpu_p50_ms"] = round(median(cpu) * 1000, 2)
    handler_stats["in_botocore_p50_ms"] = round(median(in_aws) * 1000, 2)
    handler_stats["outside_botocore_p50_ms"] = round(
        median([total - aws for total, aws in zip(totals, in_aws, strict=True)]) * 1000, 2
    )
    return {**result, "ratio": _ratio(result["handler"], result["floor"]), "cpu_samples_s": cpu}


def profile_handler(ctx: Any, count: int, out_dir: Path) -> dict[str, Any]:
    """Where a warm send's time goes: cProfile self time, grouped by package, over `count` sends."""
    from bzapper_dev.local.lambda_context import LocalLambdaContext

    events = [send_event(ctx.account["api_key"], ctx.account["instance_id"]) for _ in range(count)]
    profiler = cProfile.Profile()
    with inline_threadpool():
        profiler.enable()
        for event in events:
            ctx.messages_handler(event, LocalLambdaContext("bzapper-bench-messages"))
        profiler.disable()
    ctx.purge_jobs()
    profiler.dump_stats(out_dir / "send.prof")
    stats = pstats.Stats(profiler)
    by_package: Counter[str] = Counter()
    functions = []
    total = 0.0
    for (filename, line, name), (_, _, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        package = package_of(filename)
        by_package[package] += tottime
        total += tottime
        functions.append((cumtime, f"{package}:{Path(filename).name}:{line}:{name}"))
    functions.sort(reverse=True)
    # The wrappers (Powertools, Mangum, FastAPI, the event loop) hold ~100 % each: what is informative
    # is the biggest costs below them, in our code and in the AWS libraries.
    informative = [
        (cumulative, name)
        for cumulative, name in functions
        if name.split(":", 1)[0] in {"bzapper", "pynamodb", "botocore"} and cumulative < 0.9 * total
    ]
    return {
        "sends": count,
        "self_time_share": {name: round(seconds / total, 3) for name, seconds in by_package.most_common(12)},
        "per_send_ms_under_profiler": round(total / count * 1000, 2),
        "top_cumulative": [
            {"function": name, "ms_per_send": round(cumulative / count * 1000, 2)}
            for cumulative, name in informative[:12]
        ],
    }


@contextmanager
def inline_threadpool() -> Iterator[None]:
    """FastAPI runs sync endpoints and dependencies on a worker thread, which cProfile (one thread)
    cannot see: while profiling, run them inline on the event loop's thread instead. The thread hop
    itself is then missing from the profile (it is in every timed figure)."""
    import fastapi.dependencies.utils as dependency_utils
    import fastapi.routing as routing

    async def run_inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    saved = (routing.run_in_threadpool, dependency_utils.run_in_threadpool)
    routing.run_in_threadpool = run_inline  # type: ignore[assignment]
    dependency_utils.run_in_threadpool = run_inline  # type: ignore[assignment]
    try:
        yield
    finally:
        routing.run_in_threadpool, dependency_utils.run_in_threadpool = saved


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/bzapper/" in filename:
        return "bzapper"
    if "/functions/" in filename:
        return "functions"
    if filename.startswith("<"):
        return "builtins"
    return "python stdlib"


def connection_cost(samples: int = 15) -> dict[str, Any]:
    """What `TransactWrite(connection=Connection(...))` costs before it sends anything: a new botocore
    session and client (the transaction in MessageStore.commit_send builds one per send)."""
    from pynamodb.connection import Connection

    from bzapper.config import settings

    fresh, reused = [], []
    shared = Connection(region=settings().region)
    shared.client  # noqa: B018 - built once
    for _ in range(samples):
        started = time.perf_counter()
        Connection(region=settings().region).client  # noqa: B018 - the cost is the construction
        fresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        shared.client  # noqa: B018
        reused.append(time.perf_counter() - started)
    return {"new_connection_client": summary_ms(fresh), "reused_connection_client": summary_ms(reused)}


# -- over HTTP ------------------------------------------------------------------------------------


def over_http(
    base_url: str,
    api_key: str,
    instance_id: str,
    floor: Any,
    rounds: int,
    per_round: int,
    budget_s: float,
    concurrent: int,
    concurrent_requests: int,
) -> dict[str, Any]:
    """Against a booted `bzapper dev`: uvicorn → LocalGateway → the same FastAPI app, keep-alive client."""
    import httpx

    payload = {"instance_id": instance_id, "to": "+5511988888888", "body": "Hello from the bench"}
    headers = {"Authorization": f"Bearer {api_key}"}

    def http_sender(client: httpx.Client) -> Callable[[], tuple[bool, float]]:
        def one() -> tuple[bool, float]:
            started = time.perf_counter()
            response = client.post("/messages/text", json=payload, headers=headers)
            return response.status_code == 202, time.perf_counter() - started

        return one

    def floor_sender(target: Any) -> Callable[[], tuple[bool, float]]:
        def one() -> tuple[bool, float]:
            started = time.perf_counter()
            target.send()
            return True, time.perf_counter() - started

        return one

    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(5):
            http_sender(client)()
            floor_sender(floor)()
        sequential = _batches(
            {"handler": http_sender(client), "floor": floor_sender(floor)}, floor.purge, rounds, per_round, budget_s
        )
    result: dict[str, Any] = {"sequential": {**sequential, "ratio": _ratio(sequential["handler"], sequential["floor"])}}

    # Closed loop with `concurrent` clients: what the local stack accepts when several callers push.
    clients = [httpx.Client(base_url=base_url, timeout=30) for _ in range(concurrent)]
    floors = [floor.clone() for _ in range(concurrent)]
    try:
        parallel = {}
        for name, senders in (
            ("handler", [http_sender(c) for c in clients]),
            ("floor", [floor_sender(f) for f in floors]),
        ):
            floor.purge()
            per_sender = max(1, concurrent_requests // concurrent)

            def drive(send: Callable[[], tuple[bool, float]], count: int = per_sender) -> list[tuple[bool, float]]:
                return [send() for _ in range(count)]

            started = time.perf_counter()
            with ThreadPoolExecutor(concurrent) as pool:
                outcomes = [item for chunk in pool.map(drive, senders) for item in chunk]
            wall = time.perf_counter() - started
            ok = sum(1 for accepted, _ in outcomes if accepted)
            parallel[name] = {
                **summary_ms([seconds for _, seconds in outcomes]),
                "accepted": ok,
                "refused": len(outcomes) - ok,
                "per_second": round(ok / wall, 1),
            }
        result["concurrent"] = {
            "clients": concurrent,
            **parallel,
            "ratio": _ratio(parallel["handler"], parallel["floor"]),
        }
    finally:
        for c in clients:
            c.close()
    return result
