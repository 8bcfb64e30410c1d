"""Observable source assets for the options, macro and GPR datasets.

Each observation reports one data version per anchor partition (the run's partitions in a
partitioned run, else every registered one): a digest of that day's files for the daily
datasets, and of that month's row for GPR (see ``versions``). Dagster marks downstream
partitions stale exactly where a version moved.

The collector, not Dagster, writes the lake: in Dagster's terms these are external assets, and
a partition whose files have arrived is recorded once as a runless materialization of the source
(:func:`arrivals`). Dagster counts only materializations in an asset's partition status, so
without them every source partition would read "missing" and the catalog "0% filled".

The observation jobs run these assets (the UI, the daemon); ``run_dataset`` records the same
events without a run (:func:`record_observation`), as the freshness sensor does.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date

import dagster as dg
from dagster import DagsterInstance

from silver_assets.lake import files
from silver_assets.partitions import (
    PARTITIONS_BY_DATASET,
    gpr_anchor_partitions,
    macro_anchor_partitions,
    options_anchor_partitions,
)
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource
from silver_assets.sources import versions
from silver_assets.storage import Location

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


def version_observations(source: str, found: Mapping[str, str]) -> list[dg.AssetObservation]:
    """An observation of ``source`` for each partition of ``found``: its data version."""
    return [
        dg.AssetObservation(asset_key=source, partition=key, tags={DATA_VERSION_TAG: version})
        for key, version in sorted(found.items())
    ]


def observed_versions(
    dataset: str, lake_root: Location, keys: Sequence[str], warn: Callable[[str], None]
) -> dict[str, str]:
    """The data version of each of ``keys``: a digest of that day's files, or of the GPR month.

    An unreadable GPR file is versioned by its stat (``warn`` says so): reporting it is the
    contract check's job.
    """
    if not DATASETS[dataset].monthly:
        return {
            key: versions.version_of_day(lake_root, dataset, date.fromisoformat(key))
            for key in keys
        }
    try:
        found = versions.gpr_month_versions(lake_root)
    except Exception as exc:
        warn(f"GPR file unreadable ({exc}); versioning it by its stat")
        found = dict.fromkeys(keys, versions.fingerprint([files.gpr_file(lake_root)]))
    return {key: found.get(key, versions.EMPTY_VERSION) for key in keys}


def record_observation(
    instance: DagsterInstance, dataset: str, lake_root: Location, keys: Sequence[str]
) -> dict[str, str]:
    """Observe ``keys`` of the dataset's source without a run: runless arrivals and versions.

    The same events an observation run records, without the run's own dozen events.
    """
    source = DATASETS[dataset].source_asset
    found = observed_versions(dataset, lake_root, keys, logging.getLogger(__name__).warning)
    events: list[dg.AssetMaterialization | dg.AssetObservation] = [
        *arrivals(instance, source, found),
        *version_observations(source, found),
    ]
    for event in events:
        instance.report_runless_asset_event(event)
    return found


def _observe(context, dataset: str, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    """The observation of the run's partitions, after recording those whose files arrived."""
    partitions = PARTITIONS_BY_DATASET[dataset]
    found = observed_versions(
        dataset, silver.settings.lake_root, _target_keys(context, partitions), context.log.warning
    )
    for arrival in arrivals(context.instance, context.asset_key.to_user_string(), found):
        context.log_event(arrival)
    return dg.DataVersionsByPartition({key: dg.DataVersion(v) for key, v in found.items()})


@dg.observable_source_asset(
    partitions_def=options_anchor_partitions,
    group_name=GROUP,
    description="Daily option chains: `options/<date>/<SYMBOL>_options_<date>.parquet`.",
    tags=source_tags("options"),
)
def silver_options(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    return _observe(context, "options", silver)


@dg.observable_source_asset(
    partitions_def=macro_anchor_partitions,
    group_name=GROUP,
    description="Daily macro retrievals: `macro/<date>/macro_snapshot_<date>.parquet`.",
    tags=source_tags("macro"),
)
def silver_macro(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    return _observe(context, "macro", silver)


@dg.observable_source_asset(
    partitions_def=gpr_anchor_partitions,
    group_name=GROUP,
    description="Monthly GPR index, rewritten in place: `gpr/gpr_monthly_enriched.parquet`.",
    tags=source_tags("gpr"),
)
def silver_gpr(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    return _observe(context, "gpr", silver)


_BY_NAME = {a.key.to_user_string(): a for a in (silver_options, silver_macro, silver_gpr)}
SOURCES = {d.name: _BY_NAME[d.source_asset] for d in DATASETS.values()}
