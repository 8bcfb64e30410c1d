"""Partitions of the metric assets, defined once and imported everywhere.

Partitions are keyed by anchor date (ISO ``YYYY-MM-DD``; GPR uses the first of the month) and are
dynamic: a date becomes a partition when the state file reports it, or when a history backfill
registers the dates present in the lake up to the anchor. Tickers are rows inside a partition, not
a second dimension: Dagster's multi-partitions have known single-run-backfill bugs, and every
family is computed for all tickers of a day in one set-based query anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import dagster as dg
import sqlalchemy.exc

from silver_assets.anchors import resolve_anchor
from silver_assets.lake import files
from silver_assets.registry import DATASETS
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore
from silver_assets.sources.versions import gpr_month_versions

PARTITIONS_BY_DATASET: dict[str, dg.DynamicPartitionsDefinition] = {
    d.name: dg.DynamicPartitionsDefinition(name=d.partitions_name) for d in DATASETS.values()
}
options_anchor_partitions = PARTITIONS_BY_DATASET["options"]
macro_anchor_partitions = PARTITIONS_BY_DATASET["macro"]
gpr_anchor_partitions = PARTITIONS_BY_DATASET["gpr"]

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def gpr_months(settings: Settings) -> list[date]:
    """Months present in the GPR file, ascending (``ValueError`` if it is unreadable)."""
    return sorted(date.fromisoformat(key) for key in gpr_month_versions(settings.lake_root))


def lake_dates(dataset: str, settings: Settings) -> list[date]:
    """Every date a dataset holds in the lake (GPR: months)."""
    if DATASETS[dataset].monthly:
        return gpr_months(settings)
    dates, _ = files.daily_listing(dataset)
    return dates(settings.lake_root)


class MissingLakeData(ValueError):
    """An anchor the lake holds no data for: nothing may be materialized or written for it."""


def no_lake_data(dataset: str, what: str, lake: Sequence[date]) -> str:
    """The message for anchors without lake data: what was asked, and where the lake ends."""
    ends = f"the lake's {dataset} data ends at {lake[-1]}" if lake else "the lake holds none at all"
    return f"{dataset}: {what}, but the lake has no {dataset} data for it ({ends})"


def require_lake_dates(dataset: str, settings: Settings, days: Iterable[date]) -> None:
    """Raise ``MissingLakeData`` unless the lake holds data for every one of ``days``."""
    lake = lake_dates(dataset, settings)
    missing = sorted(set(days) - set(lake))
    if missing:
        shown = ", ".join(day.isoformat() for day in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        what = f"anchor{'s' if len(missing) > 1 else ''} {shown}{more}"
        raise MissingLakeData(no_lake_data(dataset, what, lake))


def anchor_keys(
    dataset: str, settings: Settings, history: bool = False, anchor: date | None = None
) -> list[str]:
    """Partition keys to register: the anchor, plus with ``history`` every lake date up to it.

    Raises ``MissingLakeData`` when the lake holds nothing for the anchor (a state file ahead
    of the lake, or a fallback to today): a snapshot for it would be empty or another date's.
    """
    what = "anchor"
    if anchor is None:
        state = resolve_anchor(dataset, settings.state_path)
        anchor = state.date
        what = "the anchor falls back to today," if state.is_fallback else "the state says"
    anchor = DATASETS[dataset].anchor_key(anchor)
    lake = lake_dates(dataset, settings)
    if anchor not in set(lake):
        raise MissingLakeData(no_lake_data(dataset, f"{what} {anchor}", lake))
    keys = {anchor}
    if history:
        keys |= {day for day in lake if day <= anchor}
    return sorted(day.isoformat() for day in keys)


def missing_lookback(settings: Settings, anchor: date) -> list[str]:
    """Options lake dates in the anchor's IV-rank lookback whose daily rows were never scanned.

    The families read the stored daily rows, not the chains, so a rank computed before those days
    are scanned would rank a shorter series than the lake holds. Runs for an anchor take these
    dates along.
    """
    start = anchor - timedelta(days=settings.iv_rank_lookback_days)
    scanned = set(SnapshotStore(settings.snapshot_root).partitions("atm_iv_daily"))
    return [
        day.isoformat()
        for day in lake_dates("options", settings)
        if start <= day < anchor and day.isoformat() not in scanned
    ]


def with_lookback(dataset: str, settings: Settings, keys: list[str]) -> list[str]:
    """``keys`` plus, for options, the unscanned lake dates in the first key's lookback."""
    if dataset != "options" or not keys:
        return sorted(keys)
    return sorted(set(keys) | set(missing_lookback(settings, date.fromisoformat(min(keys)))))


def register_partitions(
    instance: dg.DagsterInstance, dataset: str, keys: Sequence[str], attempts: int = 5
) -> list[str]:
    """Add the keys Dagster does not know yet, in date order; return the ones this call added.

    Safe when several commands register at once: a key another command added between our read
    and our insert fails the insert on the unique index, so we read again and add the rest.
    """
    name = DATASETS[dataset].partitions_name
    for _ in range(attempts):
        new = sorted(set(keys) - set(instance.get_dynamic_partitions(name)))
        if not new:
            return []
        try:
            instance.add_dynamic_partitions(name, new)
        except sqlalchemy.exc.IntegrityError:
            continue
        return new
    raise RuntimeError(f"could not register {dataset} partitions after {attempts} attempts")


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that target ``first..last`` (in Dagster's key order) as a single run."""
    if first == last:
        return {PARTITION_TAG: first}
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def keys_of_run(tags: Mapping[str, str], order: Sequence[str]) -> list[str]:
    """The partition keys a run's tags target, given Dagster's key ``order``."""
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        start, end = order.index(tags[RANGE_START_TAG]), order.index(tags[RANGE_END_TAG])
        return list(order[start : end + 1])
    return []


def contiguous_groups(order: Sequence[str], keys: Sequence[str]) -> list[tuple[str, str]]:
    """Split ``keys`` into runs that are contiguous in Dagster's key ``order``: (first, last).

    Dynamic partitions keep the order they were added in, and a range run covers every key
    between its ends, so only keys that are neighbours in that order may share a run. Groups
    come out in date order, so earlier anchors are materialized before later ones.
    """
    position = {key: i for i, key in enumerate(order)}
    missing = sorted(set(keys) - set(position))
    if missing:
        raise ValueError(f"partitions not registered: {', '.join(missing[:5])}")
    groups: list[list[str]] = []
    for key in sorted(keys):
        if groups and position[key] == position[groups[-1][-1]] + 1:
            groups[-1].append(key)
        else:
            groups.append([key])
    return [(group[0], group[-1]) for group in groups]
