"""Agent-facing timings: MCP ``query_metrics`` over HTTP against the in-process query, and
``verify_claims`` on a 50-claim answer.

    .venv/bin/python bench/agents_bench.py [--days 63] [--calls 300] [--repeat 3] [--json out.json]

The lake is a SYNTHETIC demo lake, built once under bench/lakes (shared with ``silver-assets
bench``) and materialized on an ephemeral Dagster instance when its snapshots are missing. The
MCP server runs as a separate ``silver-assets mcp --http`` process on 127.0.0.1; the client keeps
one warm session. Each round measures the in-process query, the HTTP round trip and
``verify_claims`` one after the other; the table gives the medians over the rounds. Every figure
is from this run; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from silver_assets import SilverQueryResource
from silver_assets.automation.runs import run_dataset
from silver_assets.benchmark import BENCH_METRICS, lake_for, percentile
from silver_assets.definitions import build_defs
from silver_assets.lake.generator import DEFAULT_TICKERS
from silver_assets.partitions import anchor_keys
from silver_assets.query.catalogue import CATALOGUE
from silver_assets.query.claims import verify_claims
from silver_assets.settings import PROJECT_ROOT, Settings

CLI = str(Path(sys.executable).parent / "silver-assets")
REQUEST = {"tickers": list(DEFAULT_TICKERS), "metrics": BENCH_METRICS, "time_window": "past_week"}


def materialized(settings: Settings) -> None:
    if (settings.snapshot_root / "geopolitical_analysis").is_dir():
        return
    defs, instance = build_defs(settings), dg.DagsterInstance.ephemeral()
    for dataset in ("options", "macro", "gpr"):
        keys = anchor_keys(dataset, settings, history=True)
        print(f"materializing {dataset}: {len(keys)} anchors", flush=True)
        assert run_dataset(defs, instance, dataset, keys).success, dataset


def environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "SILVER_LAKE_ROOT": str(settings.lake_root),
        "SILVER_STATE_PATH": str(settings.state_path),
        "SILVER_SNAPSHOT_ROOT": str(settings.snapshot_root),
        "SILVER_AUDIT_ROOT": str(settings.audit_root),
        "SILVER_CONFIG_DIR": str(settings.config_dir),
    }


def fifty_claim_answer(payload: dict) -> str:
    """50 cited numeric sentences drawn from a real payload's values."""
    sentences = []
    for key, value in payload["values"].items():
        numeric = isinstance(value, int | float) or (isinstance(value, str) and "%" in value)
        if numeric and value is not None:
            anchor = payload["citation_contract"][key]["preferred_anchor"]
            sentences.append(f"The {key} was {value} [Silver: {anchor}].")
    sentences = (sentences * (50 // len(sentences) + 1))[:50]
    return " ".join(sentences)


async def mcp_round_trips(session: ClientSession, calls: int) -> list[float]:
    arguments = {**REQUEST}
    for _ in range(20):  # warm the session and the snapshot cache
        await session.call_tool("query_metrics", arguments)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        result = await session.call_tool("query_metrics", arguments)
        times.append(time.perf_counter() - began)
        assert not result.isError, result.content
    return times


def in_process_times(resource: SilverQueryResource, calls: int) -> list[float]:
    for _ in range(20):  # warm the snapshot cache
        resource.query(REQUEST)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        resource.query(REQUEST)
        times.append(time.perf_counter() - began)
    return times


def verify_times(draft: str, settings: Settings) -> list[float]:
    times = []
    for _ in range(30):
        began = time.perf_counter()
        verify_claims(draft, settings)
        times.append(time.perf_counter() - began)
    return times


async def measure_rounds(
    url: str, resource: SilverQueryResource, draft: str, settings: Settings, args
) -> list[dict[str, float]]:
    """Each round measures the three side by side, so they share the machine's load; one MCP
    session serves every round."""
    rounds = []
    ms = 1000
    async with (
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        for round_number in range(1, args.repeat + 1):
            in_process = in_process_times(resource, args.calls)
            over_http = await mcp_round_trips(session, args.calls)
            verify = verify_times(draft, settings)
            rounds.append(
                {
                    "in_process_p50_ms": percentile(in_process, 50) * ms,
                    "in_process_p99_ms": percentile(in_process, 99) * ms,
                    "mcp_http_p50_ms": percentile(over_http, 50) * ms,
                    "mcp_http_p99_ms": percentile(over_http, 99) * ms,
                    "verify_50_claims_median_ms": statistics.median(verify) * ms,
                }
            )
            print(
                f"round {round_number}/{args.repeat}: p50 in process "
                f"{rounds[-1]['in_process_p50_ms']:.2f} ms, MCP over HTTP "
                f"{rounds[-1]['mcp_http_p50_ms']:.2f} ms; verify 50 claims "
                f"{rounds[-1]['verify_50_claims_median_ms']:.2f} ms",
                flush=True,
            )
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=63)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    settings = lake_for(PROJECT_ROOT / "bench" / "lakes", args.days, 7, DEFAULT_TICKERS)
    materialized(settings)
    env = environment(settings)
    os.environ.update(env)
    resource = SilverQueryResource()
    draft = fifty_claim_answer(resource.query(REQUEST))
    verdicts = verify_claims(draft, settings)
    assert len(verdicts["claims"]) == 50, verdicts["counts"]
    assert verdicts["all_verified"], verdicts["counts"]

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([CLI, "mcp", "--http", "--port", str(port)], env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/mcp"
        rounds = asyncio.run(measure_rounds(url, resource, draft, settings, args))
    finally:
        server.terminate()
        server.wait(timeout=30)

    figures: dict[str, float | int] = {
        key: statistics.median(r[key] for r in rounds) for key in rounds[0]
    }
    figures.update(
        lake_days=args.days,
        tickers=len(DEFAULT_TICKERS),
        calls=args.calls,
        repeat=args.repeat,
        aliases=sum(len(m.aliases) for m in CATALOGUE),
    )
    print(
        f"\n{args.days}-day SYNTHETIC lake, {len(DEFAULT_TICKERS)} tickers x "
        f"{len(BENCH_METRICS)} metrics, {args.calls} calls per round, medians of "
        f"{args.repeat} rounds, {os.cpu_count()} cores\n"
    )
    print("| measure | p50 ms | p99 ms |\n|---|---|---|")
    print(
        f"| query in process (SilverQueryResource.query) | {figures['in_process_p50_ms']:.2f} "
        f"| {figures['in_process_p99_ms']:.2f} |"
    )
    print(
        f"| MCP query_metrics over HTTP, warm session | {figures['mcp_http_p50_ms']:.2f} "
        f"| {figures['mcp_http_p99_ms']:.2f} |"
    )
    print(f"| verify_claims, 50 claims (median) | {figures['verify_50_claims_median_ms']:.2f} | |")
    overhead = figures["mcp_http_p50_ms"] - figures["in_process_p50_ms"]
    ratio = figures["mcp_http_p50_ms"] / figures["in_process_p50_ms"]
    print(f"\nMCP over HTTP minus in process, p50: {overhead:.2f} ms ({ratio:.1f}x)")
    print(f"catalogue aliases: {figures['aliases']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
