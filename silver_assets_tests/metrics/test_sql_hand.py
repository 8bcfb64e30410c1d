"""Hand-computed fixtures for the metric SQL's rounding, NULL flags and every final tie-break.

Each chain is a few rows written here; the expected numbers are worked out in the comments. The
rows are written in the order that would win if an ordering were dropped or reversed, so each
test fails when a tie-break, a filter or a rounding of ``metrics/sql.py`` changes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from silver_assets.metrics import sql
from silver_assets_tests.metrics.test_sql import NAN, one, opt, write_options


def daily(tmp_path: Path, rows: list[dict[str, Any]]) -> dict[str, pa.Table]:
    """The daily tables of ``rows`` loaded as one chain file."""
    con = sql.connect(threads=1, memory_limit="512MB")
    try:
        sql.load_chains(
            con,
            [write_options(tmp_path / "chain.parquet", rows)],
            date(2000, 1, 1),
            date(2100, 1, 1),
        )
        return sql.daily_tables(con)
    finally:
        con.close()


def test_pricing_averages_underlying_and_quotes_to_4_decimals(tmp_path):
    rows = [
        # underlying 100.0, 100.31, 100.0 -> avg 300.31 / 3 = 100.103333.. -> 100.1033
        # (the max would be 100.31, two decimals 100.1)
        opt("A", underlying=100.0, bid=1.0, ask=1.11111, last=1.01, spread_pct=2.0),
        opt("B", underlying=100.31, bid=1.1, ask=1.22222, last=1.02, spread_pct=2.5),
        opt("C", underlying=100.0, bid=1.51, ask=1.33333, last=1.04, spread_pct=2.6),
        # Not quoted: illiquid, or liquid with a NULL flag, or DTE out of 7..45.
        opt("ILLIQ", underlying=900.0, bid=50.0, ask=60.0, last=55.0, liquid=False),
        opt("NULL_FLAG", underlying=900.0, bid=50.0, ask=60.0, last=55.0, liquid=None),
        opt("DTE60", underlying=900.0, bid=50.0, ask=60.0, last=55.0, dte=60),
    ]
    row = one(daily(tmp_path, rows)["pricing_daily"])
    assert row["underlying_price"] == 100.1033
    assert row["avg_bid"] == 1.2033  # 3.61 / 3 = 1.203333..
    assert row["avg_ask"] == 1.2222  # 3.66666 / 3 = 1.22222
    assert row["avg_last_price"] == 1.0233  # 3.07 / 3 = 1.023333..
    assert row["quote_avg_spread_pct"] == 2.3667  # 7.1 / 3 = 2.366666..
    assert row["quote_contracts"] == 3


def test_a_null_is_liquid_is_not_liquid_anywhere(tmp_path):
    rows = [
        # The NULL-flag contract is at the money with the tightest spread: it would win ATM and
        # the put wing, and count as liquid, if a NULL flag were read as liquid.
        opt("NULL_ATM", moneyness=0.0, spread_pct=0.1, iv=0.99, liquid=None),
        opt("NULL_PUT", option_type="put", strike=92.5, spread_pct=0.1, iv=0.98, liquid=None),
        opt("ATM", moneyness=0.4, spread_pct=2.0, iv=0.20),
        opt("PUT", option_type="put", strike=92.5, spread_pct=3.0, iv=0.30),
        opt("CALL", strike=107.5, spread_pct=3.0, iv=0.18),
    ]
    tables = daily(tmp_path, rows)
    assert one(tables["atm_iv_daily"])["atm_contract_symbol"] == "ATM"
    skew = one(tables["iv_skew_daily"])
    assert (skew["put_wing_contract_symbol"], skew["iv_skew"]) == ("PUT", 0.12)  # 0.30 - 0.18
    liquidity = one(tables["liquidity_daily"])
    assert liquidity["liquid_contracts"] == 3
    assert liquidity["avg_spread_pct"] == 2.6667  # (2.0 + 3.0 + 3.0) / 3, NULL flags left out
    assert liquidity["daily_option_volume"] == 500  # volume sums the whole chain: 5 x 100


def test_atm_ties_on_moneyness_and_spread_go_to_the_first_contract_symbol(tmp_path):
    rows = [
        # |moneyness| 0.5 and spread 2.0 on all three: the least contract symbol wins.
        opt("SPY_C", moneyness=0.5, spread_pct=2.0, iv=0.23),
        opt("SPY_A", option_type="put", moneyness=0.5, spread_pct=2.0, iv=0.21),
        opt("SPY_B", moneyness=0.5, spread_pct=2.0, iv=0.22),
        # Closer but wider beats tighter but farther: moneyness first, then spread.
        opt("SPY_FAR_TIGHT", moneyness=0.6, spread_pct=0.1, iv=0.30),
        opt("SPY_NEAR_WIDE", moneyness=0.5, spread_pct=2.1, iv=0.31),
    ]
    row = one(daily(tmp_path, rows)["atm_iv_daily"])
    assert (row["atm_contract_symbol"], row["atm_iv"]) == ("SPY_A", 0.21)


def test_atm_ranks_by_distance_to_the_money_either_side(tmp_path):
    # moneyness_pct is unsigned in the lake; a sign on it must not matter (abs).
    rows = [
        opt("NEG", moneyness=-0.2, spread_pct=5.0, iv=0.25),
        opt("POS", moneyness=0.3, spread_pct=1.0, iv=0.26),
    ]
    assert one(daily(tmp_path, rows)["atm_iv_daily"])["atm_contract_symbol"] == "NEG"


@pytest.mark.parametrize("option_type", ["put", "call"])
def test_skew_wing_ties_on_distance_and_spread_go_to_the_first_contract_symbol(
    tmp_path, option_type
):
    strike = 92.5 if option_type == "put" else 107.5  # exactly 7.5% out of the money
    other = "call" if option_type == "put" else "put"
    rows = [
        opt("ATM", iv=0.20),
        opt("W_C", option_type=option_type, strike=strike, spread_pct=2.0, iv=0.33),
        opt("W_A", option_type=option_type, strike=strike, spread_pct=2.0, iv=0.31),
        opt("W_B", option_type=option_type, strike=strike, spread_pct=2.0, iv=0.32),
        # 7.0% / 8.0% out: 0.5 from the target, tighter, still loses on distance.
        opt(
            "W_OFF",
            option_type=option_type,
            strike=93.0 if strike < 100 else 107.0,
            iv=0.5,
            spread_pct=0.1,
        ),
        opt("OTHER", option_type=other, strike=107.5 if strike < 100 else 92.5, iv=0.25),
    ]
    row = one(daily(tmp_path, rows)["iv_skew_daily"])
    assert row[f"{option_type}_wing_contract_symbol"] == "W_A"
    # put - call: 0.31 - 0.25 = 0.06 for the put case, 0.25 - 0.31 = -0.06 for the call case
    assert row["iv_skew"] == (0.06 if option_type == "put" else -0.06)


def test_skew_wing_closest_to_target_beats_a_tighter_spread(tmp_path):
    rows = [
        opt("ATM", iv=0.20),
        # 92.0 is 8.0% out (0.5 from 7.5), 93.0 is 7.0% out (0.5 too): tie on distance, so the
        # tighter spread wins; 92.5 (0.0 from target) beats both whatever its spread.
        opt("P92_TIGHT", option_type="put", strike=92.0, spread_pct=0.5, iv=0.40),
        opt("P93_WIDE", option_type="put", strike=93.0, spread_pct=4.0, iv=0.41),
        opt("C108_TIGHT", strike=108.0, spread_pct=0.5, iv=0.15),
        opt("C107_WIDE", strike=107.0, spread_pct=4.0, iv=0.16),
    ]
    row = one(daily(tmp_path, rows)["iv_skew_daily"])
    assert (row["put_wing_contract_symbol"], row["call_wing_contract_symbol"]) == (
        "P92_TIGHT",
        "C108_TIGHT",
    )
    assert row["iv_skew"] == 0.25  # 0.40 - 0.15
    rows.append(opt("P92.5", option_type="put", strike=92.5, spread_pct=9.0, iv=0.35))
    assert one(daily(tmp_path, rows)["iv_skew_daily"])["put_wing_contract_symbol"] == "P92.5"


def test_nan_underlying_and_quotes_are_left_out_of_averages(tmp_path):
    rows = [
        opt("A", underlying=100.0, bid=1.0),
        opt("B", underlying=NAN, bid=NAN),  # counted as a contract, not in either average
        opt("C", underlying=101.0, bid=2.0),
    ]
    row = one(daily(tmp_path, rows)["pricing_daily"])
    assert (row["underlying_price"], row["avg_bid"], row["quote_contracts"]) == (100.5, 1.5, 3)


def atm_day(day: str, iv: float, symbol: str = "SPY") -> dict[str, Any]:
    return opt(f"{symbol}_{day}", day=day, symbol=symbol, iv=iv, moneyness=0.1)


def test_the_ranked_atm_window_is_kept_and_read_back_per_symbol(tmp_path):
    # SPY ranks three days, QQQ one; the window keeps each day's IV, contract and version.
    rows = [atm_day("2026-04-01", 0.2), atm_day("2026-04-02", 0.1), atm_day("2026-04-03", 0.3)]
    rows.append(atm_day("2026-04-03", 0.4, symbol="QQQ"))
    con = sql.connect(threads=1, memory_limit="512MB")
    atm = daily(tmp_path, rows)["atm_iv_daily"]
    ranks = sql.iv_rank_as_of(con, atm, [date(2026, 4, 3)], 10)
    empty_wings = daily(tmp_path, [])["iv_skew_daily"]
    joined = sql.join_rank_and_skew(con, ranks, sql.latest_as_of(con, empty_wings, []), 10)
    assert joined.schema.field("skew_date").type == pa.date32()
    assert joined.schema.field("otm_put_iv").type == pa.float64()
    assert joined.select(
        ["symbol", "latest_atm_iv_rank_pct", "rank_days", "skew_date"]
    ).to_pylist() == [
        {"symbol": "QQQ", "latest_atm_iv_rank_pct": None, "rank_days": 1, "skew_date": None},
        {"symbol": "SPY", "latest_atm_iv_rank_pct": 100.0, "rank_days": 3, "skew_date": None},
    ]
    window = sql.atm_window_rows(joined)
    assert sorted(
        (r["symbol"], r["snapshot_date"].isoformat(), r["atm_iv"], r["atm_contract_symbol"])
        for r in window.to_pylist()
    ) == [
        ("QQQ", "2026-04-03", 0.4, "QQQ_2026-04-03"),
        ("SPY", "2026-04-01", 0.2, "SPY_2026-04-01"),
        ("SPY", "2026-04-02", 0.1, "SPY_2026-04-02"),
        ("SPY", "2026-04-03", 0.3, "SPY_2026-04-03"),
    ]
    assert window.schema.field("snapshot_date").type == pa.date32()
    assert window.column_names == [*sql.ATM_WINDOW_ENTRY.names, "symbol"]
    assert sql.atm_window_rows(joined.drop_columns(["atm_window"])).column_names == [
        "snapshot_date"
    ]
    assert sql.atm_window_rows(joined.slice(0, 0)).schema == pa.schema(
        [("snapshot_date", pa.date32())]
    )
    assert sql.atm_window_rows(joined.slice(1, 1))["symbol"].to_pylist() == ["SPY"] * 3
    con.close()


def test_skew_without_ranks_keeps_the_rank_columns_typed(tmp_path):
    rows = [opt("ATM", iv=0.2), opt("P", option_type="put", strike=92.5, iv=0.3)]
    con = sql.connect(threads=1, memory_limit="512MB")
    tables = daily(tmp_path, rows)
    wings = sql.latest_as_of(con, tables["iv_skew_daily"], [date(2026, 4, 10)])
    no_ranks = sql.iv_rank_as_of(con, tables["atm_iv_daily"].slice(0, 0), [date(2026, 4, 10)], 10)
    assert no_ranks.num_rows == 0
    assert no_ranks.schema.field("atm_window").type == pa.list_(sql.ATM_WINDOW_ENTRY)
    joined = sql.join_rank_and_skew(con, no_ranks, wings, 10)
    (row,) = joined.to_pylist()
    assert (row["symbol"], row["put_wing_contract_symbol"], row["latest_atm_iv"]) == (
        "SPY",
        "P",
        None,
    )
    assert row["iv_rank_lookback_days"] == 10
    assert row["atm_window"] is None
    types = {f.name: f.type for f in joined.schema}
    assert types["atm_date"] == pa.date32()
    assert types["rank_days"] == pa.int64()
    assert types["latest_atm_iv_rank_pct"] == pa.float64()
    assert types["atm_contract_symbol"] == pa.string()
    empty = sql.join_rank_and_skew(con, no_ranks, wings.slice(0, 0), 10)
    assert empty.schema == pa.schema([("anchor_date", pa.date32())])
    assert empty.num_rows == 0
    con.close()


def test_the_options_analysis_schema_is_the_same_whichever_side_is_empty(tmp_path):
    rows = [opt("ATM", iv=0.2), opt("P", option_type="put", strike=92.5, iv=0.3)]
    con = sql.connect(threads=1, memory_limit="512MB")
    tables = daily(tmp_path, rows)
    anchors = [date(2026, 4, 10)]
    ranks = sql.iv_rank_as_of(con, tables["atm_iv_daily"], anchors, 10)
    wings = sql.latest_as_of(con, tables["iv_skew_daily"], anchors)
    no_wings = sql.latest_as_of(con, tables["iv_skew_daily"].slice(0, 0), anchors)
    both = sql.join_rank_and_skew(con, ranks, wings, 10)
    assert both.num_rows == 1
    assert sql.join_rank_and_skew(con, ranks, no_wings, 10).schema == both.schema
    assert sql.join_rank_and_skew(con, ranks.slice(0, 0), wings, 10).schema == both.schema
    con.close()
