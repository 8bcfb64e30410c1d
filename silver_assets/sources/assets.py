"""Observable source assets for the options, macro and GPR datasets.

Each observation reports one data version per registered anchor partition: a digest of that
day's files for the daily datasets, and of that month's row for GPR (see ``versions``). Dagster
marks downstream partitions stale exactly where a version moved.
"""

import dagster as dg

from silver_assets.lake import files
from silver_assets.partitions import (
    gpr_anchor_partitions,
    macro_anchor_partitions,
    options_anchor_partitions,
)
from silver_assets.resources import SilverLakeResource
from silver_assets.sources import versions

GROUP = "silver_sources"


def _by_partition(
    context: dg.AssetExecutionContext,
    partitions: dg.DynamicPartitionsDefinition,
    found: dict[str, str],
) -> dg.DataVersionsByPartition:
    registered = context.instance.get_dynamic_partitions(partitions.name)
    return dg.DataVersionsByPartition(
        {key: dg.DataVersion(found.get(key, versions.EMPTY_VERSION)) for key in registered}
    )


@dg.observable_source_asset(
    partitions_def=options_anchor_partitions,
    group_name=GROUP,
    description="Daily option chains: options/<date>/<SYMBOL>_options_<date>.parquet",
)
def silver_options(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    found = versions.daily_versions(silver.settings.lake_root, "options")
    return _by_partition(context, options_anchor_partitions, found)


@dg.observable_source_asset(
    partitions_def=macro_anchor_partitions,
    group_name=GROUP,
    description="Daily macro retrievals: macro/<date>/macro_snapshot_<date>.parquet",
)
def silver_macro(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    found = versions.daily_versions(silver.settings.lake_root, "macro")
    return _by_partition(context, macro_anchor_partitions, found)


@dg.observable_source_asset(
    partitions_def=gpr_anchor_partitions,
    group_name=GROUP,
    description="Monthly GPR index, rewritten in place: gpr/gpr_monthly_enriched.parquet",
)
def silver_gpr(context, silver: SilverLakeResource) -> dg.DataVersionsByPartition:
    lake = silver.settings.lake_root
    try:
        found = versions.gpr_month_versions(lake)
    except Exception as exc:  # an unreadable file is the contract check's to report
        context.log.warning(f"GPR file unreadable ({exc}); versioning it by its stat")
        whole = versions.fingerprint([files.gpr_file(lake)])
        found = dict.fromkeys(
            context.instance.get_dynamic_partitions(gpr_anchor_partitions.name), whole
        )
    return _by_partition(context, gpr_anchor_partitions, found)


SOURCES = {"options": silver_options, "macro": silver_macro, "gpr": silver_gpr}
