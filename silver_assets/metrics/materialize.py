"""Materialize metric partitions into the snapshot store: the assets' work, without Dagster.

Each function reads what it needs (raw chains for the daily scan, stored daily rows or an
earlier snapshot for the families), computes every requested anchor at once, and writes one
snapshot file per partition. The Dagster assets are thin wrappers around these, and the
benchmark calls them directly to measure Dagster's own overhead. Each refuses anchors the lake
holds no data for (``MissingLakeData``) before writing anything: an empty partition is written
only for a date the lake has, when there is nothing to report for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from silver_assets.checks.contracts import unreadable_files
from silver_assets.lake import files
from silver_assets.lake.origin import ORIGIN_COLUMN, lake_origin, recorded_origin
from silver_assets.metrics import sql
from silver_assets.metrics.compute import (
    CARRIED_INPUTS,
    FAMILY_INPUTS,
    carried_forward,
    gpr_family,
    macro_family,
    option_family,
    reach_days,
    with_versions,
)
from silver_assets.partitions import require_lake_dates
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore
from silver_assets.sources import versions

# Days per daily-scan query: paces progress messages (the scan itself streams).
SCAN_CHUNK_DAYS = 21
# Anchors per family computation: bounds memory on a year's backfill of many tickers.
FAMILY_CHUNK_DAYS = 21
# A family ranking IVs holds a year-long window per anchor and ticker, so its chunks also stay
# within this many anchor-tickers: 21 anchors up to 23 tickers, 5 at 100.
FAMILY_CHUNK_ANCHOR_TICKERS = 500


def family_chunk_days(family: str, tickers: int) -> int:
    """Anchors per chunk of ``family`` on a lake of ``tickers`` option tickers (at least one)."""
    if "atm_iv_daily" not in FAMILY_INPUTS[family]:
        return FAMILY_CHUNK_DAYS
    return max(1, min(FAMILY_CHUNK_DAYS, FAMILY_CHUNK_ANCHOR_TICKERS // max(1, tickers)))


def _chunks(days: Sequence[date], size: int) -> Iterator[list[date]]:
    for start in range(0, len(days), size):
        yield list(days[start : start + size])


def _empty(table: pa.Table | None) -> pa.Table:
    return table if table is not None else pa.table({"snapshot_date": pa.array([], pa.date32())})


def write_partitions(
    store: SnapshotStore,
    asset: str,
    table: pa.Table,
    days: Sequence[date],
    key_column: str,
    run_id: str,
    data_origin: str,
) -> dict[str, int]:
    """Split ``table`` by ``key_column`` and write every partition of ``days`` (empty ones too).

    An empty partition is written on purpose: it records that the anchor had nothing to report.
    Every row records ``data_origin``, the origin of the lake files it was computed from.
    """
    if "source_data_version" not in table.column_names:
        table = table.append_column("source_data_version", pa.nulls(table.num_rows, pa.string()))
    if ORIGIN_COLUMN in table.column_names:  # carried forward from an earlier snapshot
        table = table.drop_columns([ORIGIN_COLUMN])
    table = table.append_column(
        ORIGIN_COLUMN, pa.array([data_origin] * table.num_rows, pa.string())
    )
    parts = {
        day.isoformat(): (
            table.filter(pc.equal(table[key_column], pa.scalar(day, pa.date32())))
            if table.num_rows
            else table
        )
        for day in days
    }
    store.write_many(asset, parts, run_id)
    return {key: part.num_rows for key, part in parts.items()}


def daily_scan(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    days: Sequence[date],
    run_id: str,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, int]:
    """Scan each day's option chains once and write the five daily assets; rows per asset."""
    require_lake_dates("options", settings, days)
    store, lake = SnapshotStore(settings.snapshot_root), settings.lake_root
    rows = dict.fromkeys(sql.DAILY_QUERIES, 0)
    done = 0
    for chunk in _chunks(sorted(days), SCAN_CHUNK_DAYS):
        paths = [path for day in chunk for path in files.options_files(lake, day)]
        try:
            sql.load_chains(con, paths, chunk[0], chunk[-1])
            tables = sql.daily_tables(con)
        except duckdb.Error as exc:
            # Read outside a run's contract check (the benchmark): name the culprit here too.
            broken = unreadable_files(paths)
            named = "; ".join(f"{Path(p).name} ({why})" for p, why in broken.items())
            raise ValueError(f"unreadable option files: {named or exc}") from exc
        loaded = sql.scanned_contracts(con)
        day_versions = {day: versions.version_of_day(lake, "options", day) for day in chunk}
        origin = lake_origin(paths, con)  # once per chunk: it reads every file's footer
        for name, table in tables.items():
            table = with_versions(table, "snapshot_date", day_versions)
            counts = write_partitions(store, name, table, chunk, "snapshot_date", run_id, origin)
            rows[name] += sum(counts.values())
        done += len(chunk)
        progress(
            f"options daily scan: {done}/{len(days)} dates ({chunk[-1]}), "
            f"{len(paths)} files, {loaded} contracts"
        )
    return rows


def daily_inputs(
    store: SnapshotStore, family: str, days: Sequence[date], settings: Settings
) -> dict[str, pa.Table]:
    """The stored daily rows a family needs for ``days``: only its lookback, never raw chains.

    When the family has an earlier snapshot, it stands in for everything before it: its
    latest-only rows, and for options_analysis its IV-rank window. Only the daily rows written
    since are read, so a new anchor reads a few small files, not a year of them.
    """
    previous = store.latest_before(family, days[0])
    snapshot = store.read(family, previous) if previous is not None else None
    carried_input = CARRIED_INPUTS.get(family, (None, {}))[0]
    inputs = {}
    for name in FAMILY_INPUTS[family]:
        # A snapshot written before the window was kept cannot stand in for the lookback.
        usable = snapshot is not None and (
            name == carried_input or "atm_window" in snapshot.column_names
        )
        if previous is None or not usable:
            start = days[0] - timedelta(days=reach_days(name, settings))
            inputs[name] = _empty(store.read_between(name, start, days[-1]))
            continue
        fresh = store.read_between(name, date.fromisoformat(previous) + timedelta(days=1), days[-1])
        if name == carried_input:
            inputs[name] = carried_forward(family, snapshot, fresh)
        else:  # the IV-rank series: the previous window plus the new days
            parts = [t for t in (sql.atm_window_rows(snapshot), fresh) if t is not None]
            inputs[name] = pa.concat_tables(parts, promote_options="permissive")
    return inputs


def option_family_partitions(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    family: str,
    days: Sequence[date],
    run_id: str,
) -> tuple[pa.Table, dict[str, int]]:
    """Compute and write one option family for ``days``; its rows and rows per partition.

    Anchors go in chunks of ``family_chunk_days``: each chunk stands on the snapshot the
    previous one just wrote, as a daily run stands on yesterday's, so memory and reads stay
    those of one chunk however long the backfill. The rows returned (for the UI's
    per-partition metadata) leave out the IV-rank window, the one column that grows with history.
    """
    require_lake_dates("options", settings, days)
    store = SnapshotStore(settings.snapshot_root)
    tables: list[pa.Table] = []
    counts: dict[str, int] = {}
    tickers = len(files.options_files(settings.lake_root, max(days))) if days else 0
    for chunk in _chunks(sorted(days), family_chunk_days(family, tickers)):
        inputs = daily_inputs(store, family, chunk, settings)
        table = option_family(con, family, inputs, chunk, settings)
        # The stored daily rows carry their lake files' origin: no lake footer is reread here.
        origin = recorded_origin(inputs.values())
        counts |= write_partitions(store, family, table, chunk, "anchor_date", run_id, origin)
        kept = table.drop_columns([c for c in ("atm_window",) if c in table.column_names])
        # Copied: columns of DuckDB's Arrow result keep the whole result (the windows) alive.
        tables.append(pc.take(kept, pa.array(range(kept.num_rows), pa.int64())))
    return pa.concat_tables(tables, promote_options="permissive"), counts


def macro_partitions(
    con: duckdb.DuckDBPyConnection, settings: Settings, days: Sequence[date], run_id: str
) -> tuple[pa.Table, dict[str, int]]:
    """Compute and write macro_analysis, carrying an earlier snapshot forward if there is one."""
    require_lake_dates("macro", settings, days)
    store = SnapshotStore(settings.snapshot_root)
    previous_key = store.latest_before("macro_analysis", min(days))
    previous = (
        (date.fromisoformat(previous_key), store.read("macro_analysis", previous_key))
        if previous_key
        else None
    )
    table = macro_family(con, settings, sorted(days), previous)
    read_from = min(days) - timedelta(days=sql.MACRO_SEARCH_DAYS)
    origin = lake_origin(files.files_between(settings.lake_root, "macro", read_from, max(days)))
    return table, write_partitions(
        store, "macro_analysis", table, days, "anchor_date", run_id, origin
    )


def gpr_partitions(
    con: duckdb.DuckDBPyConnection, settings: Settings, months: Sequence[date], run_id: str
) -> tuple[pa.Table, dict[str, int]]:
    """Compute and write geopolitical_analysis for the monthly anchors."""
    require_lake_dates("gpr", settings, months)
    store = SnapshotStore(settings.snapshot_root)
    table = gpr_family(con, settings, sorted(months))
    gpr_file = files.gpr_file(settings.lake_root)
    origin = lake_origin([gpr_file] if gpr_file.exists() else [])
    return table, write_partitions(
        store, "geopolitical_analysis", table, months, "anchor_date", run_id, origin
    )
