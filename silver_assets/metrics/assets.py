"""Partitioned metric assets: daily option-chain scans and the six families as of each anchor.

Every asset runs a whole partition range in one run (``BackfillPolicy.single_run()``) with the
set-based SQL of :mod:`silver_assets.metrics.sql`, and writes one snapshot file per partition via
:class:`~silver_assets.snapshots.SnapshotStore`. The daily scan reads each day's chains once;
the option families then read only those small daily rows, so a new anchor costs one day's scan.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import dagster as dg
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from silver_assets.metrics import sql
from silver_assets.metrics.families import BUILDERS, FamilyAnswer
from silver_assets.metrics.materialize import (
    daily_scan,
    gpr_partitions,
    macro_partitions,
    option_family_partitions,
)
from silver_assets.metrics.plots import answer_numbers, row_numbers
from silver_assets.partitions import (
    gpr_anchor_partitions,
    macro_anchor_partitions,
    options_anchor_partitions,
)
from silver_assets.registry import FAMILIES, Family, families_of
from silver_assets.resources import SilverLakeResource
from silver_assets.sources.assets import silver_gpr, silver_macro, silver_options

SINGLE_RUN = dg.BackfillPolicy.single_run()
# The UI shows every value a family can answer, the optional GPR levels too.
EVERYTHING = frozenset({"GPR Threats", "GPR Acts"})


def _days(context: dg.AssetExecutionContext) -> list[date]:
    return sorted(date.fromisoformat(key) for key in context.partition_keys)


def values_table(answers: Sequence[FamilyAnswer]) -> dg.TableMetadataValue:
    """One partition's answers, one row per ticker: values and lineage anchors."""
    records = [
        dg.TableRecord(
            {
                "ticker": answer.ticker or "-",
                "values": ", ".join(f"{k}={v}" for k, v in answer.values.items()),
                "lineage_anchors": ", ".join(answer.anchors),
            }
        )
        for answer in answers
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("ticker", "string"),
            dg.TableColumn("values", "string"),
            dg.TableColumn("lineage_anchors", "string"),
        ]
    )
    return dg.MetadataValue.table(records=records, schema=schema)


def _rows_by_day(table: pa.Table | None, column: str) -> dict[date, list[dict]]:
    grouped: dict[date, list[dict]] = defaultdict(list)
    for row in table.to_pylist() if table is not None else []:
        grouped[row[column]].append(row)
    return grouped


def family_partition_metadata(
    family: str, table: pa.Table, days: Sequence[date]
) -> dict[str, dict[str, Any]]:
    """Each anchor's own metadata: its answers with lineage anchors, row count and numbers."""
    # No answer reads the nested IV-rank series, and it is most of the cost of the rows' conversion.
    if "atm_window" in table.column_names:
        table = table.drop_columns(["atm_window"])
    grouped, build, metadata = _rows_by_day(table, "anchor_date"), BUILDERS[family], {}
    for day in days:
        rows = grouped.get(day, [])
        answers = [(build(row, row.get("symbol") or "", EVERYTHING), row) for row in rows]
        numbers = {k: v for answer, row in answers for k, v in answer_numbers(answer, row).items()}
        metadata[day.isoformat()] = {
            "dagster/row_count": len(rows),
            "values": values_table([answer for answer, _ in answers]),
            **numbers,
        }
    return metadata


def daily_partition_metadata(table: pa.Table | None, days: Sequence[date]) -> dict[str, dict]:
    """Each day's own metadata from its written daily rows: row count and every number."""
    grouped = _rows_by_day(table, "snapshot_date")
    numeric = [
        field.name
        for field in (table.schema if table is not None else [])
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
    ]
    return {
        day.isoformat(): {
            "dagster/row_count": len(grouped.get(day, [])),
            **row_numbers(grouped.get(day, []), numeric),
        }
        for day in days
    }


def report_partitions(
    context: dg.AssetExecutionContext, asset: str, metadata: dict[str, dict[str, Any]]
) -> dg.MaterializeResult:
    """Attach each partition's own metadata to its materialization; the run-level rest is shared.

    Without this, Dagster copies one run's output metadata to every partition of a ranged run.
    """
    keys = sorted(metadata)
    for key in keys:
        context.add_asset_metadata(metadata[key], asset_key=asset, partition_key=key)
    return dg.MaterializeResult(
        asset_key=asset,
        metadata={"run_anchors": dg.MetadataValue.text(f"{keys[0]} .. {keys[-1]} ({len(keys)})")},
    )


# --------------------------------------------------------------------------------------------
# Daily option-chain scan
# --------------------------------------------------------------------------------------------

DAILY_DESCRIPTIONS = {
    "put_call_ratio_daily": "Per day and ticker: put and call volume and open-interest sums, PCR.",
    "atm_iv_daily": "Per day and ticker: the ATM contract (liquid, DTE 7-45) and its IV.",
    "iv_skew_daily": "Per day and ticker: the 5-10% OTM put and call wings and their IV skew.",
    "liquidity_daily": "Per day and ticker: chain volume and OI, liquid spread and count.",
    "pricing_daily": "Per day and ticker: average liquid DTE 7-45 quotes and underlying.",
}


@dg.multi_asset(
    name="options_daily_scan",
    specs=[
        dg.AssetSpec(
            name,
            deps=[silver_options],
            description=DAILY_DESCRIPTIONS[name],
            group_name="options_daily",
            partitions_def=options_anchor_partitions,
        )
        for name in sql.DAILY_QUERIES
    ],
    partitions_def=options_anchor_partitions,
    backfill_policy=SINGLE_RUN,
)
def options_daily_scan(
    context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
):
    """One scan of each day's option chains feeds all five daily assets."""
    days = _days(context)
    with duckdb.get_connection() as con:
        rows = daily_scan(
            sql.prepare(con), silver.settings, days, context.run.run_id, context.log.info
        )
    context.log.info(f"options daily scan: {sum(rows.values())} rows in {len(days)} dates")
    for name in sql.DAILY_QUERIES:
        # Read back what was written: each day's metadata is that day's snapshot file.
        written = silver.store.read_between(name, days[0], days[-1])
        yield report_partitions(context, name, daily_partition_metadata(written, days))


# --------------------------------------------------------------------------------------------
# Option families as of each anchor
# --------------------------------------------------------------------------------------------


def option_family_asset(family: Family) -> dg.AssetsDefinition:
    """The asset of an option family: its daily inputs, latest (or ranked) as of each anchor."""
    name = family.name

    @dg.asset(
        name=name,
        deps=list(family.daily_inputs),
        partitions_def=options_anchor_partitions,
        backfill_policy=SINGLE_RUN,
        group_name="metric_families",
        description=family.description,
    )
    def _asset(
        context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        days = _days(context)
        with duckdb.get_connection() as con:
            table, counts = option_family_partitions(
                sql.prepare(con), silver.settings, name, days, context.run.run_id
            )
        context.log.info(f"{name}: {len(days)} anchors, {sum(counts.values())} rows")
        return report_partitions(context, name, family_partition_metadata(name, table, days))

    return _asset


OPTION_FAMILY_ASSETS = [option_family_asset(family) for family in families_of("options")]


# --------------------------------------------------------------------------------------------
# Macro and GPR
# --------------------------------------------------------------------------------------------


@dg.asset(
    deps=[silver_macro],
    partitions_def=macro_anchor_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="metric_families",
    description=FAMILIES["macro_analysis"].description,
)
def macro_analysis(
    context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    days = _days(context)
    with duckdb.get_connection() as con:
        table, _ = macro_partitions(sql.prepare(con), silver.settings, days, context.run.run_id)
    return report_partitions(
        context, "macro_analysis", family_partition_metadata("macro_analysis", table, days)
    )


@dg.asset(
    deps=[silver_gpr],
    partitions_def=gpr_anchor_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="metric_families",
    description=FAMILIES["geopolitical_analysis"].description,
)
def geopolitical_analysis(
    context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    months = _days(context)
    with duckdb.get_connection() as con:
        table, _ = gpr_partitions(sql.prepare(con), silver.settings, months, context.run.run_id)
    metadata = family_partition_metadata("geopolitical_analysis", table, months)
    return report_partitions(context, "geopolitical_analysis", metadata)


METRIC_ASSETS_BY_DATASET = {
    "options": [options_daily_scan, *OPTION_FAMILY_ASSETS],
    "macro": [macro_analysis],
    "gpr": [geopolitical_analysis],
}
METRIC_ASSETS = [asset for assets in METRIC_ASSETS_BY_DATASET.values() for asset in assets]
