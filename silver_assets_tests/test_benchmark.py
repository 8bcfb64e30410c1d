"""The benchmark runs end to end on a tiny lake and writes every documented JSON key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from silver_assets.benchmark import in_fresh_process, peak_rss_mb, render_table, run_benchmark

REQUIRED_KEYS = {
    "query_snapshot_p50_ms",
    "query_snapshot_p99_ms",
    "query_seed_p50_ms",
    "query_speedup",
    "daily_run_s",
    "daily_run_overhead_s",
    "daily_raw_scan_s",
    "backfill_s",
    "backfill_raw_s",
    "contracts_all_dates_s",
    "daily_scan_all_dates_s",
    "peak_rss_mb",
    "in_process_p50_ms",
    "mcp_sdk_p50_ms",
    "mcp_jsonrpc_p50_ms",
    "mcp_httpx_p50_ms",
    "mcp_ping_p50_ms",
    "verify_50_claims_ms",
    "load_average",
}


def test_benchmark_on_a_tiny_lake(tmp_path):
    lines: list[str] = []
    out = tmp_path / "bench.json"
    results = run_benchmark(
        [3],
        tickers=("SPY", "GLD"),
        seed=3,
        repeat=1,
        lakes_root=tmp_path,
        json_path=out,
        log=lines.append,
        agent_calls=5,
    )
    written = json.loads(out.read_text())
    assert set(written) == {"3"}
    assert set(written["3"]) >= REQUIRED_KEYS
    figures = written["3"]
    assert figures["query_snapshot_p50_ms"] > 0
    assert figures["query_seed_p50_ms"] > 0
    assert figures["peak_rss_mb"] > 0
    assert figures["cores"] >= 1
    assert (
        min(figures[key] for key in ("mcp_sdk_p50_ms", "mcp_jsonrpc_p50_ms", "mcp_httpx_p50_ms"))
        > 0
    )
    assert 0 < figures["mcp_ping_p50_ms"] < figures["mcp_jsonrpc_p50_ms"]
    assert render_table(results) in lines
    assert any("cores" in line for line in lines)
    assert any("load average" in line for line in lines)


SCALE_KEYS = {
    "tickers",
    "days",
    "rows",
    "backfill_s",
    "backfill_compute_s",
    "observe_s",
    "checks_s",
    "onepass_s",
    "backfill_vs_onepass",
    "daily_run_s",
    "query_p50_ms",
    "peak_rss_mb",
}


def test_bench_scale_command_writes_its_json(tmp_path):
    out = tmp_path / "scale.json"
    command = [
        str(Path(sys.executable).parent / "silver-assets"),
        "bench",
        "scale",
        "--tickers-count",
        "2",
        "--days",
        "3",
        "--lakes-root",
        str(tmp_path / "lakes"),
        "--json",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "GROUP BY snapshot_date, symbol" in done.stdout  # the one-pass SQL is printed
    figures = json.loads(out.read_text())["2x3"]
    assert set(figures) >= SCALE_KEYS
    assert (figures["tickers"], figures["days"]) == (2, 3)
    assert figures["rows"] > 0
    assert figures["onepass_s"] > 0
    assert figures["query_p50_ms"] > 0
    assert figures["backfill_vs_onepass"] == figures["backfill_s"] / figures["onepass_s"]
    assert figures["peak_rss_mb"] >= max(
        v for k, v in figures["peak_rss_by_phase_mb"].items() if k != "onepass"
    )
    assert "| option rows |" in done.stdout


def _nothing() -> None:
    return None


def test_a_fresh_process_reports_its_own_peak_rss_not_its_parents() -> None:
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # resident, not just reserved
    child = in_fresh_process(_nothing)
    assert child.peak_rss_mb < 400 < peak_rss_mb()
    del ballast
