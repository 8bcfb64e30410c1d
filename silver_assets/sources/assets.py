"""Observable source assets for the options, macro and GPR datasets.

Each observation reports one data version per anchor partition (the run's partitions in a
partitioned run, else every registered one): a digest of that day's files for the daily
datasets, and of that month's row for GPR (see ``versions``). Dagster marks downstream
partitions stale exactly where a version moved.

The collector, not Dagster, writes the lake: in Dagster's terms these are external assets, and
a partition whose files have arrived is recorded once as a runless materialization of the source
(:func:`arrivals`). Dagster counts only materializations in an asset's partition status, so
without them every source partition would read "missing" and the catalog "0% filled".
"""

from collections.abc import Mapping
from datetime import date

import dagster as dg
from dagster import DagsterInstance

from silver_assets.lake import files
from silver_assets.partitions import (
    gpr_anchor_partitions,
    macro_anchor_partitions,
    options_anchor_partitions,
)
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource
from silver_assets.sources import versions

GROUP = "silver_sources"
DATASET_TAG = "dataset"
# Dagster's tag for an event's data version (not exported under the public ``dagster`` name).
DATA_VERSION_TAG = "dagster/data_version"


def source_tags(dataset: str) -> dict[str, str]:
    """The catalog's dataset tag and Parquet kind (source assets take kinds as tags)."""
    return {DATASET_TAG: dataset, "dagster/kind/parquet": ""}


def _target_keys(context, partitions: dg.DynamicPartitionsDefinition) -> list[str]:
    """The run's partitions when it has some (a daily run observes one day), else every one."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return context.instance.get_dynamic_partitions(partitions.name)


def arrivals(
    instance: DagsterInstance, source: str, found: Mapping[str, str]
) -> list[dg.AssetMaterialization]:
    """A materialization of ``source`` for each partition of ``found`` (key -> data version)
    that has files and none yet: the partition status shows which anchors the lake holds."""
    key = dg.AssetKey(source)
    recorded = instance.get_materialized_partitions(key)
    return [
        dg.AssetMaterialization(
            asset_key=key,
            partition=partition,
            tags={DATA_VERSION_TAG: version},
            description="files found in the lake",
        )
        for partition, version in sorted(found.items())
        if version != versions.EMPTY_VERSION and partition not in recorded
    ]


def _observed(context, found: dict[str, str]) -> dg.DataVersionsByPartition:
    """The observation of ``found``, after recording the partitions whose files arrived."""
    for arrival in arrivals(context.instance, context.asset_key.to_user_string(), found):
        context.log_event(arrival)
    return dg.DataVersionsByPartition({key: dg.DataVersion(v) for key, v in found.items()})


def _observe_daily(context, dataset: str, partitions, lake_root) -> dg.DataVersionsByPartition:
    return _observed(
        context,
        {
            key: versions.version_of_day(lake_root, dataset, date.fromisoformat(key))
            for key in _target_keys(context, partitions)
        },
    )


@dg.observable_source_asset(
    partitions_def=options_anchor_partitions,
    group_name=GROUP,
    description="Daily option chains: `options/<date>/<SYMBOL>_options_<date>.parquet`.",
    tags=source_tags("options"),
)
def silver_options(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    return _observe_daily(context, "options", options_anchor_partitions, silver.settings.lake_root)


@dg.observable_source_asset(
    partitions_def=macro_anchor_partitions,
    group_name=GROUP,
    description="Daily macro retrievals: `macro/<date>/macro_snapshot_<date>.parquet`.",
    tags=source_tags("macro"),
)
def silver_macro(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    return _observe_daily(context, "macro", macro_anchor_partitions, silver.settings.lake_root)


@dg.observable_source_asset(
    partitions_def=gpr_anchor_partitions,
    group_name=GROUP,
    description="Monthly GPR index, rewritten in place: `gpr/gpr_monthly_enriched.parquet`.",
    tags=source_tags("gpr"),
)
def silver_gpr(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    lake = silver.settings.lake_root
    keys = _target_keys(context, gpr_anchor_partitions)
    try:
        found = versions.gpr_month_versions(lake)
    except Exception as exc:  # an unreadable file is the contract check's to report
        context.log.warning(f"GPR file unreadable ({exc}); versioning it by its stat")
        found = dict.fromkeys(keys, versions.fingerprint([files.gpr_file(lake)]))
    return _observed(context, {key: found.get(key, versions.EMPTY_VERSION) for key in keys})


_BY_NAME = {a.key.to_user_string(): a for a in (silver_options, silver_macro, silver_gpr)}
SOURCES = {d.name: _BY_NAME[d.source_asset] for d in DATASETS.values()}
