"""The benchmark behind ``silver-assets bench``: snapshots versus the seed's query-time design.

For each lake size it measures, side by side in one process:

* query latency of a 5-ticker, six-family request: from snapshots (warm and cold) and computed
  at query time over the raw Parquet (the seed's design), and their ratio;
* the daily run: one new anchor for every dataset through Dagster, the same computation without
  Dagster, and a raw DuckDB scan of that day's option files;
* the backfill: every anchor in one single-run backfill per dataset, and a raw aggregation of the
  whole lake by (snapshot_date, symbol);
* the contract checks of every row of every lake date (all three datasets), against the options
  daily scan of the same dates;
* peak RSS of each phase, sampled from /proc.

Timings are medians of repeated runs. Lakes are SYNTHETIC demo lakes, built once per
(days, seed, tickers) under the bench folder and reused.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from silver_assets.agents_benchmark import measure_agents
from silver_assets.automation.runs import run_dataset
from silver_assets.checks.assets import check_dataset, contract_report
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.lake.generator import (
    DEFAULT_END_DATE,
    DEFAULT_TICKERS,
    demo_tickers,
    generate_lake,
)
from silver_assets.metrics import sql
from silver_assets.metrics.compute import OPTION_FAMILIES, direct_family_tables
from silver_assets.metrics.families import BUILDERS, FAMILY_DATASET
from silver_assets.metrics.materialize import (
    daily_scan,
    gpr_partitions,
    macro_partitions,
    option_family_partitions,
)
from silver_assets.partitions import anchor_keys, gpr_months, lake_dates
from silver_assets.query import answer as answer_module
from silver_assets.query.answer import answer_query
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets.sources import versions
from silver_assets.tickers import macro_symbol_for
from silver_assets.timing import percentile, timed

BENCH_METRICS = [
    "Put/Call Ratio",
    "IV Skew",
    "Options Liquidity",
    "Options Pricing / Spread",
    "Price",
    "GPR Index",
]
DATASETS = ("options", "macro", "gpr")
# Lakes of more tickers than this are named by count and digest.
MAX_NAMED_TICKERS = 8
# The query phase asks for this many tickers, the most a request may name by default.
SCALE_REQUEST_TICKERS = 5


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def peak_rss(into: dict[str, float], phase: str, interval: float = 0.005):
    """Record the phase's peak resident memory (MB), sampled every ``interval`` seconds."""
    peak = [_rss_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_mb())
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        into[phase] = max(peak[0], _rss_mb())


def seed_style_answer(settings: Settings, request: dict, anchor: date) -> dict[str, Any]:
    """The seed's design: compute every requested family from raw Parquet at query time."""
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    families = list(dict.fromkeys(FAMILY_DATASET))
    tables = direct_family_tables(con, settings, families, anchor)
    values: dict[str, Any] = {}
    for family, table in tables.items():
        rows = {row.get("symbol") or "": row for row in table.to_pylist()}
        tickers = request["tickers"] if family != "geopolitical_analysis" else [""]
        for ticker in tickers:
            symbol = macro_symbol_for(ticker)[0] if family == "macro_analysis" else ticker
            if symbol in rows:
                answer = BUILDERS[family](rows[symbol], ticker, frozenset(BENCH_METRICS))
                values.update(
                    {f"{ticker}_{k}" if ticker else k: v for k, v in answer.values.items()}
                )
    con.close()
    return values


def daily_without_dagster(settings: Settings, day: date) -> None:
    """One new anchor for every dataset: the assets' own functions, minus Dagster."""
    run_id = "bench-without-dagster"
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    daily_scan(con, settings, [day], run_id)
    for family in OPTION_FAMILIES:
        option_family_partitions(con, settings, family, [day], run_id)
    macro_partitions(con, settings, [day], run_id)
    gpr_partitions(con, settings, [day.replace(day=1)], run_id)
    con.close()


def backfill_without_dagster(settings: Settings, days: Sequence[date], months: Sequence[date]):
    """Every anchor in one pass of the assets' own functions, into a scratch snapshot store."""
    scratch = Path(tempfile.mkdtemp(prefix="silver-bench-bare-"))
    settings = settings.replace(snapshot_root=scratch)
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    daily_scan(con, settings, days, "bench-without-dagster")
    for family in OPTION_FAMILIES:
        option_family_partitions(con, settings, family, days, "bench-without-dagster")
    macro_partitions(con, settings, days, "bench-without-dagster")
    gpr_partitions(con, settings, months, "bench-without-dagster")
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)


def full_daily_scan(settings: Settings, days: Sequence[date]) -> None:
    """The options daily scan of ``days``, into a scratch snapshot store."""
    scratch = Path(tempfile.mkdtemp(prefix="silver-bench-scan-"))
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    daily_scan(con, settings.replace(snapshot_root=scratch), days, "bench-scan")
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)


def all_contracts(settings: Settings) -> None:
    """Every contract check over every row of every lake date; on the demo lake they pass."""
    for dataset in DATASETS:
        report = contract_report(dataset, settings, lake_dates(dataset, settings))
        assert report.passed, report.message


def raw_day_scan(settings: Settings, day: date) -> None:
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    paths = [str(p) for p in files.options_files(settings.lake_root, day)]
    con.sql(
        "SELECT count(*), sum(volume) FROM read_parquet($paths)", params={"paths": paths}
    ).fetchall()
    con.close()


def raw_full_aggregation(settings: Settings) -> None:
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    pattern = str(settings.lake_root / "options" / "*" / "*.parquet")
    con.sql(
        "SELECT snapshot_date, symbol, count(*), sum(volume) FROM read_parquet($p) GROUP BY ALL",
        params={"p": pattern},
    ).fetchall()
    con.close()


def lake_for(
    root: Path, days: int, seed: int, tickers: Sequence[str], workers: int = 1
) -> Settings:
    """Build (or reuse) a demo lake for these parameters; return settings pointing at it.

    With several ``workers`` each process writes an interleaved share of the tickers: a
    ticker's files do not depend on the others, and the shared macro, GPR and state files
    every share writes are identical and replaced atomically.
    """
    names = "_".join(tickers)
    if len(tickers) > MAX_NAMED_TICKERS:  # a folder name must stay short
        names = f"{len(tickers)}tickers-{zlib.crc32(names.encode()):08x}"
    name = f"days{days}-seed{seed}-{names}"
    base = root / name
    settings = Settings(
        lake_root=base / "silver",
        state_path=base / "collect_data_state.json",
        snapshot_root=base / "snapshots",
        audit_root=base / "logs",
        config_dir=PROJECT_ROOT / "config",
    )
    marker = base / ".complete"
    if not marker.exists():
        shares = [tuple(tickers[i::workers]) for i in range(min(workers, len(tickers)))]
        jobs = [
            (settings.lake_root, days, seed, share, DEFAULT_END_DATE, settings.state_path)
            for share in shares
        ]
        if len(jobs) == 1:
            generate_lake(*jobs[0], progress=True)
        else:
            with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
                pool.starmap(generate_lake, jobs)
        marker.write_text("ok")
    return settings


def bench_lake(
    settings: Settings, tickers: Sequence[str], repeat: int, log, agent_calls: int = 200
) -> dict[str, Any]:
    """Every measurement for one lake."""
    rss: dict[str, float] = {}
    scratch = Path(tempfile.mkdtemp(prefix="silver-bench-"))
    settings = settings.replace(snapshot_root=scratch / "snapshots", audit_root=scratch / "logs")
    defs = build_defs(settings)
    days = files.options_dates(settings.lake_root)
    last = days[-1]

    # Backfill: every anchor, one single run per dataset, on a fresh instance each time (the
    # snapshot files of the previous repeat are overwritten).
    backfilled: list[dg.DagsterInstance] = []

    def backfill() -> None:
        instance = dg.DagsterInstance.ephemeral()
        for dataset in DATASETS:
            keys = anchor_keys(dataset, settings, history=True)
            if dataset != "gpr":
                keys = [k for k in keys if k < last.isoformat()]
            assert run_dataset(defs, instance, dataset, keys).success, dataset
        backfilled.append(instance)

    log(f"  backfill of {len(days) - 1} anchors x {repeat}")
    with peak_rss(rss, "backfill"):
        backfill_times = timed(backfill, repeat)
    with peak_rss(rss, "backfill_compute"):
        bare_backfill_times = timed(
            lambda: backfill_without_dagster(settings, days[:-1], gpr_months(settings)), repeat
        )
    with peak_rss(rss, "raw_aggregation"):
        raw_agg_times = timed(lambda: raw_full_aggregation(settings), repeat)
    log(f"  contract checks of every row, and the daily scan, of {len(days)} dates x {repeat}")
    with peak_rss(rss, "contracts"):
        contract_times = timed(lambda: all_contracts(settings), repeat)
    with peak_rss(rss, "full_daily_scan"):
        full_scan_times = timed(lambda: full_daily_scan(settings, days), repeat)

    # Daily run: the newest anchor, after a backfill of all earlier ones.
    instance = backfilled[-1]
    log(f"  daily run of {last} x {repeat}")

    def daily_with_dagster() -> None:
        for dataset in DATASETS:
            key = last.replace(day=1) if dataset == "gpr" else last
            assert run_dataset(defs, instance, dataset, [key.isoformat()]).success

    with peak_rss(rss, "daily_run"):
        daily_times = timed(daily_with_dagster, repeat)
        bare_times = timed(lambda: daily_without_dagster(settings, last), repeat)
    with peak_rss(rss, "raw_day_scan"):
        scan_times = timed(lambda: raw_day_scan(settings, last), max(repeat, 5))

    # Query latency.
    request = {"tickers": list(tickers), "metrics": BENCH_METRICS, "time_window": "past_week"}
    log("  query latency")
    with peak_rss(rss, "query_snapshot"):
        warm = timed(lambda: answer_query(settings, request), 200)

        def cold() -> None:
            answer_module._rows_by_symbol.cache_clear()
            answer_query(settings, request)

        cold_times = timed(cold, 50)
    with peak_rss(rss, "query_seed"):
        seed_times = timed(lambda: seed_style_answer(settings, request, last), max(repeat, 3))

    log(f"  MCP query_metrics over HTTP and verify_claims, {agent_calls} calls x {repeat}")
    with peak_rss(rss, "agents"):
        agents = measure_agents(settings, request, calls=agent_calls, rounds=repeat)
    # Other work on the machine moves every latency: say how busy it was.
    log(f"  load average after the agent timings: {os.getloadavg()[0]:.2f}")

    ms = 1000.0
    return {
        **agents,
        "load_average": os.getloadavg()[0],
        "days": len(days),
        "tickers": list(tickers),
        "cores": os.cpu_count(),
        "query_snapshot_p50_ms": statistics.median(warm) * ms,
        "query_snapshot_p95_ms": percentile(warm, 95) * ms,
        "query_snapshot_p99_ms": percentile(warm, 99) * ms,
        "query_snapshot_cold_p50_ms": statistics.median(cold_times) * ms,
        "query_seed_p50_ms": statistics.median(seed_times) * ms,
        "query_seed_p95_ms": percentile(seed_times, 95) * ms,
        "query_speedup": statistics.median(seed_times) / statistics.median(warm),
        "daily_run_s": statistics.median(daily_times),
        "daily_compute_s": statistics.median(bare_times),
        "daily_run_overhead_s": statistics.median(daily_times) - statistics.median(bare_times),
        "daily_raw_scan_s": statistics.median(scan_times),
        "daily_compute_vs_raw_scan": statistics.median(bare_times) / statistics.median(scan_times),
        "backfill_s": statistics.median(backfill_times),
        "backfill_compute_s": statistics.median(bare_backfill_times),
        "backfill_overhead_s": statistics.median(backfill_times)
        - statistics.median(bare_backfill_times),
        "backfill_per_anchor_ms": statistics.median(backfill_times) / max(1, len(days) - 1) * ms,
        "backfill_raw_s": statistics.median(raw_agg_times),
        "backfill_vs_raw": statistics.median(backfill_times) / statistics.median(raw_agg_times),
        "backfill_compute_vs_raw": statistics.median(bare_backfill_times)
        / statistics.median(raw_agg_times),
        "contracts_all_dates_s": statistics.median(contract_times),
        "daily_scan_all_dates_s": statistics.median(full_scan_times),
        "contracts_vs_daily_scan": statistics.median(contract_times)
        / statistics.median(full_scan_times),
        "peak_rss_mb": max(rss.values()),
        "peak_rss_by_phase_mb": rss,
        "repeat": repeat,
    }


ROWS = [
    (
        "query from snapshots p50 / p95 / p99 (ms)",
        lambda r: (
            f"{r['query_snapshot_p50_ms']:.2f} / {r['query_snapshot_p95_ms']:.2f} / "
            f"{r['query_snapshot_p99_ms']:.2f}"
        ),
    ),
    (
        "query from snapshots, cold cache p50 (ms)",
        lambda r: f"{r['query_snapshot_cold_p50_ms']:.2f}",
    ),
    ("query at query time (seed design) p50 (ms)", lambda r: f"{r['query_seed_p50_ms']:.1f}"),
    ("speed-up, seed / snapshots (x)", lambda r: f"{r['query_speedup']:.0f}"),
    (
        "query in process / MCP over HTTP: JSON-RPC over aiohttp / over httpx / SDK client, "
        "p50 (ms)",
        lambda r: (
            f"{r['in_process_p50_ms']:.2f} / {r['mcp_jsonrpc_p50_ms']:.2f} / "
            f"{r['mcp_httpx_p50_ms']:.2f} / {r['mcp_sdk_p50_ms']:.2f}"
        ),
    ),
    (
        "same, p99 (ms)",
        lambda r: (
            f"{r['in_process_p99_ms']:.2f} / {r['mcp_jsonrpc_p99_ms']:.2f} / "
            f"{r['mcp_httpx_p99_ms']:.2f} / {r['mcp_sdk_p99_ms']:.2f}"
        ),
    ),
    (
        "MCP over HTTP minus in process, aiohttp / httpx / SDK client, p50 (ms)",
        lambda r: (
            f"{r['mcp_jsonrpc_over_in_process_ms']:.2f} / "
            f"{r['mcp_httpx_over_in_process_ms']:.2f} / {r['mcp_sdk_over_in_process_ms']:.2f}"
        ),
    ),
    (
        "MCP ping over HTTP, JSON-RPC over aiohttp, p50 (ms)",
        lambda r: f"{r['mcp_ping_p50_ms']:.2f}",
    ),
    ("verify_claims, 50-claim answer, median (ms)", lambda r: f"{r['verify_50_claims_ms']:.2f}"),
    ("load average (1 min) after the agent timings", lambda r: f"{r['load_average']:.2f}"),
    ("daily run through Dagster (s)", lambda r: f"{r['daily_run_s']:.3f}"),
    ("daily compute without Dagster (s)", lambda r: f"{r['daily_compute_s']:.3f}"),
    ("Dagster overhead of the daily run (s)", lambda r: f"{r['daily_run_overhead_s']:.3f}"),
    ("raw scan of the day's files (s)", lambda r: f"{r['daily_raw_scan_s']:.3f}"),
    ("daily compute / raw day scan (x)", lambda r: f"{r['daily_compute_vs_raw_scan']:.1f}"),
    ("single-run backfill, all anchors (s)", lambda r: f"{r['backfill_s']:.2f}"),
    ("backfill compute without Dagster (s)", lambda r: f"{r['backfill_compute_s']:.2f}"),
    ("backfill per anchor (ms)", lambda r: f"{r['backfill_per_anchor_ms']:.1f}"),
    ("raw full aggregation (s)", lambda r: f"{r['backfill_raw_s']:.2f}"),
    ("backfill / raw aggregation (x)", lambda r: f"{r['backfill_vs_raw']:.1f}"),
    ("backfill compute / raw aggregation (x)", lambda r: f"{r['backfill_compute_vs_raw']:.1f}"),
    ("contract checks, every row of all dates (s)", lambda r: f"{r['contracts_all_dates_s']:.2f}"),
    ("options daily scan of all dates (s)", lambda r: f"{r['daily_scan_all_dates_s']:.2f}"),
    ("contract checks / daily scan (x)", lambda r: f"{r['contracts_vs_daily_scan']:.1f}"),
    ("peak RSS, worst phase (MB)", lambda r: f"{r['peak_rss_mb']:.0f}"),
]


def render_table(results: dict[int, dict[str, Any]]) -> str:
    sizes = sorted(results)
    header = ["measure"] + [f"{size} days" for size in sizes]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, cell in ROWS:
        lines.append("| " + " | ".join([label] + [cell(results[s]) for s in sizes]) + " |")
    return "\n".join(lines)


def run_benchmark(
    day_counts: Sequence[int],
    tickers: Sequence[str] = DEFAULT_TICKERS,
    seed: int = 7,
    repeat: int = 3,
    lakes_root: Path | None = None,
    json_path: Path | None = None,
    log=print,
    agent_calls: int = 200,
) -> dict[int, dict[str, Any]]:
    """Benchmark every lake size; print the table; optionally write the JSON."""
    lakes_root = lakes_root or PROJECT_ROOT / "bench" / "lakes"
    results = {}
    log(
        f"silver-assets bench: {os.cpu_count()} cores, tickers {' '.join(tickers)}, seed {seed}, "
        f"repeat {repeat} (SYNTHETIC demo lakes in {lakes_root})"
    )
    for days in day_counts:
        log(f"lake of {days} trading days")
        settings = lake_for(lakes_root, days, seed, tickers)
        results[days] = bench_lake(settings, tickers, repeat, log, agent_calls)
    log(render_table(results))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))
        log(f"wrote {json_path}")
    return results


# --------------------------------------------------------------------------------------------
# bench scale: many tickers, a year, each phase in a fresh process
# --------------------------------------------------------------------------------------------

# One DuckDB query over every option file that computes each per-(date, symbol) input the six
# families read (the macro and GPR families read no chains): the limit a backfill can approach.
ONEPASS_SQL = f"""
WITH chain AS (
    SELECT CAST(snapshot_date AS DATE) AS snapshot_date, CAST(symbol AS VARCHAR) AS symbol,
           CAST(contract_symbol AS VARCHAR) AS contract_symbol,
           lower(CAST(option_type AS VARCHAR)) AS option_type, nn(strike) AS strike,
           CAST(dte AS INTEGER) AS dte, nn(underlying_price) AS underlying_price,
           nn(bid) AS bid, nn(ask) AS ask, nn(last_price) AS last_price, nn(volume) AS volume,
           nn(open_interest) AS open_interest, nn(implied_volatility) AS iv,
           nn(moneyness_pct) AS moneyness_pct, nn(spread_pct) AS spread_pct,
           coalesce(CAST(is_liquid AS BOOLEAN), false) AS is_liquid
    FROM read_parquet($files, union_by_name = true)
),
marked AS (
    SELECT *, is_liquid AND dte BETWEEN {sql.ATM_DTE_MIN} AND {sql.ATM_DTE_MAX} AS quoted,
           round(strike / underlying_price - 1, 10) AS signed_moneyness
    FROM chain
)
SELECT snapshot_date, symbol,
       sum(volume) FILTER (option_type = 'put') AS put_volume,
       sum(volume) FILTER (option_type = 'call') AS call_volume,
       sum(open_interest) FILTER (option_type = 'put') AS put_oi,
       sum(open_interest) FILTER (option_type = 'call') AS call_oi,
       sum(volume) AS volume, sum(open_interest) AS open_interest,
       avg(spread_pct) FILTER (is_liquid) AS liquid_spread, count(*) FILTER (is_liquid) AS liquid,
       arg_min(contract_symbol, (abs(moneyness_pct), spread_pct, contract_symbol))
           FILTER (quoted AND iv IS NOT NULL) AS atm_contract,
       arg_min(contract_symbol, (abs(abs(signed_moneyness) - {sql.SKEW_TARGET}), spread_pct))
           FILTER (quoted AND iv IS NOT NULL AND option_type = 'put'
                   AND signed_moneyness BETWEEN -{sql.SKEW_BAND_MAX} AND -{sql.SKEW_BAND_MIN})
           AS put_wing,
       arg_min(contract_symbol, (abs(abs(signed_moneyness) - {sql.SKEW_TARGET}), spread_pct))
           FILTER (quoted AND iv IS NOT NULL AND option_type = 'call'
                   AND signed_moneyness BETWEEN {sql.SKEW_BAND_MIN} AND {sql.SKEW_BAND_MAX})
           AS call_wing,
       avg(underlying_price) FILTER (quoted) AS underlying, avg(bid) FILTER (quoted) AS bid,
       avg(ask) FILTER (quoted) AS ask, avg(last_price) FILTER (quoted) AS last_price
FROM marked
GROUP BY snapshot_date, symbol
"""

SCALE_ROWS = [
    ("option rows", lambda r: f"{r['rows'] / 1e6:.1f} M"),
    ("options backfill through Dagster (s)", lambda r: f"{r['backfill_s']:.1f}"),
    ("backfill compute alone (s)", lambda r: f"{r['backfill_compute_s']:.1f}"),
    ("source observation alone (s)", lambda r: f"{r['observe_s']:.2f}"),
    ("contract checks alone (s)", lambda r: f"{r['checks_s']:.2f}"),
    ("Dagster overhead (s)", lambda r: f"{r['dagster_overhead_s']:.1f}"),
    ("one-pass reference (s)", lambda r: f"{r['onepass_s']:.1f}"),
    ("backfill / one-pass (x)", lambda r: f"{r['backfill_vs_onepass']:.1f}"),
    ("backfill compute / one-pass (x)", lambda r: f"{r['backfill_compute_vs_onepass']:.1f}"),
    ("observation + checks / one-pass (x)", lambda r: f"{r['observe_checks_vs_onepass']:.2f}"),
    *(
        (f"CPU seconds, {phase}", lambda r, p=phase: f"{r['cpu_s_by_phase'][p]:.1f}")
        for phase in ("backfill", "compute", "onepass")
    ),
    ("daily run of the newest anchor (s)", lambda r: f"{r['daily_run_s']:.2f}"),
    ("query p50, 5 tickers x 6 families (ms)", lambda r: f"{r['query_p50_ms']:.2f}"),
    *(
        (f"peak RSS, {phase} (MB)", lambda r, p=phase: f"{r['peak_rss_by_phase_mb'][p]:.0f}")
        for phase in ("backfill", "compute", "observe", "checks", "onepass", "daily_run", "query")
    ),
]


@dataclasses.dataclass(frozen=True)
class Measured:
    """One phase: wall seconds, CPU seconds (steadier on a shared machine), peak RSS, result."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    result: Any


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    On Linux, ``VmHWM``: ``ru_maxrss`` survives ``exec``, so a spawned process would report at
    least its parent's size at the fork, and a bench's later phases the bench's own growth.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(phase: Callable[..., Any], *args: Any) -> Measured:
    """Run ``phase`` here and measure it; the peak RSS is this process's."""
    began, cpu = time.perf_counter(), _cpu_seconds()
    result = phase(*args)
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    return Measured(seconds, cpu, peak_rss_mb(), result)


def in_fresh_process(phase: Callable[..., Any], *args: Any) -> Measured:
    """``_measured`` in a new process, so the peak RSS is the phase's own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measured, (phase, *args))


def _scale_instance(folder: Path) -> dg.DagsterInstance:
    """A persistent instance (SQLite, like a deployment's) shared by the backfill and daily run.

    Configured like ``dagster_home``, so it stores events as a deployment does.
    """
    # Here, not at the top: Dagster's SQLite storage modules add 20 MB to every phase's RSS.
    from silver_assets.instance_storage import project_instance_home

    return dg.DagsterInstance.from_config(str(project_instance_home(folder)))


def options_backfill(settings: Settings, instance_dir: Path) -> int:
    """Every options anchor but the newest, one single-run backfill through Dagster."""
    last = files.options_dates(settings.lake_root)[-1].isoformat()
    keys = [k for k in anchor_keys("options", settings, history=True) if k < last]
    run = run_dataset(build_defs(settings), _scale_instance(instance_dir), "options", keys)
    if not run.success:
        raise RuntimeError(f"options backfill failed: {run.failed_checks}")
    return len(keys)


def history_of_other_datasets(settings: Settings, instance_dir: Path) -> None:
    """Macro and GPR anchors before the newest, so the daily run sees a steady state."""
    defs, instance = build_defs(settings), _scale_instance(instance_dir)
    last = files.options_dates(settings.lake_root)[-1]
    for dataset, newest in (("macro", last), ("gpr", last.replace(day=1))):
        keys = [k for k in anchor_keys(dataset, settings, history=True) if k < newest.isoformat()]
        if keys and not run_dataset(defs, instance, dataset, keys).success:
            raise RuntimeError(f"{dataset} history failed")


def options_compute(settings: Settings, scratch: Path) -> None:
    """The options backfill's own functions, without Dagster, into a scratch snapshot store."""
    settings = settings.replace(snapshot_root=scratch)
    days = files.options_dates(settings.lake_root)[:-1]
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    daily_scan(con, settings, days, "bench-compute")
    for family in OPTION_FAMILIES:
        option_family_partitions(con, settings, family, days, "bench-compute")
    con.close()


def options_observation(settings: Settings) -> int:
    """What the options source observation computes: one data version per anchor date."""
    days = files.options_dates(settings.lake_root)[:-1]
    return len({versions.version_of_day(settings.lake_root, "options", day) for day in days})


def options_checks(settings: Settings) -> bool:
    """The options contract check of the backfill's partition range, minus Dagster."""
    days = files.options_dates(settings.lake_root)[:-1]
    silver = SilverLakeResource.from_settings(settings)
    return check_dataset("options", silver, [day.isoformat() for day in days]).passed


def onepass(settings: Settings) -> int:
    """The one-pass reference; the number of (date, symbol) rows it returns."""
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    pattern = str(settings.lake_root / "options" / "*" / "*.parquet")
    rows = con.sql(ONEPASS_SQL, params={"files": pattern}).to_arrow_table().num_rows
    con.close()
    return rows


def daily_run(settings: Settings, instance_dir: Path) -> None:
    """The newest anchor of every dataset through Dagster, after the backfill."""
    defs, instance = build_defs(settings), _scale_instance(instance_dir)
    last = files.options_dates(settings.lake_root)[-1]
    for dataset in DATASETS:
        key = last.replace(day=1) if dataset == "gpr" else last
        if not run_dataset(defs, instance, dataset, [key.isoformat()]).success:
            raise RuntimeError(f"daily {dataset} run failed")


def query_p50_ms(settings: Settings, tickers: Sequence[str], requests: int = 200) -> float:
    """Warm p50 of a six-family request for ``tickers`` from the snapshots."""
    request = {"tickers": list(tickers), "metrics": BENCH_METRICS, "time_window": "past_week"}
    answer_query(settings, request)
    return statistics.median(timed(lambda: answer_query(settings, request), requests)) * 1000


def option_rows(settings: Settings) -> int:
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    pattern = str(settings.lake_root / "options" / "*" / "*.parquet")
    rows = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": pattern}).fetchall()[0][0]
    con.close()
    return int(rows)


def bench_scale_lake(settings: Settings, tickers: Sequence[str], log) -> dict[str, Any]:
    """Every scale measurement of one lake, each phase in its own process."""
    scratch = Path(tempfile.mkdtemp(prefix="scale-run-", dir=str(settings.lake_root.parent)))
    settings = settings.replace(snapshot_root=scratch / "snapshots", audit_root=scratch / "logs")
    instance_dir = scratch / "dagster"
    rss: dict[str, float] = {}
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def phase(name: str, function: Callable[..., Any], *args: Any) -> Any:
        log(f"  {name} ...")
        measured = in_fresh_process(function, settings, *args)
        seconds[name], cpu[name] = measured.seconds, measured.cpu_seconds
        rss[name] = measured.peak_rss_mb
        log(f"  {name}: {seconds[name]:.2f} s ({cpu[name]:.2f} s CPU), peak RSS {rss[name]:.0f} MB")
        return measured.result

    try:
        phase("onepass", onepass)
        phase("observe", options_observation)
        phase("checks", options_checks)
        phase("compute", options_compute, scratch / "compute-snapshots")
        phase("backfill", options_backfill, instance_dir)
        log("  macro and GPR history (not timed) ...")
        in_fresh_process(history_of_other_datasets, settings, instance_dir)
        phase("daily_run", daily_run, instance_dir)
        query_ms = phase("query", query_p50_ms, tickers[:SCALE_REQUEST_TICKERS])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    onepass_s = seconds["onepass"]
    return {
        "tickers": len(tickers),
        "days": len(files.options_dates(settings.lake_root)),
        "rows": option_rows(settings),
        "backfill_s": seconds["backfill"],
        "backfill_compute_s": seconds["compute"],
        "observe_s": seconds["observe"],
        "checks_s": seconds["checks"],
        "dagster_overhead_s": seconds["backfill"]
        - seconds["compute"]
        - seconds["observe"]
        - seconds["checks"],
        "onepass_s": onepass_s,
        "backfill_vs_onepass": seconds["backfill"] / onepass_s,
        "backfill_compute_vs_onepass": seconds["compute"] / onepass_s,
        "observe_checks_vs_onepass": (seconds["observe"] + seconds["checks"]) / onepass_s,
        "daily_run_s": seconds["daily_run"],
        "query_p50_ms": query_ms,
        "peak_rss_mb": max(v for k, v in rss.items() if k != "onepass"),
        "peak_rss_by_phase_mb": rss,
        "cpu_s_by_phase": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


def render_scale_table(results: dict[str, dict[str, Any]]) -> str:
    header = ["measure", *results]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, cell in SCALE_ROWS:
        lines.append("| " + " | ".join([label] + [cell(r) for r in results.values()]) + " |")
    return "\n".join(lines)


def run_scale_benchmark(
    ticker_counts: Sequence[int],
    days: int,
    seed: int = 7,
    lakes_root: Path | None = None,
    json_path: Path | None = None,
    log=print,
) -> dict[str, dict[str, Any]]:
    """``bench scale``: every phase on lakes of each ticker count; print the table and SQL."""
    lakes_root = lakes_root or PROJECT_ROOT / "bench" / "lakes"
    log(
        f"silver-assets bench scale: {os.cpu_count()} cores, {days} days, seed {seed}, tickers "
        f"{' '.join(map(str, ticker_counts))} (SYNTHETIC demo lakes in {lakes_root})"
    )
    log("one-pass reference SQL ($files = every options file):" + ONEPASS_SQL)
    results: dict[str, dict[str, Any]] = {}
    for count in ticker_counts:
        tickers = demo_tickers(count)
        log(f"lake of {count} tickers x {days} days")
        settings = lake_for(lakes_root, days, seed, tickers, workers=os.cpu_count() or 1)
        results[f"{count}x{days}"] = bench_scale_lake(settings, tickers, log)
        if json_path is not None:  # after each size, so a long run keeps what it measured
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(results, indent=2))
    log(render_scale_table(results))
    if json_path is not None:
        log(f"wrote {json_path}")
    return results
