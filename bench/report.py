"""The printed table: every figure next to its floor or its reference, and n/a where nothing exists yet."""

from __future__ import annotations

from typing import Any

from bench.targets import evaluate

NA = "n/a (not built yet)"
EVENT_ROWS = (
    ("event_to_bus", "event created → on the bus (sent/delivered/read)"),
    ("bus_to_webhook", "bus → webhook received"),
    ("event_to_webhook", "event created → webhook received"),
    ("bus_to_sse", "bus → SSE received"),
    ("event_to_sse", "event created → SSE received"),
)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  " + "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        )
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _load(section: dict[str, Any]) -> str:
    info = section.get("load") or {}
    if not info:
        return ""
    flag = "  ** NOISY: load above core count **" if info.get("noisy") else ""
    return f"  [load {info.get('load_before')} → {info.get('load_after')}, {info.get('wall_s')} s{flag}]"


def _error(section: dict[str, Any]) -> str | None:
    return f"  FAILED: {section['error']}" if "error" in section else None


def _by_process(cpu: dict[str, Any]) -> str:
    parts = [f"{role} {cpu[role]}" for role in ("runner", "moto", "worker") if role in cpu]
    return ", ".join(parts) + f" = {cpu.get('total')}"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        "bzapper bench",
        f"  machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, {m['os']}",
        f"  python {m['python']}, moto {m['moto']}, boto3 {m['boto3']}, pynamodb {m['pynamodb']}, "
        f"fastapi {m['fastapi']}, powertools {m['aws_lambda_powertools']}",
        f"  commit {m['commit']}"
        + (
            f" + uncommitted changes in {len(m['uncommitted_code_changes'])} code files"
            if m["uncommitted_code_changes"]
            else ""
        ),
        f"  started {m['started_at']}, load at start {results.get('load_at_start')},"
        f" at end {results.get('load_at_end')}",
        "",
    ]
    s = results["sections"]

    # -- send path ------------------------------------------------------------------------------
    send, http = s.get("send_in_process", {}), s.get("send_http", {})
    out.append("SEND PATH vs FLOOR: POST /messages/text (auth, validation, rate limit, wallet, write, enqueue)")
    out.append("  floor = one DynamoDB PutItem + one SQS SendMessage with boto3, same backend, same run")
    rows = []

    def add(label: str, stats: dict[str, Any], ratio: dict[str, Any] | None = None) -> None:
        rows.append(
            [
                label,
                stats.get("per_second"),
                stats.get("p50_ms"),
                stats.get("p99_ms"),
                stats.get("n"),
                stats.get("refused"),
                f"{ratio['p50_x']}x / {ratio['p99_x']}x" if ratio else "",
            ]
        )

    if "handler" in send:
        add("in-process: handler, 1 at a time", send["handler"], send["ratio"])
        add("in-process: floor", send["floor"])
    if "sequential" in http:
        add("HTTP (bzapper dev): 1 client", http["sequential"]["handler"], http["sequential"]["ratio"])
        add("HTTP: floor, 1 client", http["sequential"]["floor"])
    if "concurrent" in http:
        c = http["concurrent"]
        add(f"HTTP (bzapper dev): {c['clients']} clients", c["handler"], c["ratio"])
        add(f"HTTP: floor, {c['clients']} clients", c["floor"])
    out.append(_table(["", "sends/s", "p50 ms", "p99 ms", "n", "refused", "x floor p50/p99"], rows))
    for name in ("send_in_process", "send_http"):
        if name in s:
            out.append(_error(s[name]) or _load(s[name]) + f" {name}")
    if "handler" in send:
        h = send["handler"]
        out.append(
            f"  a warm in-process send: {h['cpu_p50_ms']} ms CPU (p50); {h['in_botocore_p50_ms']} ms inside botocore"
            f" calls, {h['outside_botocore_p50_ms']} ms outside them"
        )
    conn = s.get("connection_cost", {})
    if "new_connection_client" in conn:
        out.append(
            f"  a new pynamodb Connection's botocore client (built by every send's TransactWrite): "
            f"p50 {conn['new_connection_client']['p50_ms']} ms;"
            f" reusing one: {conn['reused_connection_client']['p50_ms']} ms"
        )
    prof = s.get("profile", {})
    if "self_time_share" in prof:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in list(prof["self_time_share"].items())[:6])
        out.append(f"  cProfile self time of a warm send by package: {shares}")
        out.append(f"  under cProfile a send takes {prof['per_send_ms_under_profiler']} ms; the biggest parts of it:")
        for row in prof.get("top_cumulative", [])[:6]:
            out.append(f"    {row['ms_per_send']:>8} ms  {row['function']}")
    out.append("")

    # -- requests -------------------------------------------------------------------------------
    life = s.get("life", {})
    out.append("AWS REQUESTS (botocore hooks on every client, pynamodb's included)")
    if "busy" in life:
        busy, quiet = life["busy"], life["quiet"]
        hot = busy["requests_per_message"].get("api", {})
        out.append("  hot path, warm send: " + ", ".join(f"{k} {v:g}" for k, v in hot.items()))
        if "cold_send" in life:
            out.append(
                "  first send of a fresh process: "
                + ", ".join(f"{k} {v:g}" for k, v in life["cold_send"]["requests"].items())
                + f"; botocore clients built: {life['cold_send']['botocore_clients_created']}"
            )
        clients = busy.get("botocore_clients_created_per_message", {})
        if clients:
            out.append(
                "  botocore clients built per message, warm: " + ", ".join(f"{k} {v:g}" for k, v in clients.items())
            )
        rows = []
        components = sorted(set(busy["requests_per_message"]) | set(quiet["requests_per_message"]))
        for component in components:
            ops = sorted(
                set(busy["requests_per_message"].get(component, {}))
                | set(quiet["requests_per_message"].get(component, {}))
            )
            for op in ops:
                rows.append(
                    [
                        f"{component}  {op}",
                        busy["requests_per_message"].get(component, {}).get(op, 0),
                        quiet["requests_per_message"].get(component, {}).get(op, 0),
                    ]
                )
        rows.append(["TOTAL requests our code makes", _sum(busy), _sum(quiet)])
        for kind in ("fifo", "standard"):
            rows.append(
                [
                    f"  of which SQS {kind}",
                    busy.get("sqs_requests_per_message", {}).get(kind, 0),
                    quiet.get("sqs_requests_per_message", {}).get(kind, 0),
                ]
            )
        rows.append(
            [
                "EventBridge → SQS deliveries (entries × rules)",
                busy.get("eventbridge_target_sends_per_message", 0),
                quiet.get("eventbridge_target_sends_per_message", 0),
            ]
        )
        rows.append(
            ["EventBridge entries", busy["eventbridge_entries_per_message"], quiet["eventbridge_entries_per_message"]]
        )
        rows.append(["webhook POSTs", busy.get("webhook_posts_per_message"), quiet.get("webhook_posts_per_message")])
        for unit in ("wru", "gsi_wru", "rru"):
            rows.append(
                [
                    f"DynamoDB {unit.upper()}",
                    busy["dynamodb_units_per_message"][unit],
                    quiet["dynamodb_units_per_message"][unit],
                ]
            )
        for function, value in busy["invocations_per_message"].items():
            rows.append([f"Lambda invocations: {function}", value, quiet["invocations_per_message"].get(function)])
        out.append(
            f"  per message, full life (send → sending → sent → delivered → read); busy = {busy['messages']} messages"
            f" in flight (job batches {busy['job_batch_sizes']['mean']},"
            f" status batches {busy['batch_sizes']['statuses']['mean']}),"
            f" quiet = one at a time"
        )
        out.append(_table(["component  service:Operation", "busy", "quiet"], rows))
        for scenario in (busy, quiet):
            if not scenario.get("complete", True):
                out.append(
                    f"  ** {scenario['scenario']} INCOMPLETE: its time budget ran out with"
                    f" {scenario['left_in_queues']} still queued; its counts are short **"
                )
        out.append(
            f"  final statuses: busy {busy['final_status']}, quiet {quiet['final_status']}; largest message item"
            f" {busy['item_bytes_max'].get(_messages_table(busy), '?')} B"
        )
        keys_only = busy["dynamodb_units_per_message_if_by_wa_id_keys_only"]["gsi_wru"]
        if keys_only != busy["dynamodb_units_per_message"]["gsi_wru"]:
            out.append(
                f"  GSI writes per message if by_wa_id were KEYS_ONLY: {keys_only}"
                f" (now {busy['dynamodb_units_per_message']['gsi_wru']})"
            )
        by_component = [busy.get("dynamodb_units_by_component", {}), quiet.get("dynamodb_units_by_component", {})]
        unit_rows = []
        for component in sorted(set(by_component[0]) | set(by_component[1])):
            cells = [scenario.get(component, {}) for scenario in by_component]
            if not any(cell.get(unit) for cell in cells for unit in ("wru", "gsi_wru", "rru")):
                continue
            unit_rows.append(
                [component]
                + [cell.get(unit, 0) for cell in cells for unit in ("wru", "gsi_wru")]
                + [round(sum(cell.get(unit, 0) for unit in ("wru", "gsi_wru")), 3) for cell in cells]
                + [cell.get("rru", 0) for cell in cells]
            )
        totals = [busy["dynamodb_units_per_message"], quiet["dynamodb_units_per_message"]]
        unit_rows.append(
            ["TOTAL"]
            + [cell[unit] for cell in totals for unit in ("wru", "gsi_wru")]
            + [round(cell["wru"] + cell["gsi_wru"], 3) for cell in totals]
            + [cell["rru"] for cell in totals]
        )
        out.append("  DynamoDB units per message life, by component (write units: table, GSI, both):")
        out.append(
            _table(
                [
                    "component",
                    "busy WRU",
                    "busy GSI",
                    "quiet WRU",
                    "quiet GSI",
                    "busy all",
                    "quiet all",
                    "busy RRU",
                    "quiet RRU",
                ],
                unit_rows,
            )
        )
    if "per_status" in life:
        out.append("  statuses Lambda, one record per status:")
        rows = [
            [
                status,
                ", ".join(f"{k} {v:g}" for k, v in row["requests"].items()),
                row["dynamodb_units"]["wru"],
                row["dynamodb_units"]["gsi_wru"],
                row["dynamodb_units"]["wru"] + row["dynamodb_units"]["gsi_wru"],
                row["dynamodb_units"]["rru"],
            ]
            for status, row in life["per_status"].items()
        ]
        out.append(_table(["status", "requests", "WRU", "GSI WRU", "all WRU", "RRU"], rows))
    if "idle_worker" in life:
        idle = life["idle_worker"]
        out.append(
            f"  an idle worker ({idle['shards']} shards), per hour: "
            + ", ".join(f"{k} {v:,}" for k, v in idle["requests_per_hour"].items())
        )
    if "life" in s:
        out.append(_error(s["life"]) or _load(s["life"]) + " life")
    out.append("")

    # -- end to end -------------------------------------------------------------------------------
    e2e = s.get("e2e", {})
    out.append("END TO END on the local stack (bzapper dev), open loop")
    if "send_to_sent" in e2e:
        out.append(
            f"  offered {e2e['offered_per_second']}/s for {e2e['offered_for_s']} s:"
            f" {e2e['accepted']} accepted, {e2e['refused']} refused;"
            f" whole lives completed at {e2e.get('completed_per_second')}/s;"
            f" the stack's processes used {e2e.get('stack_cpu_s_per_message')} CPU-s per message"
        )
        if isinstance(e2e.get("cpu_s_per_message_by_process"), dict):
            out.append("  CPU-s per message life by process: " + _by_process(e2e["cpu_s_per_message_by_process"]))
        rows = [["accepted (202)", e2e["accept_latency"].get("p50_ms"), e2e["accept_latency"].get("p99_ms"), ""]]
        for key, label in (
            ("send_to_sent", "send → sent (event on the bus)"),
            ("send_to_delivered", "send → delivered (contact delivers after 0.2 s)"),
            ("send_to_read", "send → read (contact reads after 0.6 s)"),
            ("send_to_webhook_sent", "send → webhook message.sent received"),
            ("send_to_webhook_read", "send → webhook message.read received"),
            ("send_to_sse_sent", "send → SSE message.sent received"),
            ("send_to_sse_read", "send → SSE message.read received"),
        ):
            value = e2e.get(key, NA)
            if isinstance(value, dict):
                rows.append([label, value.get("p50_ms"), value.get("p99_ms"), value.get("missing")])
            else:
                rows.append([label, value, "", ""])
        # From the event's own `created` (sent, delivered, read pooled); absent from older results files.
        for key, label in EVENT_ROWS:
            value = e2e.get(key)
            if isinstance(value, dict):
                rows.append([label, value.get("p50_ms"), value.get("p99_ms"), value.get("missing")])
            elif value is not None:
                rows.append([label, value, "", ""])
        out.append(_table(["", "p50 ms", "p99 ms", "missing"], rows))
    if "e2e" in s:
        out.append(_error(s["e2e"]) or _load(s["e2e"]) + " e2e")
    drain = s.get("drain", {})
    if "sends" in drain:
        out.append(
            f"  DRAIN of one number: {drain['accepted']} sends at once ({drain['refused']} refused, posted in"
            f" {drain['posted_in_s']} s), all {drain['read']} read {drain.get('first_send_to_all_read_s')} s after the"
            f" first: {drain.get('messages_per_second')} messages/s ({drain.get('reads_per_second')}/s between the"
            " first and the last read)"
        )
        if isinstance(drain.get("cpu_s_per_message_by_process"), dict):
            out.append("  CPU-s per message life by process: " + _by_process(drain["cpu_s_per_message_by_process"]))
    if "drain" in s:
        out.append(_error(s["drain"]) or _load(s["drain"]) + " drain")
    out.append("")

    # -- authentication -----------------------------------------------------------------------------
    if "auth" in s:
        auth = s["auth"]
        out.append("AUTHENTICATION: GET /me through the account handler, warm (API key vs console session token)")
        rows = [
            [name, auth[name].get("p50_ms"), auth[name].get("p99_ms"), auth[name].get("n")]
            for name in ("api key", "session token", "token verification (CPU)")
            if isinstance(auth.get(name), dict)
        ]
        out.append(_table(["", "p50 ms", "p99 ms", "n"], rows))
        out.append(f"  a session costs {auth.get('session over key p50 ms')} ms more than a key at p50")
        out.append(_error(auth) or _load(auth) + " auth")
        out.append("")

    # -- cold start -------------------------------------------------------------------------------
    cold = s.get("cold_start", {})
    out.append("COLD START (fresh interpreters, median)")
    if "handlers" in cold:
        out.append(f"  import boto3 = {cold['import_boto3_ms']} ms = 1.0x; {cold['repeats']} runs each")
        rows = []
        for name, row in cold["handlers"].items():
            if "import_ms" not in row:
                rows.append([name, str(row.get("error") or row.get("skipped"))[:60], "", "", "", ""])
                continue
            rows.append(
                [
                    name,
                    f"{row['import_ms']} ({row['import_x']}x)",
                    f"{row['first_invocation_ms']} ({row['first_invocation_x']}x)"
                    if "first_invocation_ms" in row
                    else "",
                    row.get("second_invocation_ms", ""),
                    ",".join(row.get("statuses_seen", [])),
                    row.get("event", row.get("note", "")),
                ]
            )
        out.append(_table(["function", "import ms (x boto3)", "1st call ms (x)", "2nd ms", "answer", "event"], rows))
    for group, packages in cold.get("import_self_ms_by_package", {}).items():
        out.append(f"  {group} import, self ms by package: " + ", ".join(f"{k} {v:g}" for k, v in packages.items()))
    if "cold_start" in s:
        out.append(_error(s["cold_start"]) or _load(s["cold_start"]) + " cold_start")
    if "cold_start_deployed" in s:
        from bench.cold_start import render_deployed

        deployed = s["cold_start_deployed"]
        if "handlers" in deployed:
            out.append(render_deployed(deployed))
        out.append(_error(deployed) or _load(deployed) + " cold_start_deployed")
    out.append("")

    # -- density ----------------------------------------------------------------------------------
    density = s.get("density", {})
    out.append("WORKER DENSITY (one `python -m bzapper.worker`: its supervisor and its host processes, sandbox engine)")
    if "rows" in density:
        out.append(
            f"  RSS with 1 instance {density['one_instance_rss_mb']} MB (the baseline);"
            f" held per instance: {density['holds_per_instance']}"
        )
        rows = [
            [
                r["instances"],
                r["rss_mb"],
                r.get("supervisor_mb", NA),
                f"{r.get('hosts', NA)} / {r.get('hosts_mb', NA)}",
                r["delta_over_one_kb"],
                r["kb_per_instance"],
                r["kb_per_instance_since_previous"],
                r["receipt_poll_body_kb"],
                r.get("shard_sweep_query_rru", r.get("refresh_scan_rru")),
            ]
            for r in density["rows"]
        ]
        rows.append(["neonize idle client", NA, "", "", "", "0.4-0.9 MB (docs/engines.md)", "", "", ""])
        headers = [
            "instances",
            "RSS MB",
            "supervisor MB",
            "hosts / MB",
            "Δ kB",
            "kB/instance",
            "kB/inst. since prev.",
            "poll body kB",
            "sweep RRU",
        ]
        out.append(_table(headers, rows))
    if "density" in s:
        out.append(_error(s["density"]) or _load(s["density"]) + " density")
    out.append("")

    # -- cost -------------------------------------------------------------------------------------
    cost = s.get("cost", {})
    out.append(
        f"COST OF 1,000,000 SENDS with their status events and webhooks"
        f" (AWS {cost.get('region')}, prices {cost.get('prices_as_of')})"
    )
    if "busy" in cost:
        quiet_by_item = {line["item"]: line["usd"] for line in cost["quiet"]}
        rows = [[b["item"], f"{b['usd']:,.2f}", f"{quiet_by_item.get(b['item'], 0.0):,.2f}"] for b in cost["busy"]]
        rows.append(["TOTAL (USD)", f"{cost['busy_total']:,.2f}", f"{cost['quiet_total']:,.2f}"])
        out.append(_table(["line", "busy $", "quiet $"], rows))
        out.append(
            "  fixed, per worker per month: "
            + "; ".join(f"{f['item']} ${f['usd']:,.2f}" for f in cost["fixed_monthly"])
        )
        out.append("  formulas: docs/cost.md and results.json (sections.cost)")
    if "cost" in s:
        out.append(_error(s["cost"]) or "")

    # -- the targets ------------------------------------------------------------------------------
    out.append("")
    out.append("TARGETS (issue #20), every figure from this run")
    rows = [
        [row["figure"], row["measured"], row["target"], {True: "met", False: "NOT MET", None: "-"}[row["met"]]]
        for row in evaluate(s)
    ]
    out.append(_table(["figure", "measured", "target", ""], rows))
    return "\n".join(line for line in out if line is not None)


def _sum(scenario: dict[str, Any]) -> float:
    return round(sum(scenario["requests_per_message_total"].values()), 3)


def _messages_table(scenario: dict[str, Any]) -> str:
    return next((name for name in scenario["item_bytes_max"] if name.endswith("-messages")), "")


if __name__ == "__main__":
    # `python -m bench.report [bench/results.json]`: the table again, from a results file.
    import json
    import sys
    from pathlib import Path

    from bench.machine import ROOT

    print(render(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "bench/results.json").read_text())))
