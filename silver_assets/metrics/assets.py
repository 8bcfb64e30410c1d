"""Partitioned metric assets: daily option-chain scans and the six families as of each anchor.

Every asset runs a whole partition range in one run (``BackfillPolicy.single_run()``) with the
set-based SQL of :mod:`silver_assets.metrics.sql`, and writes one snapshot file per partition via
:class:`~silver_assets.snapshots.SnapshotStore`. The daily scan reads each day's chains once;
the option families then read only those small daily rows, so a new anchor costs one day's scan.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import dagster as dg
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from silver_assets.metrics import sql
from silver_assets.metrics.compute import FAMILY_INPUTS
from silver_assets.metrics.families import BUILDERS
from silver_assets.metrics.materialize import (
    daily_scan,
    gpr_partitions,
    macro_partitions,
    option_family_partitions,
)
from silver_assets.metrics.plots import history_plot
from silver_assets.partitions import (
    gpr_anchor_partitions,
    macro_anchor_partitions,
    options_anchor_partitions,
)
from silver_assets.resources import SilverLakeResource
from silver_assets.sources.assets import silver_gpr, silver_macro, silver_options

SINGLE_RUN = dg.BackfillPolicy.single_run()


def _days(context: dg.AssetExecutionContext) -> list[date]:
    return sorted(date.fromisoformat(key) for key in context.partition_keys)


def values_table(family: str, table: pa.Table, anchor: date) -> dg.TableMetadataValue:
    """The latest anchor's answers, one row per ticker: values and lineage anchors."""
    everything = frozenset({"GPR Threats", "GPR Acts"})
    records = []
    for row in (r for r in table.to_pylist() if r.get("anchor_date") == anchor):
        ticker = row.get("symbol") or ""
        answer = BUILDERS[family](row, ticker, everything)
        records.append(
            dg.TableRecord(
                {
                    "ticker": ticker or "-",
                    "values": ", ".join(f"{k}={v}" for k, v in answer.values.items()),
                    "lineage_anchors": ", ".join(answer.anchors),
                }
            )
        )
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("ticker", "string"),
            dg.TableColumn("values", "string"),
            dg.TableColumn("lineage_anchors", "string"),
        ]
    )
    return dg.MetadataValue.table(records=records, schema=schema)


def _family_result(
    family: str, table: pa.Table, days: Sequence[date], counts: dict[str, int]
) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=family,
        metadata={
            "anchors": dg.MetadataValue.text(f"{days[0]} .. {days[-1]} ({len(days)})"),
            "dagster/row_count": sum(counts.values()),
            "values": values_table(family, table, days[-1]),
        },
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
PLOTTED = {"atm_iv_daily": "atm_iv", "put_call_ratio_daily": "pcr_volume"}


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
    store = silver.store
    for name in sql.DAILY_QUERIES:
        metadata = {"dagster/row_count": rows[name], "dates": len(days)}
        if name in PLOTTED:
            history = store.read_between(name, days[-1] - timedelta(days=365), days[-1])
            metadata["history"] = dg.MetadataValue.md(history_plot(history, PLOTTED[name]))
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


# --------------------------------------------------------------------------------------------
# Option families as of each anchor
# --------------------------------------------------------------------------------------------


def _option_family(name: str, description: str):
    @dg.asset(
        name=name,
        deps=list(FAMILY_INPUTS[name]),
        partitions_def=options_anchor_partitions,
        backfill_policy=SINGLE_RUN,
        group_name="metric_families",
        description=description,
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
        return _family_result(name, table, days, counts)

    return _asset


put_call_ratio = _option_family(
    "put_call_ratio",
    "Latest daily put/call ratio at or before the anchor (SPEC §3).",
)
options_analysis = _option_family(
    "options_analysis",
    "ATM IV and its rank over IV_RANK_LOOKBACK_DAYS, and the latest OTM IV skew (SPEC §3).",
)
liquidity_analysis = _option_family(
    "liquidity_analysis",
    "Latest chain volume, open interest, liquid spread and count, market-impact risk.",
)
pricing_spread = _option_family(
    "pricing_spread",
    "Latest liquid DTE 7-45 average quotes and underlying price.",
)


# --------------------------------------------------------------------------------------------
# Macro and GPR
# --------------------------------------------------------------------------------------------


@dg.asset(
    deps=[silver_macro],
    partitions_def=macro_anchor_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="metric_families",
    description="Latest macro row per series at or before the anchor (ETF aliasing at query).",
)
def macro_analysis(
    context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    days = _days(context)
    with duckdb.get_connection() as con:
        table, counts = macro_partitions(
            sql.prepare(con), silver.settings, days, context.run.run_id
        )
    return _family_result("macro_analysis", table, days, counts)


@dg.asset(
    deps=[silver_gpr],
    partitions_def=gpr_anchor_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="metric_families",
    description="Latest monthly GPR level, percentile and trend at or before the anchor month.",
)
def geopolitical_analysis(
    context: dg.AssetExecutionContext, silver: SilverLakeResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    months = _days(context)
    with duckdb.get_connection() as con:
        table, counts = gpr_partitions(
            sql.prepare(con), silver.settings, months, context.run.run_id
        )
    return _family_result("geopolitical_analysis", table, months, counts)


OPTION_FAMILY_ASSETS = [put_call_ratio, options_analysis, liquidity_analysis, pricing_spread]
METRIC_ASSETS_BY_DATASET = {
    "options": [options_daily_scan, *OPTION_FAMILY_ASSETS],
    "macro": [macro_analysis],
    "gpr": [geopolitical_analysis],
}
METRIC_ASSETS = [asset for assets in METRIC_ASSETS_BY_DATASET.values() for asset in assets]
