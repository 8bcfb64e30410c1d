"""The metric SQL of docs/metrics.md on tiny hand-computed Parquet fixtures.

Every fixture is a handful of option, macro or GPR rows written with pyarrow the way the real
Silver writers write them (ISO-string dates for options, NaN where a value is missing), so each
expected number below can be checked by eye.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets.lake.layout import LEGACY_OPTIONS_SCHEMA, MACRO_SCHEMA, OPTIONS_SCHEMA
from silver_assets.metrics import compute, sql
from silver_assets.metrics.families import BUILDERS
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets.sources import versions
from silver_assets.tickers import macro_symbol_for

NAN = float("nan")
DAY = "2026-04-10"
BULL, BEAR = "Bullish/Neutral", "Bearish Sentiment"


def d(text: str) -> date:
    return date.fromisoformat(text)


def opt(
    contract: str,
    *,
    day: str = DAY,
    symbol: str = "SPY",
    option_type: str = "call",
    strike: float = 100.0,
    dte: int = 30,
    underlying: float = 100.0,
    bid: float = 1.0,
    ask: float = 1.05,
    last: float = 1.02,
    volume: int | None = 100,
    oi: int | None = 200,
    iv: float = 0.20,
    moneyness: float | None = None,
    spread_pct: float = 2.5,
    liquid: bool = True,
) -> dict[str, Any]:
    """One option row; ``moneyness_pct`` defaults to the unsigned 100·|K/S - 1| of the writers."""
    ratio = abs(strike / underlying - 1)
    return {
        "snapshot_date": day,
        "symbol": symbol,
        "contract_symbol": contract,
        "option_type": option_type,
        "strike": strike,
        "expiration": (d(day) + timedelta(days=dte)).isoformat(),
        "dte": dte,
        "underlying_price": underlying,
        "bid": bid,
        "ask": ask,
        "last_price": last,
        "volume": volume,
        "open_interest": oi,
        "implied_volatility": iv,
        "in_the_money": False,
        "moneyness_pct": 100 * ratio if moneyness is None else moneyness,
        "moneyness_ratio": ratio,
        "spread_ratio": spread_pct / 100,
        "spread_pct": spread_pct,
        "is_liquid_basic": liquid,
        "is_liquid": liquid,
        "is_executable_liquid": liquid,
    }


def write_options(path: Path, rows: list[dict[str, Any]], schema: pa.Schema = OPTIONS_SCHEMA):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema)
    pq.write_table(table, path)
    return path


def lake_options(lake: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Write rows as the lake lays them out: options/<date>/<SYM>_options_<date>.parquet."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["snapshot_date"], row["symbol"]), []).append(row)
    return [
        write_options(lake / "options" / day / f"{sym}_options_{day}.parquet", group)
        for (day, sym), group in sorted(groups.items())
    ]


def write_macro(lake: Path, retrieval: str, rows: list[tuple]) -> Path:
    """rows: (observation_date, symbol, value, daily_change_pct, mom_change_pct)."""
    path = lake / "macro" / retrieval / f"macro_snapshot_{retrieval}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "retrieval_date": d(retrieval),
            "observation_date": d(obs),
            "symbol": symbol,
            "name": symbol,
            "asset_class": "x",
            "value": value,
            "unit": "Points",
            "frequency": "Daily" if mom is None else "Monthly",
            "daily_change_pct": daily,
            "mom_change_pct": mom,
            "yoy_change_pct": None,
        }
        for obs, symbol, value, daily, mom in rows
    ]
    pq.write_table(pa.Table.from_pylist(records, schema=MACRO_SCHEMA), path)
    return path


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = sql.connect(threads=1, memory_limit="512MB")
    yield connection
    connection.close()


@pytest.fixture
def chain(con, tmp_path):
    """Load rows into ``chain`` and return the daily tables."""
    counter = iter(range(1000))

    def load(rows, start=date(2000, 1, 1), end=date(2100, 1, 1)) -> dict[str, pa.Table]:
        path = write_options(tmp_path / f"chain{next(counter)}.parquet", rows)
        sql.load_chains(con, [path], start, end)
        return sql.daily_tables(con)

    return load


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        lake_root=tmp_path / "lake",
        state_path=tmp_path / "state.json",
        snapshot_root=tmp_path / "snapshots",
        audit_root=tmp_path / "logs",
        config_dir=PROJECT_ROOT / "config",
        **overrides,
    )


def one(table: pa.Table, **where: Any) -> dict[str, Any]:
    rows = [r for r in table.to_pylist() if all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, rows
    return rows[0]


# --------------------------------------------------------------------------------------------
# connect, prepare and the ordering helper
# --------------------------------------------------------------------------------------------


def session_settings(con: duckdb.DuckDBPyConnection) -> tuple:
    (row,) = con.sql(
        "SELECT current_database(), current_setting('threads'), current_setting('memory_limit')"
    ).fetchall()
    return row


def test_connect_opens_an_in_memory_session_with_the_given_threads_and_memory_limit():
    # DuckDB shows a limit in binary units: 512 MB = 488.2 MiB, 1 GB = 953.6 MiB.
    with sql.connect(threads=1, memory_limit="512MB") as con:
        assert session_settings(con) == ("memory", 1, "488.2 MiB")
    with sql.connect(threads=3, memory_limit="1GB") as con:
        assert session_settings(con) == ("memory", 3, "953.6 MiB")


def test_connect_defaults_are_the_documented_4_threads_and_2gb():
    with sql.connect() as con:
        assert session_settings(con) == ("memory", 4, "1.8 GiB")


def test_prepare_installs_nn_into_any_session():
    with duckdb.connect() as plain:
        assert sql.prepare(plain) is plain
        assert plain.sql("SELECT nn('NaN'::DOUBLE), nn(2), nn(NULL)").fetchall() == [
            (None, 2.0, None)
        ]


def test_first_by_orders_by_each_key_in_turn_with_nulls_last(con):
    rows = "VALUES ('null', NULL, 0), ('b9', 2, 9), ('b3', 2, 3), ('c0', 5, 0)"
    # k1 = 2 is the least (NULL sorts last), then k2 = 3 < 9.
    order = sql._first_by("k1", "k2")
    query = f"SELECT arg_min(name, {order}) FROM ({rows}) AS t(name, k1, k2)"
    assert con.sql(query).fetchall() == [("b3",)]


# --------------------------------------------------------------------------------------------
# load_chains
# --------------------------------------------------------------------------------------------


def test_load_chains_casts_iso_dates_filters_the_range_and_reads_nan_as_null(con, tmp_path):
    rows = [
        opt("A", day="2026-04-09"),
        opt("B", day="2026-04-10", iv=NAN, spread_pct=NAN),
        opt("C", day="2026-04-11"),
    ]
    path = write_options(tmp_path / "c.parquet", rows)
    sql.load_chains(con, [path], d("2026-04-09"), d("2026-04-10"))
    got = con.sql(
        "SELECT contract_symbol, snapshot_date, implied_volatility, spread_pct, "
        "typeof(snapshot_date) FROM chain ORDER BY 1"
    ).fetchall()
    assert got == [
        ("A", d("2026-04-09"), 0.20, 2.5, "DATE"),
        ("B", d("2026-04-10"), None, None, "DATE"),
    ]


def test_load_chains_reads_old_18_column_files_beside_new_ones_by_name(con, tmp_path):
    new = write_options(tmp_path / "new.parquet", [opt("N", volume=10)])
    old = write_options(tmp_path / "old.parquet", [opt("O", volume=5)], LEGACY_OPTIONS_SCHEMA)
    assert len(LEGACY_OPTIONS_SCHEMA) == 18
    sql.load_chains(con, [old, new], d(DAY), d(DAY))
    assert con.sql("SELECT count(*), sum(volume) FROM chain").fetchall() == [(2, 15.0)]


def test_load_chains_without_files_gives_an_empty_chain(con):
    sql.load_chains(con, [], d(DAY), d(DAY))
    assert all(t.num_rows == 0 for t in sql.daily_tables(con).values())
    assert sql.scanned_contracts(con) == 0


def test_an_empty_chain_has_the_columns_and_types_of_a_loaded_one(con, tmp_path):
    sql.load_chains(con, [write_options(tmp_path / "c.parquet", [opt("A")])], d(DAY), d(DAY))
    loaded_chain = con.sql("DESCRIBE chain").fetchall()
    loaded = {name: table.schema for name, table in sql.daily_tables(con).items()}
    sql.load_chains(con, [], d(DAY), d(DAY))
    assert con.sql("DESCRIBE chain").fetchall() == loaded_chain
    assert {name: table.schema for name, table in sql.daily_tables(con).items()} == loaded


def test_load_chains_reads_paths_with_quotes(con, tmp_path):
    path = write_options(tmp_path / "it's" / "c.parquet", [opt("A", volume=7)])
    sql.load_chains(con, [path], d(DAY), d(DAY))
    assert con.sql("SELECT contract_symbol, volume FROM chain").fetchall() == [("A", 7.0)]


# --------------------------------------------------------------------------------------------
# Put/call ratio
# --------------------------------------------------------------------------------------------


def test_pcr_sums_put_and_call_volume_and_oi_over_the_whole_chain(chain):
    daily = chain(
        [
            opt("C1", volume=100, oi=1000),
            opt("C2", volume=200, oi=500, liquid=False, dte=90),  # whole chain: still counted
            opt("P1", option_type="put", volume=150, oi=600),
            opt("P2", option_type="put", volume=50, oi=300),
            opt("P3", option_type="put", volume=None, oi=None),  # missing: ignored by SUM
            opt("Q1", symbol="QQQ", volume=7, oi=9),  # another symbol, its own row
        ]
    )["put_call_ratio_daily"]
    spy = one(daily, symbol="SPY")
    assert spy["snapshot_date"] == d(DAY)
    assert (spy["put_volume"], spy["call_volume"], spy["put_oi"], spy["call_oi"]) == (
        200,
        300,
        900,
        1500,
    )
    assert spy["pcr_volume"] == 0.667  # 200/300 to 3 dp
    assert spy["pcr_open_interest"] == 0.6  # 900/1500
    assert spy["pcr_status"] == BULL
    qqq = one(daily, symbol="QQQ")
    assert (qqq["put_volume"], qqq["call_volume"], qqq["pcr_volume"]) == (0, 7, 0.0)


def test_pcr_is_zero_when_the_call_side_is_zero(chain):
    daily = chain(
        [
            opt("C1", volume=0, oi=0),
            opt("P1", option_type="put", volume=40, oi=70),
            # No calls at all for QQQ.
            opt("Q1", symbol="QQQ", option_type="put", volume=10, oi=20),
        ]
    )["put_call_ratio_daily"]
    for symbol in ("SPY", "QQQ"):
        row = one(daily, symbol=symbol)
        assert row["call_volume"] == 0
        assert row["call_oi"] == 0
        assert row["pcr_volume"] == 0.0
        assert row["pcr_open_interest"] == 0.0
        assert row["pcr_status"] == BULL


@pytest.mark.parametrize(
    ("puts", "calls", "pcr", "status"),
    [
        (100, 100, 1.0, BULL),  # exactly 1.0 is not > 1.0
        (1001, 1000, 1.001, BEAR),
        (10004, 10000, 1.0, BULL),  # 1.0004 rounds to 1.0: the status agrees with the value
        (99, 100, 0.99, BULL),
        (300, 100, 3.0, BEAR),
    ],
)
def test_pcr_status_is_bearish_only_above_one(chain, puts, calls, pcr, status):
    daily = chain([opt("C", volume=calls), opt("P", option_type="put", volume=puts)])
    row = one(daily["put_call_ratio_daily"])
    assert (row["pcr_volume"], row["pcr_status"]) == (pcr, status)


# --------------------------------------------------------------------------------------------
# Latest as of an anchor
# --------------------------------------------------------------------------------------------


def test_latest_as_of_takes_the_latest_snapshot_at_or_before_each_anchor(con, chain):
    daily = chain(
        [
            opt("A", day="2026-04-08", volume=8),
            opt("B", day="2026-04-09", volume=9),
            opt("C", day="2026-04-13", volume=13),
            opt("G", day="2026-04-08", symbol="GLD", volume=1),
        ]
    )["liquidity_daily"]
    anchors = [d("2026-04-07"), d("2026-04-09"), d("2026-04-12"), d("2026-04-13")]
    got = sql.latest_as_of(con, daily, anchors).to_pylist()
    picked = {
        (r["anchor_date"], r["symbol"]): (r["snapshot_date"], r["daily_option_volume"]) for r in got
    }
    assert picked == {
        # 2026-04-07: nothing at or before it.
        (d("2026-04-09"), "GLD"): (d("2026-04-08"), 1),
        (d("2026-04-09"), "SPY"): (d("2026-04-09"), 9),
        # 2026-04-13 exists but is after the 2026-04-12 anchor: never read.
        (d("2026-04-12"), "GLD"): (d("2026-04-08"), 1),
        (d("2026-04-12"), "SPY"): (d("2026-04-09"), 9),
        (d("2026-04-13"), "GLD"): (d("2026-04-08"), 1),
        (d("2026-04-13"), "SPY"): (d("2026-04-13"), 13),
    }


@pytest.mark.parametrize(
    ("row_day", "max_age", "kept"),
    [
        ("2026-04-10", 5, False),  # exactly max_age_days old: excluded
        ("2026-04-11", 5, True),  # one day newer: included
        ("2026-04-15", 5, True),  # on the anchor itself
        ("2025-04-15", sql.MAX_AGE_DAYS, False),  # default window: 365 days old excluded
        ("2025-04-16", sql.MAX_AGE_DAYS, True),  # 364 days old included
    ],
)
def test_latest_as_of_window_edge(con, chain, row_day, max_age, kept):
    daily = chain([opt("A", day=row_day)])["put_call_ratio_daily"]
    anchor = d("2026-04-15")
    if max_age == sql.MAX_AGE_DAYS:
        got = sql.latest_as_of(con, daily, [anchor])
    else:
        got = sql.latest_as_of(con, daily, [anchor], max_age_days=max_age)
    assert [r["snapshot_date"] for r in got.to_pylist()] == ([d(row_day)] if kept else [])


def test_latest_as_of_on_no_rows_is_empty_with_an_anchor_column(con, chain):
    daily = chain([])["pricing_daily"]
    got = sql.latest_as_of(con, daily, [d(DAY)])
    assert got.num_rows == 0
    assert got.column_names[0] == "anchor_date"
    assert got.schema.field("anchor_date").type == pa.date32()


def test_latest_as_of_without_anchors_is_empty_with_a_date_anchor_column(con, chain):
    got = sql.latest_as_of(con, chain([opt("A")])["liquidity_daily"], [])
    assert got.num_rows == 0
    assert got.schema.field("anchor_date").type == pa.date32()


def test_latest_as_of_keeps_the_version_of_snapshot_rows_and_adds_a_null_one_to_fresh_rows(
    con, chain
):
    daily = chain([opt("A")])["liquidity_daily"]
    fresh = sql.latest_as_of(con, daily, [d(DAY)])
    assert fresh.schema.field("source_data_version").type == pa.string()
    assert fresh["source_data_version"].to_pylist() == [None]
    versioned = daily.append_column("source_data_version", pa.array(["v1"], pa.string()))
    got = sql.latest_as_of(con, versioned, [d(DAY)])
    assert got.column_names == ["anchor_date", *versioned.column_names]
    assert got["source_data_version"].to_pylist() == ["v1"]


# --------------------------------------------------------------------------------------------
# ATM contract
# --------------------------------------------------------------------------------------------


def test_atm_is_min_abs_moneyness_then_min_spread_among_liquid_contracts(chain):
    atm = chain(
        [
            opt("ILLIQUID", moneyness=0.0, iv=0.90, liquid=False),
            opt("NAN_IV", moneyness=0.05, iv=NAN),  # NaN IV counts as missing
            opt("WIDE", moneyness=0.4, spread_pct=3.0, iv=0.21),
            opt("TIGHT", option_type="put", moneyness=0.4, spread_pct=2.0, iv=0.22),
            opt("NAN_SPREAD", moneyness=0.4, spread_pct=NAN, iv=0.23),  # NULLS LAST
            opt("FAR", moneyness=3.0, spread_pct=0.5, iv=0.25),
        ]
    )["atm_iv_daily"]
    row = one(atm)
    assert row["atm_contract_symbol"] == "TIGHT"
    assert row["atm_iv"] == 0.22  # a fraction, as stored
    assert row["atm_spread_pct"] == 2.0  # percentage points, as stored
    assert row["atm_moneyness_pct"] == 0.4


def test_atm_nan_moneyness_sorts_last(chain):
    atm = chain([opt("NAN_M", moneyness=NAN, iv=0.3), opt("FAR", moneyness=9.0, iv=0.2)])
    assert one(atm["atm_iv_daily"])["atm_contract_symbol"] == "FAR"


@pytest.mark.parametrize(("dte", "eligible"), [(6, False), (7, True), (45, True), (46, False)])
def test_atm_dte_bounds_are_7_to_45_inclusive(chain, dte, eligible):
    atm = chain([opt("NEAR", moneyness=0.1, dte=dte, iv=0.11), opt("FAR", moneyness=2.0, iv=0.22)])[
        "atm_iv_daily"
    ]
    row = one(atm)
    assert row["atm_contract_symbol"] == ("NEAR" if eligible else "FAR")
    assert row["atm_dte"] == (dte if eligible else 30)


def test_a_day_with_only_nan_iv_has_no_atm_row(chain):
    daily = chain([opt("A", iv=NAN)])
    assert daily["atm_iv_daily"].num_rows == 0
    assert daily["iv_skew_daily"].num_rows == 0


# --------------------------------------------------------------------------------------------
# IV rank
# --------------------------------------------------------------------------------------------


def test_iv_rank_is_the_percent_rank_of_the_latest_atm_iv_in_the_lookback(con, chain):
    ivs = {"SPY": [0.20, 0.10, 0.30, 0.25], "QQQ": [0.40, 0.30, 0.35, 0.32]}
    days = ["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04"]
    rows = [
        opt(f"{sym}{i}", symbol=sym, day=day, iv=iv, moneyness=0.1)
        for sym, series in ivs.items()
        for i, (day, iv) in enumerate(zip(days, series, strict=True))
    ]
    rows.append(opt("SPY_NAN", day="2026-04-05", iv=NAN, moneyness=0.1))  # no ATM that day
    rows.append(opt("SPY_LATER", day="2026-04-20", iv=0.01, moneyness=0.1))  # after every anchor
    atm = chain(rows)["atm_iv_daily"]
    anchors = [d(x) for x in days] + [d("2026-04-05")]
    ranks = sql.iv_rank_as_of(con, atm, anchors, lookback_days=180)
    got = {
        (r["symbol"], r["anchor_date"].isoformat()): (
            r["atm_date"].isoformat(),
            r["latest_atm_iv"],
            r["latest_atm_iv_rank_pct"],
            r["rank_days"],
        )
        for r in ranks.to_pylist()
    }
    assert got == {
        ("SPY", "2026-04-01"): ("2026-04-01", 0.20, None, 1),  # a single day: NULL
        ("SPY", "2026-04-02"): ("2026-04-02", 0.10, 0.0, 2),
        ("SPY", "2026-04-03"): ("2026-04-03", 0.30, 100.0, 3),
        ("SPY", "2026-04-04"): ("2026-04-04", 0.25, 66.67, 4),  # 2 of 3 below
        ("SPY", "2026-04-05"): ("2026-04-04", 0.25, 66.67, 4),
        ("QQQ", "2026-04-01"): ("2026-04-01", 0.40, None, 1),
        ("QQQ", "2026-04-02"): ("2026-04-02", 0.30, 0.0, 2),
        ("QQQ", "2026-04-03"): ("2026-04-03", 0.35, 50.0, 3),
        ("QQQ", "2026-04-04"): ("2026-04-04", 0.32, 33.33, 4),  # 1 of 3 below
        ("QQQ", "2026-04-05"): ("2026-04-04", 0.32, 33.33, 4),
    }


@pytest.mark.parametrize(
    ("first_day", "rank_days", "rank"),
    [("2026-04-10", 2, 100.0), ("2026-04-09", 1, None)],  # anchor - 10 in, anchor - 11 out
)
def test_iv_rank_lookback_edge_is_inclusive(con, chain, first_day, rank_days, rank):
    rows = [
        opt("OLD", day=first_day, iv=0.10, moneyness=0.1),
        opt("NEW", day="2026-04-20", iv=0.20, moneyness=0.1),
    ]
    ranks = sql.iv_rank_as_of(con, chain(rows)["atm_iv_daily"], [d("2026-04-20")], 10)
    row = one(ranks)
    assert (row["rank_days"], row["latest_atm_iv_rank_pct"]) == (rank_days, rank)
    assert row["atm_contract_symbol"] == "NEW"


def test_iv_rank_of_one_day_and_of_no_rows_share_one_schema(con, chain):
    atm = chain([opt("A", iv=0.2)])["atm_iv_daily"]
    one_day = sql.iv_rank_as_of(con, atm, [d(DAY)], 10)
    row = one(one_day)
    assert (row["latest_atm_iv"], row["latest_atm_iv_rank_pct"], row["rank_days"]) == (0.2, None, 1)
    no_rows = sql.iv_rank_as_of(con, atm.slice(0, 0), [d(DAY)], 10)
    assert no_rows.num_rows == 0
    assert no_rows.schema == one_day.schema
    before_any_day = sql.iv_rank_as_of(con, atm, [d("2026-01-01")], 10)
    assert before_any_day.num_rows == 0
    assert before_any_day.schema == one_day.schema


def test_latest_atm_iv_is_rounded_to_4dp(con, chain):
    ranks = sql.iv_rank_as_of(con, chain([opt("A", iv=0.123456)])["atm_iv_daily"], [d(DAY)], 180)
    assert one(ranks)["latest_atm_iv"] == 0.1235


# --------------------------------------------------------------------------------------------
# IV skew
# --------------------------------------------------------------------------------------------


def test_skew_wings_are_closest_to_7_5_pct_then_tighter_spread(chain):
    skew = chain(
        [
            opt("ATM", strike=100.0, iv=0.20),
            opt("P91", option_type="put", strike=91.0, iv=0.40),  # -9%: 1.5 from target
            opt("P92.5_WIDE", option_type="put", strike=92.5, spread_pct=4.0, iv=0.29),
            opt("P92.5_TIGHT", option_type="put", strike=92.5, spread_pct=2.0, iv=0.27345),
            opt("P92.5_ILLIQ", option_type="put", strike=92.5, spread_pct=0.1, liquid=False),
            opt("P107.5", option_type="put", strike=107.5, iv=0.9),  # a put on the call side
            opt("C92.5", strike=92.5, iv=0.9),  # a call on the put side
            opt("C107", strike=107.0, spread_pct=NAN, iv=0.15),  # same distance, NaN spread
            opt("C107_OK", strike=107.0, spread_pct=5.0, iv=0.17012),
            opt("C109", strike=109.0, spread_pct=0.1, iv=0.16),
            opt("C107_DTE", strike=107.0, spread_pct=0.1, dte=50, iv=0.9),
        ]
    )["iv_skew_daily"]
    row = one(skew)
    assert row["put_wing_contract_symbol"] == "P92.5_TIGHT"
    assert row["call_wing_contract_symbol"] == "C107_OK"
    assert (row["otm_put_iv"], row["otm_call_iv"]) == (0.27345, 0.17012)
    assert row["iv_skew"] == 0.1033  # 0.10333 to 4 dp


@pytest.mark.parametrize(
    ("option_type", "strike", "included"),
    [
        ("put", 95.0, True),  # -5%: edge included
        ("put", 90.0, True),  # -10%: edge included
        ("put", 95.1, False),  # -4.9%
        ("put", 89.9, False),  # -10.1%
        ("call", 105.0, True),  # +5%: edge included
        ("call", 110.0, True),  # +10%: edge included (110/100 - 1 is 0.10000000000000009)
        ("call", 104.9, False),  # +4.9%
        ("call", 110.1, False),  # +10.1%
    ],
)
def test_skew_band_edges(chain, option_type, strike, included):
    skew = chain([opt("ATM", iv=0.2), opt("WING", option_type=option_type, strike=strike, iv=0.3)])[
        "iv_skew_daily"
    ]
    row = one(skew)
    column = "put_wing_contract_symbol" if option_type == "put" else "call_wing_contract_symbol"
    assert row[column] == ("WING" if included else None)
    assert row["iv_skew"] is None  # the other wing is missing in every case


def test_skew_equidistant_wings_tie_break_on_spread(chain):
    skew = chain(
        [
            opt("ATM", iv=0.2),
            opt("P94_WIDE", option_type="put", strike=94.0, spread_pct=5.0, iv=0.25),
            opt("P91_TIGHT", option_type="put", strike=91.0, spread_pct=1.0, iv=0.30),
        ]
    )["iv_skew_daily"]
    assert one(skew)["put_wing_contract_symbol"] == "P91_TIGHT"


def test_skew_with_a_missing_wing_is_null(chain):
    skew = chain([opt("ATM", iv=0.2), opt("P93", option_type="put", strike=93.0, iv=0.31)])[
        "iv_skew_daily"
    ]
    row = one(skew)
    assert (row["otm_put_iv"], row["otm_call_iv"], row["iv_skew"]) == (0.31, None, None)
    assert row["call_wing_contract_symbol"] is None


def test_skew_wing_with_nan_iv_is_missing(chain):
    skew = chain(
        [
            opt("ATM", iv=0.2),
            opt("P92.5", option_type="put", strike=92.5, iv=NAN),
            opt("C107.5", strike=107.5, iv=0.15),
        ]
    )["iv_skew_daily"]
    row = one(skew)
    assert (row["put_wing_contract_symbol"], row["iv_skew"]) == (None, None)
    assert row["otm_call_iv"] == 0.15


# --------------------------------------------------------------------------------------------
# Liquidity and pricing
# --------------------------------------------------------------------------------------------


def test_liquidity_sums_the_whole_chain_and_averages_liquid_spreads(chain):
    liq = chain(
        [
            opt("L1", volume=100, oi=1000, spread_pct=2.5),
            opt("L2", volume=50, oi=500, spread_pct=3.5, dte=90),  # any dte
            opt("L3", volume=70, oi=300, spread_pct=NAN),  # counted, not averaged
            opt("I1", volume=10, oi=40, spread_pct=20.0, liquid=False),  # sums only
            opt("I2", volume=None, oi=None, spread_pct=50.0, liquid=False),
        ]
    )["liquidity_daily"]
    row = one(liq)
    assert row["daily_option_volume"] == 230
    assert row["open_interest"] == 1840
    assert row["avg_spread_pct"] == 3.0  # (2.5 + 3.5) / 2, in percentage points
    assert row["liquid_contracts"] == 3


def test_pricing_averages_liquid_contracts_with_dte_7_to_45(chain):
    pricing = chain(
        [
            opt("A", dte=7, bid=1.0, ask=1.2, last=1.1, spread_pct=2.5, underlying=100.0),
            opt("B", dte=45, bid=2.0, ask=2.2, last=2.1, spread_pct=3.5, underlying=100.0),
            opt("C", dte=20, bid=3.0, ask=3.2, last=NAN, spread_pct=3.0, underlying=100.0),
            opt("ILLIQ", bid=50.0, ask=60.0, last=55.0, spread_pct=90.0, liquid=False),
            opt("DTE6", dte=6, bid=50.0, ask=60.0, last=55.0, spread_pct=90.0),
            opt("DTE46", dte=46, bid=50.0, ask=60.0, last=55.0, spread_pct=90.0),
        ]
    )["pricing_daily"]
    row = one(pricing)
    assert row["underlying_price"] == 100.0
    assert row["avg_bid"] == 2.0
    assert row["avg_ask"] == 2.2
    assert row["quote_avg_spread_pct"] == 3.0
    assert row["avg_last_price"] == 1.6  # NaN last price ignored: (1.1 + 2.1) / 2
    assert row["quote_contracts"] == 3


def test_units_stay_as_stored(chain):
    daily = chain([opt("A", spread_pct=2.5, iv=0.18)])
    assert one(daily["liquidity_daily"])["avg_spread_pct"] == 2.5
    assert one(daily["pricing_daily"])["quote_avg_spread_pct"] == 2.5
    assert one(daily["atm_iv_daily"])["atm_spread_pct"] == 2.5
    assert one(daily["atm_iv_daily"])["atm_iv"] == 0.18


@pytest.mark.parametrize(
    ("symbol", "n", "spread", "risk"),
    [
        ("SPY", 3, 2.5, "High"),  # tier1 needs 50 contracts for Medium
        ("GLD", 10, 12.0, "Medium"),  # tier3: <= 15.0 and >= 10
        ("GLD", 20, 10.0, "Low"),  # tier3: <= 10.0 and >= 20
        ("GLD", 20, 10.5, "Medium"),
        ("GLD", 9, 10.0, "High"),
        ("ZZZZ", 200, 0.5, "Unknown"),  # in no tier
        ("SPY", 200, NAN, "Unknown"),  # every liquid spread missing
    ],
)
def test_option_family_liquidity_adds_market_impact_risk(
    con, chain, tmp_path, symbol, n, spread, risk
):
    rows = [opt(f"{symbol}{i}", symbol=symbol, spread_pct=spread) for i in range(n)]
    rows.append(opt("X", symbol=symbol, spread_pct=99.0, liquid=False))  # not in the average
    daily = chain(rows)
    table = compute.option_family(
        con, "liquidity_analysis", daily, [d(DAY)], settings_for(tmp_path)
    )
    row = one(table)
    assert row["liquid_contracts"] == n
    assert row["avg_spread_pct"] == (None if math.isnan(spread) else spread)
    assert row["market_impact_risk"] == risk


# --------------------------------------------------------------------------------------------
# Macro
# --------------------------------------------------------------------------------------------


@pytest.fixture
def macro_lake(tmp_path) -> Path:
    lake = tmp_path / "lake"
    write_macro(
        lake,
        "2026-04-06",
        [
            ("2026-04-03", "^GSPC", 6500.0, 0.5, None),
            ("2026-03-01", "FEDFUNDS", 4.33, None, 0.12),
        ],
    )
    write_macro(
        lake,
        "2026-04-07",
        [
            ("2026-04-06", "^GSPC", 6550.0, 0.77, None),  # intraday print
            ("2026-04-06", "GLD", 410.0, -1.25, None),
        ],
    )
    write_macro(
        lake,
        "2026-04-08",
        [
            ("2026-04-06", "^GSPC", 6560.0, 0.92, None),  # the close replaces the print
            ("2026-04-07", "^VIX", 20.0, NAN, NAN),
            ("2026-03-01", "CPIAUCSL", 320.5, 0.3, 0.25),  # both set: MoM wins
        ],
    )
    write_macro(lake, "2026-04-10", [("2026-04-09", "^GSPC", 9999.0, 9.99, None)])
    return lake


def macro_files(lake: Path) -> list[Path]:
    return sorted((lake / "macro").glob("*/macro_snapshot_*.parquet"))


def test_macro_as_of_takes_the_latest_row_per_symbol(con, macro_lake):
    anchor = d("2026-04-08")
    table = sql.macro_as_of(con, macro_files(macro_lake), [anchor])
    got = {
        r["symbol"]: (r["observation_date"], r["retrieval_date"], r["value"])
        for r in table.to_pylist()
    }
    assert got == {
        # Same observation date in two files: the later retrieval (the close) wins;
        # the 2026-04-10 retrieval is after the anchor and ignored.
        "^GSPC": (d("2026-04-06"), d("2026-04-08"), 6560.0),
        "GLD": (d("2026-04-06"), d("2026-04-07"), 410.0),
        "FEDFUNDS": (d("2026-03-01"), d("2026-04-06"), 4.33),
        "^VIX": (d("2026-04-07"), d("2026-04-08"), 20.0),
        "CPIAUCSL": (d("2026-03-01"), d("2026-04-08"), 320.5),
    }
    vix = one(table, symbol="^VIX")
    assert (vix["daily_change_pct"], vix["mom_change_pct"]) == (None, None)  # NaN is NULL


def test_macro_as_of_per_anchor(con, macro_lake):
    anchors = [d("2026-04-06"), d("2026-04-07"), d("2026-04-10")]
    table = sql.macro_as_of(con, macro_files(macro_lake), anchors)
    gspc = {r["anchor_date"]: r["value"] for r in table.to_pylist() if r["symbol"] == "^GSPC"}
    assert gspc == {anchors[0]: 6500.0, anchors[1]: 6550.0, anchors[2]: 9999.0}


def test_macro_as_of_without_new_files_answers_from_the_carried_rows(con, macro_lake):
    first = sql.macro_as_of(con, macro_files(macro_lake)[:-1], [d("2026-04-08")])
    carried = first.drop_columns(["anchor_date"])
    # No retrieval since 2026-04-08: the next anchor's rows are the carried ones.
    later = sql.macro_as_of(con, [], [d("2026-04-09")], carried)
    assert later["anchor_date"].to_pylist() == [d("2026-04-09")] * carried.num_rows
    assert later.drop_columns(["anchor_date"]).to_pylist() == carried.to_pylist()
    single = sql.macro_as_of(con, [], [d("2026-04-09")], carried.slice(0, 1))
    assert single.drop_columns(["anchor_date"]).to_pylist() == carried.slice(0, 1).to_pylist()


@pytest.mark.parametrize("carried", [None, sql.MACRO_COLUMNS.empty_table()])
def test_macro_as_of_with_nothing_to_read_is_empty_with_an_anchor_column(con, carried):
    got = sql.macro_as_of(con, [], [d(DAY)], carried)
    assert got.schema == pa.schema([("anchor_date", pa.date32())])
    assert got.num_rows == 0


def test_macro_as_of_accepts_iso_string_dates(con, tmp_path):
    path = tmp_path / "macro" / "2026-04-08" / "macro_snapshot_2026-04-08.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "retrieval_date": ["2026-04-08", "2026-04-09"],
                "observation_date": ["2026-04-07", "2026-04-08"],
                "symbol": ["^GSPC", "^GSPC"],
                "value": [1.0, 2.0],
                "daily_change_pct": [0.1, 0.2],
                "mom_change_pct": pa.array([None, None], pa.float64()),
            }
        ),
        path,
    )
    row = one(sql.macro_as_of(con, [path], [d("2026-04-08")]))
    assert (row["observation_date"], row["value"]) == (d("2026-04-07"), 1.0)


@pytest.mark.parametrize(
    ("ticker", "values", "anchor"),
    [
        (
            "SPY",
            {"SPY_last_value": 6560.0, "SPY_daily_change": "0.92%"},
            "MACRO_SPY_AS_^GSPC_2026-04-06",
        ),
        (
            "GLD",
            {"GLD_last_value": 410.0, "GLD_daily_change": "-1.25%"},
            "MACRO_GLD_2026-04-06",
        ),
        (
            "FEDFUNDS",
            {"FEDFUNDS_last_value": 4.33, "FEDFUNDS_mom_change": "0.12%"},
            "MACRO_FEDFUNDS_2026-03-01",
        ),
        (
            "CPIAUCSL",
            {"CPIAUCSL_last_value": 320.5, "CPIAUCSL_mom_change": "0.25%"},
            "MACRO_CPIAUCSL_2026-03-01",
        ),
        (
            "VIXY",
            {"VIXY_last_value": 20.0, "VIXY_daily_change": "n/a"},
            "MACRO_VIXY_AS_^VIX_2026-04-07",
        ),
    ],
)
def test_macro_family_rows_through_the_builder(con, tmp_path, macro_lake, ticker, values, anchor):
    settings = settings_for(tmp_path)
    assert settings.lake_root == macro_lake
    table = compute.macro_family(con, settings, [d("2026-04-08")])
    rows = {r["symbol"]: r for r in table.to_pylist()}
    row = rows[macro_symbol_for(ticker)[0]]
    answer = BUILDERS["macro_analysis"](row, ticker, frozenset())
    assert answer.values == values
    assert answer.anchors == [anchor]
    assert row["source_data_version"] == versions.version_of_day(
        macro_lake, "macro", row["retrieval_date"]
    )


def test_macro_iwm_has_no_rut_row(con, tmp_path, macro_lake):
    table = compute.macro_family(con, settings_for(tmp_path), [d("2026-04-10")])
    symbol, index = macro_symbol_for("IWM")
    assert (symbol, index) == ("^RUT", "^RUT")
    assert symbol not in table["symbol"].to_pylist()
    assert one(table, symbol="^GSPC")["value"] == 9999.0


# --------------------------------------------------------------------------------------------
# GPR
# --------------------------------------------------------------------------------------------


@pytest.fixture
def gpr_lake(tmp_path) -> Path:
    lake = tmp_path / "lake"
    path = lake / "gpr" / "gpr_monthly_enriched.parquet"
    path.parent.mkdir(parents=True)
    months = [datetime(2026, m, 1) for m in (1, 2, 3, 4, 5)]
    pq.write_table(
        pa.table(
            {
                "date": pa.array(months, pa.timestamp("us")),
                "gpr": [200.0, 250.0, 250.0, 230.77, 999.0],
                "gprt": [1.0, 2.0, 3.0, 240.5, 9.0],
                "gpra": [1.0, 2.0, 3.0, 210.25, 9.0],
                "gprc_usa": [1.0, 2.0, 3.0, 1.5, 9.0],
                "gpr_mom_pct": [NAN, 25.0, 0.0, -7.69, 334.0],
                "gpr_percentile": [50.0, 90.1, 90.1, 97.58, 100.0],
            }
        ),
        path,
    )
    return lake


@pytest.mark.parametrize(
    ("anchor", "month", "level", "trend"),
    [
        ("2026-01-01", "2026-01-01", 200.0, "Unknown"),  # NaN MoM
        ("2026-02-01", "2026-02-01", 250.0, "Rising"),
        ("2026-03-01", "2026-03-01", 250.0, "Falling"),  # MoM = 0
        ("2026-03-31", "2026-03-01", 250.0, "Falling"),
        ("2026-04-01", "2026-04-01", 230.77, "Falling"),  # May is after the anchor
    ],
)
def test_gpr_as_of_latest_month_at_or_before_the_anchor(
    con, tmp_path, gpr_lake, anchor, month, level, trend
):
    table = compute.gpr_family(con, settings_for(tmp_path), [d(anchor)])
    row = one(table)
    assert (row["gpr_month"], row["gpr"]) == (d(month), level)
    answer = BUILDERS["geopolitical_analysis"](row, "", frozenset())
    assert answer.values["gpr_trend"] == trend
    assert answer.anchors == [f"GPR_{month[:4]}{month[5:7]}"]
    assert row["source_data_version"] == versions.gpr_month_versions(gpr_lake)[month]


def test_gpr_april_2026_values(con, gpr_lake):
    table = sql.gpr_as_of(con, gpr_lake / "gpr" / "gpr_monthly_enriched.parquet", [d("2026-04-01")])
    row = one(table)
    assert (row["gprt"], row["gpra"], row["country_levels"]) == (240.5, 210.25, [("usa", 1.5)])
    requested = frozenset({"GPR Index", "GPR Threats", "GPR Acts", "GPR Country-level"})
    answer = BUILDERS["geopolitical_analysis"](row, "", requested)
    assert answer.values == {
        "gpr_index_level": 230.77,
        "gpr_percentile": "97.58%",
        "gpr_trend": "Falling",
        "gpr_threats_level": 240.5,
        "gpr_acts_level": 210.25,
        "gpr_country_usa_level": 1.5,
    }
    assert answer.anchors == ["GPR_202604"]
    assert set(answer.observed_at.values()) == {"2026-04-01"}


def test_gpr_before_the_first_month_has_no_row(con, tmp_path, gpr_lake):
    assert compute.gpr_family(con, settings_for(tmp_path), [d("2025-12-01")]).num_rows == 0


def test_gpr_without_the_file_is_empty_with_an_anchor_column(con, tmp_path):
    got = sql.gpr_as_of(con, tmp_path / "gpr_monthly_enriched.parquet", [d("2026-04-01")])
    assert got.schema == pa.schema([("anchor_date", pa.date32())])
    assert got.num_rows == 0


def write_gpr_month(path: Path, **levels: float) -> Path:
    """One April 2026 GPR row with the required columns and ``levels`` as extra columns."""
    columns = {
        "date": pa.array([datetime(2026, 4, 1)], pa.timestamp("us")),
        "gpr": [230.77],
        "gpr_mom_pct": [-7.69],
        "gpr_percentile": [97.58],
        **{name: [value] for name, value in levels.items()},
    }
    pq.write_table(pa.table(columns), path)
    return path


def test_gpr_levels_missing_from_the_file_are_null(con, tmp_path):
    row = one(sql.gpr_as_of(con, write_gpr_month(tmp_path / "g.parquet"), [d("2026-04-01")]))
    assert (row["gpr"], row["gprt"], row["gpra"], row["country_levels"]) == (
        230.77,
        None,
        None,
        None,
    )


def test_gpr_country_levels_keep_every_country_and_quotes_in_its_name(con, tmp_path):
    countries = {"gprc_usa": 1.5, "gprc_o'x": 2.5, 'gprc_a"b': 3.5}
    path = write_gpr_month(tmp_path / "g.parquet", **countries)
    row = one(sql.gpr_as_of(con, path, [d("2026-04-01")]))
    assert row["country_levels"] == [('a"b', 3.5), ("o'x", 2.5), ("usa", 1.5)]


# --------------------------------------------------------------------------------------------
# The direct path equals the family functions on the same daily tables
# --------------------------------------------------------------------------------------------


def test_direct_family_tables_equal_option_family_on_the_same_daily_tables(
    tmp_path, macro_lake, gpr_lake
):
    anchor = d("2026-04-10")
    settings = settings_for(tmp_path)
    rows = []
    for day, ivs in (("2026-04-08", 0.20), ("2026-04-09", 0.10), ("2026-04-10", 0.15)):
        for sym in ("SPY", "GLD"):
            if sym == "GLD" and day == "2026-04-10":
                continue  # GLD's latest snapshot is the day before
            rows += [
                opt(f"{sym}{day}C", symbol=sym, day=day, iv=ivs),
                opt(f"{sym}{day}P", symbol=sym, day=day, option_type="put", strike=101.0),
                opt(f"{sym}{day}W", symbol=sym, day=day, option_type="put", strike=92.5, iv=0.3),
                opt(f"{sym}{day}X", symbol=sym, day=day, strike=107.5, iv=0.12, dte=20),
            ]
    before = lake_options(settings.lake_root, rows)
    # A snapshot after the anchor must never be read.
    lake_options(settings.lake_root, [opt("LATE", day="2026-04-13", volume=10**6, iv=0.9)])

    families = [*compute.OPTION_FAMILIES, "macro_analysis", "geopolitical_analysis"]
    with sql.connect(threads=1) as direct_con:
        direct = compute.direct_family_tables(direct_con, settings, families, anchor)

    with sql.connect(threads=1) as con:
        sql.load_chains(con, before, anchor - timedelta(days=365), anchor)
        daily = sql.daily_tables(con)
        for family in compute.OPTION_FAMILIES:
            expected = compute.option_family(con, family, daily, [anchor], settings)
            assert direct[family].equals(expected), family
        assert direct["macro_analysis"].equals(compute.macro_family(con, settings, [anchor]))
        assert direct["geopolitical_analysis"].equals(
            compute.gpr_family(con, settings, [d("2026-04-01")])
        )

    pcr = {r["symbol"]: r for r in direct["put_call_ratio"].to_pylist()}
    assert (pcr["SPY"]["snapshot_date"], pcr["SPY"]["pcr_volume"]) == (anchor, 1.0)
    assert pcr["GLD"]["snapshot_date"] == d("2026-04-09")
    iv = one(direct["options_analysis"], symbol="SPY")
    assert (iv["latest_atm_iv"], iv["latest_atm_iv_rank_pct"], iv["rank_days"]) == (
        0.15,
        50.0,
        3,
    )
    assert (iv["otm_put_iv"], iv["otm_call_iv"], iv["latest_iv_skew"]) == (0.3, 0.12, 0.18)
    assert iv["iv_rank_lookback_days"] == 180
    assert one(direct["liquidity_analysis"], symbol="SPY")["market_impact_risk"] == "High"
    assert one(direct["geopolitical_analysis"])["gpr_month"] == d("2026-04-01")
    assert one(direct["macro_analysis"], symbol="^GSPC")["value"] == 9999.0


def test_macro_files_without_retrieval_date_take_their_folder_date(con, macro_lake):
    for path in macro_files(macro_lake):
        pq.write_table(pq.read_table(path).drop_columns(["retrieval_date"]), path)
    table = sql.macro_as_of(con, macro_files(macro_lake), [d("2026-04-08")])
    gspc = next(r for r in table.to_pylist() if r["symbol"] == "^GSPC")
    assert (gspc["retrieval_date"], gspc["value"]) == (d("2026-04-08"), 6560.0)


def test_macro_carried_rows_stand_in_for_earlier_files(con, macro_lake):
    files_ = macro_files(macro_lake)
    first = sql.macro_as_of(con, files_[:-1], [d("2026-04-08")])
    carried = first.drop_columns(["anchor_date"])
    later = sql.macro_as_of(con, files_[-1:], [d("2026-04-10")], carried)
    direct = sql.macro_as_of(con, files_, [d("2026-04-10")])
    assert later.to_pylist() == direct.to_pylist()
