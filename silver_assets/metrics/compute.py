"""Family tables from daily rows, and the query-time computation of the seed's design.

The assets and the direct (query-time) path share these functions: the assets feed them daily
rows read back from snapshots, the direct path feeds them daily rows computed on the spot from
the raw Parquet. The differential tests and the benchmark compare the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from silver_assets.lake import files
from silver_assets.metrics import sql
from silver_assets.metrics.liquidity import load_policy, market_impact_risk
from silver_assets.registry import FAMILIES, families_of
from silver_assets.settings import Settings
from silver_assets.sources import versions

OPTION_FAMILIES = tuple(f.name for f in families_of("options"))
# The daily assets each option family reads.
FAMILY_INPUTS: dict[str, tuple[str, ...]] = {
    f.name: f.daily_inputs for f in FAMILIES.values() if f.daily_inputs
}


# A latest-only daily input that a family carries forward from its own previous snapshot, which
# already holds each symbol's latest daily row (options_analysis stores it under other names).
CARRIED_INPUTS: dict[str, tuple[str, dict[str, str]]] = {
    f.name: (f.carried_input, dict(f.carried_renames)) for f in FAMILIES.values() if f.carried_input
}


# Columns a family adds to its daily rows; carried rows drop them so they are derived afresh.
FAMILY_ONLY_COLUMNS = ("anchor_date", "market_impact_risk")


def carried_forward(family: str, previous: pa.Table, fresh: pa.Table | None) -> pa.Table:
    """The previous snapshot's daily rows, followed by the daily rows written since.

    Exact for "latest at or before the anchor": the latest row at or before a later anchor is
    either one of the fresh rows or the row the previous anchor already picked, and rows past
    the reach are dropped by the as-of query itself.
    """
    _, renames = CARRIED_INPUTS[family]
    base = previous.rename_columns([renames.get(c, c) for c in previous.column_names])
    if "snapshot_date" in base.column_names:
        base = base.filter(pc.is_valid(base["snapshot_date"]))
        derived = [c for c in FAMILY_ONLY_COLUMNS if c in base.column_names]
        base = base.drop_columns(derived)
    else:  # the previous anchor had nothing to report
        base = None
    if fresh is not None and base is not None:
        base = base.select([c for c in fresh.column_names if c in base.column_names])
    parts = [t for t in (base, fresh) if t is not None and t.num_rows]
    if not parts:
        return pa.table({"snapshot_date": pa.array([], pa.date32())})
    return pa.concat_tables(parts, promote_options="permissive")


def reach_days(daily_asset: str, settings: Settings) -> int:
    """How many days before the first anchor a family needs rows of ``daily_asset``."""
    return settings.iv_rank_lookback_days if daily_asset == "atm_iv_daily" else sql.MAX_AGE_DAYS


def with_versions(table: pa.Table, column: str, version_of: Mapping) -> pa.Table:
    """Set ``source_data_version`` from each row's ``column`` value."""
    values = [version_of.get(v) for v in table[column].to_pylist()]
    if "source_data_version" in table.column_names:
        table = table.drop_columns(["source_data_version"])
    return table.append_column("source_data_version", pa.array(values, pa.string()))


def option_family(
    con: duckdb.DuckDBPyConnection,
    family: str,
    daily: Mapping[str, pa.Table],
    anchors: Sequence[date],
    settings: Settings,
) -> pa.Table:
    """One option family's rows for every anchor, from its daily inputs."""
    if family == "options_analysis":
        lookback = settings.iv_rank_lookback_days
        ranks = sql.iv_rank_as_of(con, daily["atm_iv_daily"], anchors, lookback)
        wings = sql.latest_as_of(con, daily["iv_skew_daily"], anchors)
        return sql.join_rank_and_skew(con, ranks, wings, lookback)
    (daily_asset,) = FAMILY_INPUTS[family]
    table = sql.latest_as_of(con, daily[daily_asset], anchors)
    if family != "liquidity_analysis" or table.num_rows == 0:
        return table
    if "market_impact_risk" in table.column_names:
        table = table.drop_columns(["market_impact_risk"])
    policy = load_policy(settings.config_dir)
    risk = [
        market_impact_risk(r["symbol"], r["avg_spread_pct"], r["liquid_contracts"], policy)
        for r in table.select(["symbol", "avg_spread_pct", "liquid_contracts"]).to_pylist()
    ]
    return table.append_column("market_impact_risk", pa.array(risk, pa.string()))


def macro_family(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    anchors: Sequence[date],
    previous: tuple[date, pa.Table] | None = None,
) -> pa.Table:
    """Latest macro row per symbol for every anchor, with its retrieval file's version.

    With ``previous`` (an earlier anchor and its snapshot) only the files retrieved after that
    anchor are read; its rows stand in for everything before.
    """
    lake = settings.lake_root
    if previous is not None:
        start, carried = previous[0] + timedelta(days=1), previous[1]
    else:
        start, carried = min(anchors) - timedelta(days=sql.MACRO_SEARCH_DAYS), None
    paths = files.files_between(lake, "macro", start, max(anchors))
    table = sql.macro_as_of(con, paths, anchors, carried)
    if table.num_rows == 0:
        return table
    retrievals = set(table["retrieval_date"].to_pylist())
    return with_versions(
        table,
        "retrieval_date",
        {day: versions.version_of_day(lake, "macro", day) for day in retrievals},
    )


def gpr_family(
    con: duckdb.DuckDBPyConnection, settings: Settings, months: Sequence[date]
) -> pa.Table:
    """Latest GPR row for every monthly anchor, with that month's row version."""
    lake = settings.lake_root
    table = sql.gpr_as_of(con, files.gpr_file(lake), months)
    if table.num_rows == 0:
        return table
    by_month = {date.fromisoformat(k): v for k, v in versions.gpr_month_versions(lake).items()}
    return with_versions(table, "gpr_month", by_month)


def direct_family_tables(
    con: duckdb.DuckDBPyConnection, settings: Settings, families: Sequence[str], anchor: date
) -> dict[str, pa.Table]:
    """The seed's design: compute the families for one anchor straight from the raw Parquet."""
    tables: dict[str, pa.Table] = {}
    option_families = [f for f in families if f in OPTION_FAMILIES]
    if option_families:
        start = anchor - timedelta(days=sql.MAX_AGE_DAYS)
        sql.load_chains(
            con, files.files_between(settings.lake_root, "options", start, anchor), start, anchor
        )
        daily = sql.daily_tables(con)
        for family in option_families:
            tables[family] = option_family(con, family, daily, [anchor], settings)
    if "macro_analysis" in families:
        tables["macro_analysis"] = macro_family(con, settings, [anchor])
    if "geopolitical_analysis" in families:
        tables["geopolitical_analysis"] = gpr_family(con, settings, [anchor.replace(day=1)])
    return tables
