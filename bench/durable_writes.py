"""What durable snapshot writes cost: ``python bench/durable_writes.py [--days 63] [--repeat 3]``.

Computes every snapshot of a SYNTHETIC demo lake once (a full backfill of all datasets, without
Dagster), keeps the tables in memory, then rewrites all of them through ``SnapshotStore.write``
with fsync (the pipeline's writes) and without (atomic rename only), alternating, into fresh
folders beside the lake. Prints the medians side by side as a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from silver_assets.benchmark import lake_for
from silver_assets.lake import files
from silver_assets.lake.generator import DEFAULT_TICKERS
from silver_assets.metrics import sql
from silver_assets.metrics.compute import OPTION_FAMILIES
from silver_assets.metrics.materialize import (
    daily_scan,
    gpr_partitions,
    macro_partitions,
    option_family_partitions,
)
from silver_assets.partitions import gpr_months
from silver_assets.settings import PROJECT_ROOT
from silver_assets.snapshots import SnapshotStore


def backfill_tables(days: int, lakes_root: Path) -> list[tuple[str, str, object]]:
    """(asset, partition, table) of every snapshot a full backfill of the lake writes."""
    settings = lake_for(lakes_root, days, 7, DEFAULT_TICKERS)
    shutil.rmtree(settings.snapshot_root, ignore_errors=True)
    anchors = files.options_dates(settings.lake_root)
    con = sql.connect(settings.duckdb_threads, settings.duckdb_memory_limit)
    daily_scan(con, settings, anchors, "bench")
    for family in OPTION_FAMILIES:
        option_family_partitions(con, settings, family, anchors, "bench")
    macro_partitions(con, settings, anchors, "bench")
    gpr_partitions(con, settings, [m for m in gpr_months(settings) if m <= anchors[-1]], "bench")
    con.close()
    store = SnapshotStore(settings.snapshot_root)
    assets = sorted(p.name for p in settings.snapshot_root.iterdir() if p.is_dir())
    return [(a, key, store.read(a, key)) for a in assets for key in store.partitions(a)]


def write_all(tables, folder: Path, durable: bool) -> float:
    store = SnapshotStore(folder, durable=durable)
    began = time.perf_counter()
    for asset, partition, table in tables:
        store.write(asset, partition, table, "bench")
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=63)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lakes-root", type=Path, default=PROJECT_ROOT / "bench" / "lakes")
    args = parser.parse_args()
    tables = backfill_tables(args.days, args.lakes_root)
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.repeat):
        for durable in (True, False):
            folder = Path(tempfile.mkdtemp(prefix="durable-", dir=args.lakes_root))
            times[durable].append(write_all(tables, folder, durable))
            shutil.rmtree(folder)
    fsynced, renamed = (statistics.median(times[d]) for d in (True, False))
    n = len(tables)
    print(
        f"{args.days}-day SYNTHETIC lake, full backfill: {n} snapshot files, "
        f"median of {args.repeat}"
    )
    print("| writes | total s | ms per file |")
    print("|---|---|---|")
    print(f"| fsync file + folder | {fsynced:.3f} | {1000 * fsynced / n:.2f} |")
    print(f"| rename only | {renamed:.3f} | {1000 * renamed / n:.2f} |")
    print(
        f"| cost of durability | {fsynced - renamed:+.3f} | {1000 * (fsynced - renamed) / n:+.2f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
