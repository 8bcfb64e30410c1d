"""DuckDB SQL of the six metric families (docs/metrics.md), as plain functions over a connection.

Two stages keep a new anchor date cheap:

* **daily** queries scan one or more days of option chains once and return small per
  ``(snapshot_date, symbol)`` rows: put/call sums, the ATM contract, the skew wings, liquidity and
  pricing aggregates;
* **as-of** queries take a set of anchor dates and those daily rows (or the macro and GPR files)
  and pick, for every anchor at once, the latest observation at or before it. The IV rank ranks
  the daily ATM series inside each anchor's lookback window.

Everything is set-based over all requested dates, so a year's backfill is a handful of queries.
Values (file lists, dates, windows) are always bound parameters; the only text spliced into SQL
is column names from this module. Nothing after an anchor date is ever read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from silver_assets import storage
from silver_assets.lake.origin import ORIGIN_COLUMN
from silver_assets.storage import Location

ATM_DTE_MIN, ATM_DTE_MAX = 7, 45
SKEW_BAND_MIN, SKEW_BAND_MAX, SKEW_TARGET = 0.05, 0.10, 0.075
# The longest query window (past_year / all); an as-of answer older than this is never useful.
MAX_AGE_DAYS = 365
# Macro retrieval files kept for the as-of search: monthly series are re-published each day,
# so a year and a month always holds the latest row of every series.
MACRO_SEARCH_DAYS = 400


def connect(threads: int = 4, memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session configured as README: Configuration asks."""
    # With no database named, DuckDB opens an in-memory one.
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    prepare(con)
    return con


def prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Install what every query here relies on into ``con`` (any DuckDB session)."""
    # DuckDB 2.0 folds isnan() to false from Parquet column statistics (which exclude NaN), so a
    # NaN read straight from a file would survive nn(); without that pass isnan() sees the value.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    # A NaN in a numeric column counts as missing (docs/metrics.md) in filters, orderings and
    # aggregates.
    con.execute(
        "CREATE OR REPLACE TEMP MACRO nn(x) AS "
        "CASE WHEN isnan(CAST(x AS DOUBLE)) THEN NULL ELSE CAST(x AS DOUBLE) END"
    )
    return con


# --------------------------------------------------------------------------------------------
# Daily stage: one scan of the option chains of some days.
# --------------------------------------------------------------------------------------------


def load_chains(
    con: duckdb.DuckDBPyConnection, files: Sequence[Location | str], start: date, end: date
) -> None:
    """Expose the option rows of ``files`` with ``snapshot_date`` in ``[start, end]`` as ``chain``.

    ``chain`` is a view, not a table: :func:`daily_tables` reads it once, streaming, so memory
    does not grow with the number of files. Files are read by column name, so older 18-column
    files load beside newer ones; ISO-string dates are cast.
    """
    if not files:
        con.execute(
            """
            CREATE OR REPLACE TEMP VIEW chain AS
            SELECT * FROM (VALUES (
                CAST(NULL AS DATE), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
                CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE), CAST(NULL AS INTEGER),
                CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
                CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
                CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
                CAST(NULL AS BOOLEAN)
            )) AS t(snapshot_date, symbol, contract_symbol, option_type, strike, dte,
                    underlying_price, bid, ask, last_price, volume, open_interest,
                    implied_volatility, moneyness_pct, spread_pct, is_liquid)
            WHERE false
            """
        )
        return
    # A view cannot hold bound parameters: the file list and dates go in as quoted literals.
    listed = ", ".join(
        "'" + path.replace("'", "''") + "'" for path in storage.duckdb_paths(con, files)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW chain AS
        SELECT CAST(snapshot_date AS DATE) AS snapshot_date,
               CAST(symbol AS VARCHAR) AS symbol,
               CAST(contract_symbol AS VARCHAR) AS contract_symbol,
               lower(CAST(option_type AS VARCHAR)) AS option_type,
               nn(strike) AS strike,
               CAST(dte AS INTEGER) AS dte,
               nn(underlying_price) AS underlying_price,
               nn(bid) AS bid, nn(ask) AS ask, nn(last_price) AS last_price,
               nn(volume) AS volume, nn(open_interest) AS open_interest,
               nn(implied_volatility) AS implied_volatility,
               nn(moneyness_pct) AS moneyness_pct,
               nn(spread_pct) AS spread_pct,
               coalesce(CAST(is_liquid AS BOOLEAN), false) AS is_liquid
        FROM read_parquet([{listed}], union_by_name = true)
        WHERE CAST(snapshot_date AS DATE) BETWEEN DATE '{start.isoformat()}'
                                              AND DATE '{end.isoformat()}'
        """
    )


def _first_by(*keys: str) -> str:
    """An ``arg_min`` ordering key equal to ``ORDER BY key ASC NULLS LAST, ...``.

    Each key is preceded by whether it is NULL, so NULLs sort last without relying on how
    struct comparison treats NULL fields.
    """
    fields = []
    for i, key in enumerate(keys):
        fields += [f"n{i} := ({key}) IS NULL", f"v{i} := ({key})"]
    return f"struct_pack({', '.join(fields)})"


# One streaming pass over ``chain``: every per-(snapshot_date, symbol) aggregate the five daily
# assets need. The surface is the liquid, DTE-bounded contracts with an IV, that ATM and skew
# are read from; moneyness is rounded so float noise (110/100 - 1 = 0.10000000000000009)
# cannot move a band edge or a tie.
_WING = "struct_pack(contract_symbol := contract_symbol, iv := implied_volatility)"
_WING_ORDER = _first_by(
    f"round(abs(abs(signed_moneyness) - {SKEW_TARGET}), 10)", "spread_pct", "contract_symbol"
)
DAILY_INPUTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE daily_inputs AS
WITH marked AS (
    SELECT *,
           is_liquid AND dte BETWEEN {ATM_DTE_MIN} AND {ATM_DTE_MAX} AS quoted,
           is_liquid AND dte BETWEEN {ATM_DTE_MIN} AND {ATM_DTE_MAX}
               AND implied_volatility IS NOT NULL AS surface,
           round(strike / underlying_price - 1, 10) AS signed_moneyness
    FROM chain
)
SELECT snapshot_date, symbol,
       count(*) AS contracts,
       CAST(coalesce(sum(volume) FILTER (option_type = 'put'), 0) AS BIGINT) AS put_volume,
       CAST(coalesce(sum(volume) FILTER (option_type = 'call'), 0) AS BIGINT) AS call_volume,
       CAST(coalesce(sum(open_interest) FILTER (option_type = 'put'), 0) AS BIGINT) AS put_oi,
       CAST(coalesce(sum(open_interest) FILTER (option_type = 'call'), 0) AS BIGINT) AS call_oi,
       CAST(coalesce(sum(volume), 0) AS BIGINT) AS daily_option_volume,
       CAST(coalesce(sum(open_interest), 0) AS BIGINT) AS open_interest,
       round(avg(spread_pct) FILTER (is_liquid), 4) AS avg_spread_pct,
       CAST(count(*) FILTER (is_liquid) AS BIGINT) AS liquid_contracts,
       round(avg(underlying_price) FILTER (quoted), 4) AS underlying_price,
       round(avg(bid) FILTER (quoted), 4) AS avg_bid,
       round(avg(ask) FILTER (quoted), 4) AS avg_ask,
       round(avg(spread_pct) FILTER (quoted), 4) AS quote_avg_spread_pct,
       round(avg(last_price) FILTER (quoted), 4) AS avg_last_price,
       CAST(count(*) FILTER (quoted) AS BIGINT) AS quote_contracts,
       count(*) FILTER (surface) AS surface_contracts,
       arg_min(
           struct_pack(contract_symbol := contract_symbol, iv := implied_volatility,
                       moneyness_pct := moneyness_pct, spread_pct := spread_pct,
                       strike := strike, dte := dte),
           {_first_by("abs(moneyness_pct)", "spread_pct", "contract_symbol")}
       ) FILTER (surface) AS atm,
       arg_min({_WING}, {_WING_ORDER}) FILTER (
           surface AND option_type = 'put'
           AND signed_moneyness BETWEEN -{SKEW_BAND_MAX} AND -{SKEW_BAND_MIN}) AS put_wing,
       arg_min({_WING}, {_WING_ORDER}) FILTER (
           surface AND option_type = 'call'
           AND signed_moneyness BETWEEN {SKEW_BAND_MIN} AND {SKEW_BAND_MAX}) AS call_wing
FROM marked
GROUP BY snapshot_date, symbol
"""

PCR_DAILY_SQL = """
SELECT snapshot_date, symbol, put_volume, call_volume, put_oi, call_oi,
       CASE WHEN call_volume = 0 THEN 0.0 ELSE round(put_volume / call_volume, 3) END
           AS pcr_volume,
       CASE WHEN call_oi = 0 THEN 0.0 ELSE round(put_oi / call_oi, 3) END AS pcr_open_interest,
       CASE WHEN pcr_volume > 1.0 THEN 'Bearish Sentiment' ELSE 'Bullish/Neutral' END
           AS pcr_status
FROM daily_inputs
ORDER BY snapshot_date, symbol
"""

# ATM: the surface contract of least |moneyness|, then tightest spread, then contract symbol.
ATM_DAILY_SQL = """
SELECT snapshot_date, symbol, atm.contract_symbol AS atm_contract_symbol,
       atm.iv AS atm_iv, atm.moneyness_pct AS atm_moneyness_pct,
       atm.spread_pct AS atm_spread_pct, atm.strike AS atm_strike, atm.dte AS atm_dte
FROM daily_inputs
WHERE surface_contracts > 0
ORDER BY snapshot_date, symbol
"""

# Skew: per side, the surface contract in the 5-10% OTM band closest to 7.5% OTM, then the
# tightest spread; a side without one leaves its wing NULL.
SKEW_DAILY_SQL = """
SELECT snapshot_date, symbol,
       put_wing.contract_symbol AS put_wing_contract_symbol, put_wing.iv AS otm_put_iv,
       call_wing.contract_symbol AS call_wing_contract_symbol, call_wing.iv AS otm_call_iv,
       round(put_wing.iv - call_wing.iv, 4) AS iv_skew
FROM daily_inputs
WHERE surface_contracts > 0
ORDER BY snapshot_date, symbol
"""

LIQUIDITY_DAILY_SQL = """
SELECT snapshot_date, symbol, daily_option_volume, open_interest, avg_spread_pct,
       liquid_contracts
FROM daily_inputs
ORDER BY snapshot_date, symbol
"""

PRICING_DAILY_SQL = """
SELECT snapshot_date, symbol, underlying_price, avg_bid, avg_ask, quote_avg_spread_pct,
       avg_last_price, quote_contracts
FROM daily_inputs
WHERE quote_contracts > 0
ORDER BY snapshot_date, symbol
"""

DAILY_QUERIES: dict[str, str] = {
    "put_call_ratio_daily": PCR_DAILY_SQL,
    "atm_iv_daily": ATM_DAILY_SQL,
    "iv_skew_daily": SKEW_DAILY_SQL,
    "liquidity_daily": LIQUIDITY_DAILY_SQL,
    "pricing_daily": PRICING_DAILY_SQL,
}


def daily_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """Aggregate ``chain`` in one pass, then cut one Arrow table per daily asset from it."""
    con.execute(DAILY_INPUTS_SQL)
    return {name: con.sql(query).to_arrow_table() for name, query in DAILY_QUERIES.items()}


def scanned_contracts(con: duckdb.DuckDBPyConnection) -> int:
    """How many option rows the last :func:`daily_tables` aggregated."""
    return int(con.sql("SELECT coalesce(sum(contracts), 0) FROM daily_inputs").fetchall()[0][0])


# --------------------------------------------------------------------------------------------
# As-of stage: for each anchor, the latest observation at or before it.
# --------------------------------------------------------------------------------------------


def _with_version_column(table: pa.Table) -> pa.Table:
    """Daily rows read back from snapshots carry ``source_data_version``; fresh ones may not."""
    if "source_data_version" in table.column_names:
        return table
    return table.append_column("source_data_version", pa.nulls(table.num_rows, pa.string()))


def _register_anchors(con: duckdb.DuckDBPyConnection, anchors: Sequence[date]) -> None:
    con.register("anchors", pa.table({"anchor_date": pa.array(sorted(set(anchors)), pa.date32())}))


def latest_as_of(
    con: duckdb.DuckDBPyConnection,
    daily: pa.Table,
    anchors: Sequence[date],
    max_age_days: int = MAX_AGE_DAYS,
) -> pa.Table:
    """For each anchor and symbol, the daily row with the greatest ``snapshot_date <= anchor``.

    An ASOF join finds that row per (anchor, symbol) directly, so the work grows with anchors
    times symbols, not with every daily row each anchor could see.
    """
    if daily.num_rows == 0:
        return daily.add_column(0, "anchor_date", pa.array([], pa.date32()))
    _register_anchors(con, anchors)
    con.register("daily_rows", _with_version_column(daily))
    return con.sql(
        """
            WITH wanted AS (
                SELECT a.anchor_date, s.symbol
                FROM anchors a CROSS JOIN (SELECT DISTINCT symbol FROM daily_rows) s
            )
            SELECT w.anchor_date, d.*
            FROM wanted w
            ASOF JOIN daily_rows d
              ON d.symbol = w.symbol AND d.snapshot_date <= w.anchor_date
            WHERE d.snapshot_date > w.anchor_date - to_days(CAST($max_age AS INTEGER))
            ORDER BY w.anchor_date, d.symbol
            """,
        params={"max_age": max_age_days},
    ).to_arrow_table()


def iv_rank_as_of(
    con: duckdb.DuckDBPyConnection, atm_daily: pa.Table, anchors: Sequence[date], lookback_days: int
) -> pa.Table:
    """Latest ATM IV and its percentile rank over ``[anchor - lookback_days, anchor]``.

    Equal to ``ROUND(100 * PERCENT_RANK() OVER (ORDER BY atm_iv), 2)`` of the latest row per
    anchor and symbol, computed as a grouped count of the strictly lower IVs over ``n - 1``;
    NULL when the window holds fewer than two daily observations. ``atm_window`` keeps the
    ranked series, so the next anchor can rank from it plus the new days instead of
    re-reading the lookback.
    """
    if atm_daily.num_rows == 0:
        return _ranks_schema().empty_table()
    _register_anchors(con, anchors)
    con.register("atm_rows", _with_version_column(atm_daily))
    return con.sql(
        """
            WITH series AS (
                SELECT a.anchor_date, s.*
                FROM anchors a
                JOIN atm_rows s
                  ON s.snapshot_date BETWEEN a.anchor_date - to_days(CAST($lookback AS INTEGER))
                                         AND a.anchor_date
                WHERE s.atm_iv IS NOT NULL
            ),
            latest AS (
                SELECT anchor_date, symbol,
                       arg_max(struct_pack(
                           snapshot_date := snapshot_date, atm_iv := atm_iv,
                           atm_contract_symbol := atm_contract_symbol,
                           source_data_version := source_data_version
                       ), snapshot_date) AS row
                FROM series
                GROUP BY anchor_date, symbol
            ),
            ranked AS (
                SELECT s.anchor_date, s.symbol, any_value(l.row) AS row,
                       count(*) AS rank_days,
                       count(*) FILTER (s.atm_iv < l.row.atm_iv) AS lower_days,
                       list(struct_pack(
                           snapshot_date := s.snapshot_date, atm_iv := s.atm_iv,
                           atm_contract_symbol := s.atm_contract_symbol,
                           source_data_version := s.source_data_version
                       ) ORDER BY s.snapshot_date) AS atm_window
                FROM series s
                JOIN latest l ON l.anchor_date = s.anchor_date AND l.symbol = s.symbol
                GROUP BY s.anchor_date, s.symbol
            )
            SELECT anchor_date, symbol, row.snapshot_date AS atm_date,
                   row.atm_contract_symbol AS atm_contract_symbol,
                   round(row.atm_iv, 4) AS latest_atm_iv,
                   CASE WHEN rank_days < 2 THEN NULL
                        ELSE round(100 * (CAST(lower_days AS DOUBLE)
                                          / CAST(rank_days - 1 AS DOUBLE)), 2)
                   END AS latest_atm_iv_rank_pct,
                   rank_days, row.source_data_version AS source_data_version, atm_window
            FROM ranked
            ORDER BY anchor_date, symbol
            """,
        params={"lookback": lookback_days},
    ).to_arrow_table()


MACRO_COLUMNS = pa.schema(
    [
        ("observation_date", pa.date32()),
        ("retrieval_date", pa.date32()),
        ("symbol", pa.string()),
        ("value", pa.float64()),
        ("daily_change_pct", pa.float64()),
        ("mom_change_pct", pa.float64()),
    ]
)


# The retrieval date in a macro file's name (read with ``filename = true``).
MACRO_FILE_DATE = r"CAST(regexp_extract(filename, 'macro_snapshot_(\d{4}-\d{2}-\d{2})', 1) AS DATE)"


def macro_as_of(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Location | str],
    anchors: Sequence[date],
    carried: pa.Table | None = None,
) -> pa.Table:
    """For each anchor and macro symbol, the latest row observed and retrieved by the anchor.

    The latest row is the greatest ``observation_date``, ties broken by the latest retrieval
    (an intraday print replaced by the close), among retrievals of the last
    ``MACRO_SEARCH_DAYS``. A file without ``retrieval_date`` takes its folder's date.
    ``carried`` adds rows already selected earlier (a previous anchor's snapshot), so a new
    anchor only reads the files retrieved since.
    """
    base = None
    if (
        carried is not None
        and carried.num_rows > 0
        and set(MACRO_COLUMNS.names) <= set(carried.column_names)
    ):
        base = carried.select(MACRO_COLUMNS.names).cast(MACRO_COLUMNS)
    con.register("carried_rows", base if base is not None else MACRO_COLUMNS.empty_table())
    if not files and base is None:
        return pa.table({"anchor_date": pa.array([], pa.date32())})
    # Older files may lack retrieval_date; then the folder's date in the file name stands in.
    folder_date = MACRO_FILE_DATE
    has_column = any("retrieval_date" in storage.read_schema(path).names for path in files)
    retrieval = (
        f"coalesce(TRY_CAST(retrieval_date AS DATE), {folder_date})" if has_column else folder_date
    )
    read = (
        f"""
        SELECT CAST(observation_date AS DATE) AS observation_date,
               {retrieval} AS retrieval_date,
               CAST(symbol AS VARCHAR) AS symbol,
               nn(value) AS value,
               nn(daily_change_pct) AS daily_change_pct,
               nn(mom_change_pct) AS mom_change_pct
        FROM read_parquet($files, union_by_name = true, filename = true)
        UNION ALL
        """
        if files
        else ""
    )
    _register_anchors(con, anchors)
    return con.sql(
        f"""
        WITH rows AS ({read} SELECT * FROM carried_rows)
        SELECT a.anchor_date, r.*
        FROM anchors a
        JOIN rows r
          ON r.observation_date <= a.anchor_date
         AND r.retrieval_date BETWEEN a.anchor_date - to_days(CAST($search AS INTEGER))
                                  AND a.anchor_date
        QUALIFY row_number() OVER (
            PARTITION BY a.anchor_date, r.symbol
            ORDER BY r.observation_date DESC, r.retrieval_date DESC) = 1
        ORDER BY a.anchor_date, r.symbol
        """,
        params={
            "search": MACRO_SEARCH_DAYS,
            **({"files": storage.duckdb_paths(con, files)} if files else {}),
        },
    ).to_arrow_table()


GPR_OPTIONAL = ("gprt", "gpra")


def gpr_as_of(con: duckdb.DuckDBPyConnection, path: Location, anchors: Sequence[date]) -> pa.Table:
    """For each monthly anchor, the latest GPR row dated at or before it."""
    if not storage.location(path).exists():
        return pa.table({"anchor_date": pa.array([], pa.date32())})
    names = set(storage.read_schema(path).names)
    optional = ", ".join(
        f"nn({c}) AS {c}" if c in names else f"CAST(NULL AS DOUBLE) AS {c}" for c in GPR_OPTIONAL
    )
    # Country columns come from the file: quote them as identifiers and as string literals.
    countries = sorted(c for c in names if c.startswith("gprc_"))
    keys = ", ".join("'" + c[5:].replace("'", "''") + "'" for c in countries)
    levels = ", ".join('nn("' + c.replace('"', '""') + '")' for c in countries)
    country_map = (
        f"map([{keys}], [{levels}])" if countries else "CAST(NULL AS MAP(VARCHAR, DOUBLE))"
    )
    _register_anchors(con, anchors)
    return con.sql(
        f"""
            WITH rows AS (
                SELECT CAST(date AS DATE) AS gpr_month, nn(gpr) AS gpr,
                       nn(gpr_percentile) AS gpr_percentile, nn(gpr_mom_pct) AS gpr_mom_pct,
                       {optional}, {country_map} AS country_levels
                FROM read_parquet($path)
            )
            SELECT a.anchor_date, r.*
            FROM anchors a JOIN rows r ON r.gpr_month <= a.anchor_date
            QUALIFY row_number() OVER (PARTITION BY a.anchor_date ORDER BY r.gpr_month DESC) = 1
            ORDER BY a.anchor_date
            """,
        params={"path": storage.duckdb_paths(con, [path])[0]},
    ).to_arrow_table()


def join_rank_and_skew(
    con: duckdb.DuckDBPyConnection, ranks: pa.Table, wings: pa.Table, lookback_days: int
) -> pa.Table:
    """One options-analysis row per anchor and symbol: the IV rank row beside the skew row."""
    if ranks.num_rows == 0 and wings.num_rows == 0:
        return pa.table({"anchor_date": pa.array([], pa.date32())})
    # Ranks always have the ranks schema (iv_rank_as_of returns it even when empty); empty wings
    # may lack columns the join reads (latest_as_of returns an empty daily table as it is).
    con.register("rank_rows", ranks)
    con.register("wing_rows", wings if wings.num_rows else _wings_schema().empty_table())
    return con.sql(
        """
        SELECT coalesce(r.anchor_date, w.anchor_date) AS anchor_date,
               coalesce(r.symbol, w.symbol) AS symbol,
               r.atm_date, r.atm_contract_symbol, r.latest_atm_iv, r.latest_atm_iv_rank_pct,
               r.rank_days, CAST($lookback AS INTEGER) AS iv_rank_lookback_days, r.atm_window,
               w.snapshot_date AS skew_date, w.put_wing_contract_symbol, w.otm_put_iv,
               w.call_wing_contract_symbol, w.otm_call_iv, w.iv_skew AS latest_iv_skew,
               coalesce(w.source_data_version, r.source_data_version) AS source_data_version
        FROM rank_rows r
        FULL OUTER JOIN wing_rows w ON r.anchor_date = w.anchor_date AND r.symbol = w.symbol
        ORDER BY 1, 2
        """,
        params={"lookback": lookback_days},
    ).to_arrow_table()


ATM_WINDOW_ENTRY = pa.struct(
    [
        ("snapshot_date", pa.date32()),
        ("atm_iv", pa.float64()),
        ("atm_contract_symbol", pa.string()),
        ("source_data_version", pa.string()),
    ]
)


def atm_window_rows(snapshot: pa.Table) -> pa.Table:
    """The daily ATM rows kept in an options_analysis snapshot's ``atm_window`` column."""
    if "atm_window" not in snapshot.column_names or snapshot.num_rows == 0:
        return pa.table({"snapshot_date": pa.array([], pa.date32())})
    windows = snapshot["atm_window"].combine_chunks()
    entries = pa.Table.from_struct_array(pc.list_flatten(windows).cast(ATM_WINDOW_ENTRY))
    owners = pc.list_parent_indices(windows)
    # Each entry keeps its owner row's symbol, and its origin when the snapshot recorded one.
    for column in ("symbol", ORIGIN_COLUMN):
        if column in snapshot.column_names:
            entries = entries.append_column(column, pc.take(snapshot[column], owners))
    return entries


def _ranks_schema() -> pa.Schema:
    return pa.schema(
        [
            ("anchor_date", pa.date32()),
            ("symbol", pa.string()),
            ("atm_date", pa.date32()),
            ("atm_contract_symbol", pa.string()),
            ("latest_atm_iv", pa.float64()),
            ("latest_atm_iv_rank_pct", pa.float64()),
            ("rank_days", pa.int64()),
            ("source_data_version", pa.string()),
            ("atm_window", pa.list_(ATM_WINDOW_ENTRY)),
        ]
    )


def _wings_schema() -> pa.Schema:
    return pa.schema(
        [
            ("anchor_date", pa.date32()),
            ("symbol", pa.string()),
            ("snapshot_date", pa.date32()),
            ("put_wing_contract_symbol", pa.string()),
            ("otm_put_iv", pa.float64()),
            ("call_wing_contract_symbol", pa.string()),
            ("otm_call_iv", pa.float64()),
            ("iv_skew", pa.float64()),
            ("source_data_version", pa.string()),
        ]
    )
