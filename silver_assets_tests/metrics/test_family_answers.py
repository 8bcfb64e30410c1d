"""Each family builder names its family and ticker, and passes every value through as stored."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from silver_assets.metrics.families import BUILDERS

DAY = date(2026, 4, 24)
ROWS = {
    "put_call_ratio": {
        "snapshot_date": DAY,
        "pcr_volume": 1.27,
        "pcr_open_interest": 0.93,
        "pcr_status": "Bearish Sentiment",
    },
    "options_analysis": {
        "atm_date": DAY,
        "latest_atm_iv": 0.21,
        "latest_atm_iv_rank_pct": 40.0,
        "iv_rank_lookback_days": 180,
        "atm_contract_symbol": "SPY260515C00500000",
        "skew_date": DAY,
        "latest_iv_skew": 0.05,
        "otm_put_iv": 0.26,
        "otm_call_iv": 0.21,
    },
    "liquidity_analysis": {
        "snapshot_date": DAY,
        "daily_option_volume": 1000,
        "open_interest": 5000,
        "avg_spread_pct": 2.5,
        "liquid_contracts": 40,
        "market_impact_risk": "Low",
    },
    "pricing_spread": {
        "snapshot_date": DAY,
        "underlying_price": 500.1234,
        "avg_bid": 1.1,
        "avg_ask": 1.2,
        "quote_avg_spread_pct": 2.4,
        "avg_last_price": 1.15,
    },
    "macro_analysis": {
        "observation_date": DAY,
        "value": 5100.5,
        "daily_change_pct": 0.4,
        "mom_change_pct": None,
    },
    "geopolitical_analysis": {
        "gpr_month": datetime(2026, 4, 1, 0, 0),
        "gpr": 131.2,
        "gpr_percentile": 88.0,
        "gpr_mom_pct": -2.0,
    },
}


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_builder_names_its_family_and_ticker(family):
    answer = BUILDERS[family](ROWS[family], "SPY", frozenset())
    assert answer.family == family
    assert answer.ticker == ("" if family == "geopolitical_analysis" else "SPY")
    assert answer.values
    assert set(answer.observed_at) == set(answer.values)


def test_put_call_ratio_values_pass_through():
    answer = BUILDERS["put_call_ratio"](ROWS["put_call_ratio"], "SPY", frozenset())
    assert answer.values == {
        "pcr_volume": 1.27,
        "pcr_open_interest": 0.93,
        "pcr_status": "Bearish Sentiment",
    }


def test_a_month_given_as_a_datetime_is_cited_as_its_date():
    answer = BUILDERS["geopolitical_analysis"](ROWS["geopolitical_analysis"], "", frozenset())
    assert answer.preferred["gpr_index_level"] == "GPR_202604"
    assert answer.observed_at["gpr_index_level"] == "2026-04-01"


def test_an_observation_given_as_text_is_kept_as_text():
    row = {**ROWS["put_call_ratio"], "snapshot_date": "2026-04-24"}
    answer = BUILDERS["put_call_ratio"](row, "SPY", frozenset())
    assert answer.observed_at["pcr_volume"] == "2026-04-24"
    assert answer.preferred["pcr_volume"] == "PCR_AGG_SPY_2026-04-24"
