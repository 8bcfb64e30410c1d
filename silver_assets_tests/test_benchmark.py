"""The benchmark runs end to end on a tiny lake and writes every documented JSON key."""

from __future__ import annotations

import json

from silver_assets.benchmark import render_table, run_benchmark

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
    )
    written = json.loads(out.read_text())
    assert set(written) == {"3"}
    assert set(written["3"]) >= REQUIRED_KEYS
    figures = written["3"]
    assert figures["query_snapshot_p50_ms"] > 0 and figures["query_seed_p50_ms"] > 0
    assert figures["peak_rss_mb"] > 0 and figures["cores"] >= 1
    assert render_table(results) in lines
    assert any("cores" in line for line in lines)
