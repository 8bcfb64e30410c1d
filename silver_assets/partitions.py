"""Partitions of the metric assets, defined once and imported everywhere.

Partitions are keyed by anchor date (ISO ``YYYY-MM-DD``; GPR uses the first of the month) and are
dynamic: a date becomes a partition when the state file reports it, or when a history backfill
registers the dates present in the lake up to the anchor. Tickers are rows inside a partition, not
a second dimension: Dagster's multi-partitions have known single-run-backfill bugs, and every
family is computed for all tickers of a day in one set-based query anyway.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq

from silver_assets.anchors import resolve_anchor
from silver_assets.lake import files
from silver_assets.settings import Settings

options_anchor_partitions = dg.DynamicPartitionsDefinition(name="options_anchor_dates")
macro_anchor_partitions = dg.DynamicPartitionsDefinition(name="macro_anchor_dates")
gpr_anchor_partitions = dg.DynamicPartitionsDefinition(name="gpr_anchor_months")

PARTITIONS_BY_DATASET: dict[str, dg.DynamicPartitionsDefinition] = {
    "options": options_anchor_partitions,
    "macro": macro_anchor_partitions,
    "gpr": gpr_anchor_partitions,
}


def gpr_months(settings: Settings) -> list[date]:
    """Months present in the GPR file, ascending."""
    path = files.gpr_file(settings.lake_root)
    if not path.exists():
        return []
    months = pc.cast(pq.read_table(path, columns=["date"]).column("date"), "date32").to_pylist()
    return sorted({m.replace(day=1) for m in months if m is not None})


def lake_dates(dataset: str, settings: Settings) -> list[date]:
    """Every date a dataset holds in the lake (GPR: months)."""
    if dataset == "gpr":
        return gpr_months(settings)
    dates, _ = files.daily_listing(dataset)
    return dates(settings.lake_root)


def anchor_keys(
    dataset: str, settings: Settings, history: bool = False, anchor: date | None = None
) -> list[str]:
    """Partition keys to register: the anchor, plus with ``history`` every lake date up to it."""
    if anchor is None:
        anchor = resolve_anchor(dataset, settings.state_path).date
    if dataset == "gpr":
        anchor = anchor.replace(day=1)
    keys = {anchor}
    if history:
        keys |= {day for day in lake_dates(dataset, settings) if day <= anchor}
    return sorted(day.isoformat() for day in keys)


def register_partitions(instance: dg.DagsterInstance, dataset: str, keys: list[str]) -> list[str]:
    """Add the keys Dagster does not know yet, in date order; return the new ones."""
    name = PARTITIONS_BY_DATASET[dataset].name
    known = set(instance.get_dynamic_partitions(name))
    new = sorted(set(keys) - known)
    if new:
        instance.add_dynamic_partitions(name, new)
    return new
