"""A hand-written one-ticker lake, materialized by the real options job and queried: the numbers
of ``metrics/sql.py`` must reach the answer (liquidity filter, NULL flags, tie-breaks, pricing).

The rows are the kind ``test_sql_hand.py`` checks at the SQL level; here a change in what a
metric means must also fail at the asset and resource level.
"""

from __future__ import annotations

import dagster as dg
import pytest

from silver_assets.anchors import write_state
from silver_assets.automation.runs import run_dataset
from silver_assets.definitions import build_defs
from silver_assets.partitions import anchor_keys
from silver_assets.query.answer import answer_query
from silver_assets_tests.conftest import make_settings
from silver_assets_tests.metrics.test_sql import lake_options, opt

DAY = "2026-04-10"


def quote(contract: str, strike: float, bid: float, **fields) -> dict:
    """A contract that passes the options contract check (ask above bid, moneyness from K/S)."""
    return opt(contract, strike=strike, bid=bid, ask=round(bid + 0.05, 2), **fields)


ROWS = [
    # ATM: the illiquid and the NULL-flag contract are nearest the money; then three contracts
    # at strike 100.5 tie on |moneyness| 0.5 and spread 2.5, and the least symbol (SPY_A) wins.
    quote("SPY_ILLIQ", 100.0, 50.0, iv=0.90, liquid=False),
    quote("SPY_NULL", 100.1, 50.0, iv=0.80, liquid=None),
    quote("SPY_C", 100.5, 1.0, iv=0.24),
    quote("SPY_A", 100.5, 1.1, iv=0.20, option_type="put"),
    quote("SPY_B", 100.5, 1.2, iv=0.22),
    # Wings 7.5% out: an illiquid, tighter put would win if liquidity were ignored.
    quote("P_ILLIQ", 92.5, 0.5, iv=0.99, spread_pct=0.1, option_type="put", liquid=False),
    quote("P_B", 92.5, 1.3, iv=0.33, option_type="put"),
    quote("P_A", 92.5, 1.4, iv=0.31, option_type="put"),
    quote("C_B", 107.5, 1.5, iv=0.19),
    quote("C_A", 107.5, 1.51, iv=0.17),
    # Far out of the money, quoted on a different underlying print: only pricing reads it.
    quote("FAR", 130.0, 0.213, iv=0.40, underlying=100.317),
]
# Quoted (liquid, DTE 7..45): all but SPY_ILLIQ, SPY_NULL and P_ILLIQ = 8 contracts.
#   underlying: (7 * 100.0 + 100.317) / 8 = 800.317 / 8 = 100.039625 -> 100.0396 (max: 100.317)
#   bid: (1.0 + 1.1 + 1.2 + 1.3 + 1.4 + 1.5 + 1.51 + 0.213) / 8 = 9.223 / 8 = 1.152875 -> 1.1529
# Liquidity: 8 liquid contracts; the whole chain's volume is 11 x 100.


@pytest.fixture(scope="module")
def answer(tmp_path_factory) -> dict:
    settings = make_settings(tmp_path_factory.mktemp("hand"))
    lake_options(settings.lake_root, [{**row, "snapshot_date": DAY} for row in ROWS])
    write_state(settings.state_path, {"options_daily": DAY})
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", anchor_keys("options", settings))
    assert run.success, run
    request = {
        "tickers": ["SPY"],
        "metrics": ["Implied Volatility", "Options Liquidity", "Options Pricing / Spread"],
    }
    return answer_query(settings, request, as_of=DAY)


def test_atm_and_wings_are_liquid_and_tie_broken_through_the_asset_path(answer):
    values = answer["values"]
    assert values["latest_atm_iv"] == 0.20
    assert (values["latest_otm_put_iv"], values["latest_otm_call_iv"]) == (0.31, 0.17)
    assert values["latest_iv_skew"] == 0.14  # 0.31 - 0.17
    contract = answer["citation_contract"]
    assert contract["latest_atm_iv"]["audit_lineage_anchors"] == [
        f"IVRANK_SPY_{DAY}",
        f"IVSKEW_SPY_{DAY}",
        "SPY_A",
        "P_A",
        "C_A",
    ]


def test_pricing_and_liquidity_through_the_asset_path(answer):
    values = answer["values"]
    assert values["SPY_underlying_price"] == 100.0396
    assert values["SPY_avg_bid"] == 1.1529
    assert values["SPY_liquid_contracts"] == 8
    assert values["SPY_daily_option_volume"] == 1100
    assert values["SPY_avg_spread_pct"] == 2.5  # liquid spreads only; P_ILLIQ's 0.1 left out
