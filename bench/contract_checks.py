"""What the options contract checks cost: ``python bench/contract_checks.py [options]``.

On SYNTHETIC demo lakes (built, or reused, by ``silver_assets.benchmark.lake_for``):

1. Side by side, alternating, medians of ``--repeat``: ``contracts.validate`` screened (the
   pipeline's path: one DuckDB pass compiled from the pandera schema, pandera only where a rule
   fails) and unscreened (pandera's polars validation of every row), and the bench's one-pass
   reference (``ONEPASS_SQL``) over the same files: the first ``--dates`` dates of the
   ``--tickers-count`` lake.
2. For each ``--rss-tickers`` lake: the bench's ``options_checks`` phase (every row of every
   date but the newest, through ``check_dataset``) and the one-pass reference, each in a fresh
   process, so the peak RSS (``VmHWM``, see ``benchmark.peak_rss_mb``) is the phase's own.

Prints Markdown tables with the load average. Audit logs go to a scratch folder, never into the
lakes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from silver_assets.benchmark import (
    ONEPASS_SQL,
    demo_tickers,
    in_fresh_process,
    lake_for,
    onepass,
    options_checks,
)
from silver_assets.checks import contracts
from silver_assets.lake import files
from silver_assets.metrics import sql
from silver_assets.settings import PROJECT_ROOT, Settings


def _seconds(function: Callable[[], object]) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def side_by_side(settings: Settings, dates: int, repeat: int) -> list[str]:
    """Screened and unscreened validation and the one-pass query over the same files."""
    days = files.options_dates(settings.lake_root)[:dates]
    paths = [path for day in days for path in files.options_files(settings.lake_root, day)]
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    rows = contracts.validate("options", paths).rows_checked
    phases: dict[str, Callable[[], object]] = {
        "checks, screened (this design)": lambda: contracts.validate("options", paths),
        "checks, pandera on every row": lambda: contracts.validate("options", paths, False),
        "one-pass reference": lambda: con.sql(
            ONEPASS_SQL, params={"files": [str(p) for p in paths]}
        ).fetchall(),
    }
    times: dict[str, list[float]] = {name: [] for name in phases}
    loads = []
    for _ in range(repeat):  # alternating, so load changes hit every phase alike
        for name, phase in phases.items():
            times[name].append(_seconds(phase))
        loads.append(os.getloadavg()[0])
    con.close()
    onepass_s = statistics.median(times["one-pass reference"])
    lines = [
        f"{len(days)} dates, {len(paths)} files, {rows / 1e6:.2f} M rows; medians of {repeat}; "
        f"load average {min(loads):.1f} to {max(loads):.1f} ({os.cpu_count()} cores)",
        "",
        "| phase | median (s) | runs (s) | / one-pass (x) |",
        "|---|---|---|---|",
    ]
    for name, runs in times.items():
        median = statistics.median(runs)
        listed = " ".join(f"{run:.2f}" for run in runs)
        lines.append(f"| {name} | {median:.2f} | {listed} | {median / onepass_s:.2f} |")
    return lines


def fresh_process_rows(settings: Settings, tickers: int, scratch: Path) -> str:
    """The checks phase and the one-pass reference of a whole lake, each in a fresh process."""
    settings = settings.replace(audit_root=scratch / "logs", snapshot_root=scratch / "snapshots")
    checks = in_fresh_process(options_checks, settings)
    if not checks.result:
        raise RuntimeError(f"the contract checks failed on the {tickers}-ticker lake")
    reference = in_fresh_process(onepass, settings)
    return (
        f"| {tickers} | {checks.seconds:.2f} | {checks.cpu_seconds:.2f} | "
        f"{reference.seconds:.2f} | {reference.cpu_seconds:.2f} | "
        f"{checks.seconds / reference.seconds:.2f} | {checks.peak_rss_mb:.0f} | "
        f"{os.getloadavg()[0]:.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakes-root", type=Path, default=PROJECT_ROOT / "bench" / "lakes")
    parser.add_argument("--days", type=int, default=252, help="days of each lake")
    parser.add_argument("--tickers-count", type=int, default=20, help="lake of the side by side")
    parser.add_argument("--dates", type=int, default=40, help="its dates compared")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss-tickers", type=int, nargs="*", default=[5, 100])
    args = parser.parse_args(argv)

    settings = lake_for(args.lakes_root, args.days, 7, demo_tickers(args.tickers_count))
    print(f"options contract checks, {args.tickers_count}-ticker x {args.days}-day SYNTHETIC lake")
    print("\n".join(side_by_side(settings, args.dates, args.repeat)))
    if args.rss_tickers:
        print(
            "\nevery row of every date but the newest, each phase in a fresh process\n\n"
            "| tickers | checks (s) | checks CPU (s) | one-pass (s) | one-pass CPU (s) "
            "| checks / one-pass (x) | checks peak RSS (MB) | load |\n" + "|---" * 8 + "|"
        )
        scratch = Path(tempfile.mkdtemp(prefix="contract-checks-bench-"))
        try:
            for count in args.rss_tickers:
                lake = lake_for(args.lakes_root, args.days, 7, demo_tickers(count))
                print(fresh_process_rows(lake, count, scratch), flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
