"""Family builders (values, lineage anchors, citations) and the market-impact risk policy."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from silver_assets.metrics.families import (
    BUILDERS,
    FAMILY_DATASET,
    FamilyAnswer,
    display_pct,
    gpr_trend,
)
from silver_assets.metrics.liquidity import load_policy, market_impact_risk
from silver_assets.settings import PROJECT_ROOT

NAN = float("nan")
DAY = date(2026, 4, 10)
ALL_GPR = frozenset({"GPR Index", "GPR Threats", "GPR Acts", "GPR Country-level"})

ROWS: dict[str, dict[str, Any]] = {
    "put_call_ratio": {
        "snapshot_date": DAY,
        "pcr_volume": 1.25,
        "pcr_open_interest": 0.667,
        "pcr_status": "Bearish Sentiment",
    },
    "options_analysis": {
        "atm_date": DAY,
        "atm_contract_symbol": "SPY260510C00100000",
        "latest_atm_iv": 0.1812,
        "latest_atm_iv_rank_pct": 66.67,
        "rank_days": 4,
        "iv_rank_lookback_days": 180,
        "skew_date": date(2026, 4, 9),
        "put_wing_contract_symbol": "SPY260510P00092500",
        "otm_put_iv": 0.27,
        "call_wing_contract_symbol": "SPY260510C00107500",
        "otm_call_iv": 0.17,
        "latest_iv_skew": 0.1,
    },
    "liquidity_analysis": {
        "snapshot_date": DAY,
        "daily_option_volume": 230,
        "open_interest": 1840,
        "avg_spread_pct": 2.5,
        "liquid_contracts": 3,
        "market_impact_risk": "High",
    },
    "pricing_spread": {
        "snapshot_date": DAY,
        "underlying_price": 100.0,
        "avg_bid": 2.0,
        "avg_ask": 2.2,
        "quote_avg_spread_pct": 3.0,
        "avg_last_price": 1.6,
    },
    "macro_analysis": {
        "observation_date": date(2026, 4, 6),
        "value": 6560.0,
        "daily_change_pct": 0.92,
        "mom_change_pct": None,
    },
    "geopolitical_analysis": {
        "gpr_month": datetime(2026, 4, 1),
        "gpr": 230.77,
        "gpr_percentile": 97.58,
        "gpr_mom_pct": -7.69,
        "gprt": 240.5,
        "gpra": 210.25,
        "country_levels": [("usa", 1.5), ("rus", NAN)],
    },
}


def build(family: str, ticker: str = "SPY", requested=ALL_GPR, **changes: Any) -> FamilyAnswer:
    return BUILDERS[family]({**ROWS[family], **changes}, ticker, requested)


def test_there_is_one_builder_per_family() -> None:
    assert set(BUILDERS) == set(FAMILY_DATASET) == set(ROWS)


@pytest.mark.parametrize("family", sorted(ROWS))
def test_every_value_has_a_preferred_anchor_and_an_iso_observation_date(family: str) -> None:
    answer = build(family)
    assert answer.values
    assert set(answer.preferred) == set(answer.values)
    assert set(answer.observed_at) == set(answer.values)
    for key in answer.values:
        assert answer.preferred[key] in answer.anchors
        date.fromisoformat(answer.observed_at[key])


def test_put_call_ratio_builder() -> None:
    answer = build("put_call_ratio", pcr_open_interest=NAN)
    assert answer.values == {
        "pcr_volume": 1.25,
        "pcr_open_interest": None,  # NaN is missing
        "pcr_status": "Bearish Sentiment",
    }
    assert answer.anchors == ["PCR_AGG_SPY_2026-04-10"]
    assert set(answer.observed_at.values()) == {"2026-04-10"}


def test_options_analysis_builder_anchors_and_dates() -> None:
    answer = build("options_analysis")
    assert answer.values == {
        "latest_atm_iv": 0.1812,
        "latest_atm_iv_rank_pct": 66.67,
        "iv_rank_lookback_days": 180,
        "data_freshness": "2026-04-10",
        "latest_iv_skew": 0.1,
        "latest_otm_put_iv": 0.27,
        "latest_otm_call_iv": 0.17,
    }
    assert answer.anchors == [
        "IVRANK_SPY_2026-04-10",
        "IVSKEW_SPY_2026-04-09",
        "SPY260510C00100000",
        "SPY260510P00092500",
        "SPY260510C00107500",
    ]
    assert answer.preferred["latest_iv_skew"] == "IVSKEW_SPY_2026-04-09"
    assert answer.observed_at["latest_iv_skew"] == "2026-04-09"
    assert answer.observed_at["latest_atm_iv"] == "2026-04-10"


def test_options_analysis_with_skew_only() -> None:
    answer = build("options_analysis", atm_date=None, put_wing_contract_symbol=None)
    assert set(answer.values) == {"latest_iv_skew", "latest_otm_put_iv", "latest_otm_call_iv"}
    assert answer.anchors == ["IVSKEW_SPY_2026-04-09", "SPY260510C00107500"]


def test_drop_removes_values_and_the_contract_anchors_tied_to_them() -> None:
    answer = build("options_analysis")
    answer.drop({"latest_otm_put_iv"})
    assert "latest_otm_put_iv" not in answer.values
    assert "latest_otm_put_iv" not in answer.preferred
    assert "latest_otm_put_iv" not in answer.observed_at
    assert "SPY260510P00092500" not in answer.anchors
    assert "SPY260510C00107500" in answer.anchors

    answer.drop({"latest_atm_iv"})
    assert "SPY260510C00100000" not in answer.anchors
    assert "IVRANK_SPY_2026-04-10" in answer.anchors  # other rank values still cite it

    answer.drop({"latest_iv_skew", "latest_otm_call_iv"})
    assert answer.anchors == ["IVRANK_SPY_2026-04-10"]


def test_drop_removes_legacy_aliases_too() -> None:
    answer = build("pricing_spread")
    answer.drop({"SPY_quote_avg_spread_pct", "not_a_key"})
    assert answer.legacy_aliases == {}
    assert "SPY_quote_avg_spread_pct" not in answer.values


def test_liquidity_builder() -> None:
    answer = build("liquidity_analysis")
    assert answer.values == {
        "SPY_daily_option_volume": 230,
        "SPY_open_interest": 1840,
        "SPY_avg_spread_pct": 2.5,  # percentage points, never rescaled
        "SPY_liquid_contracts": 3,
        "SPY_market_impact_risk": "High",
    }
    assert answer.anchors == ["LIQ_SPY_2026-04-10"]


def test_pricing_builder_lists_the_legacy_spread_alias() -> None:
    answer = build("pricing_spread")
    assert answer.values == {
        "SPY_underlying_price": 100.0,
        "SPY_avg_bid": 2.0,
        "SPY_avg_ask": 2.2,
        "SPY_quote_avg_spread_pct": 3.0,
        "SPY_avg_last_price": 1.6,
    }
    assert answer.legacy_aliases == {"SPY_quote_avg_spread_pct": ["SPY_avg_spread_pct"]}
    assert "SPY_avg_spread_pct" not in answer.values
    assert answer.anchors == ["PX_SPY_2026-04-10"]


@pytest.mark.parametrize(
    ("ticker", "changes", "values", "anchor"),
    [
        (
            "SPY",
            {},
            {"SPY_last_value": 6560.0, "SPY_daily_change": "0.92%"},
            "MACRO_SPY_AS_^GSPC_2026-04-06",
        ),
        (
            "QQQ",
            {"daily_change_pct": -1.5},
            {"QQQ_last_value": 6560.0, "QQQ_daily_change": "-1.50%"},
            "MACRO_QQQ_AS_^IXIC_2026-04-06",
        ),
        (
            "GLD",
            {"mom_change_pct": 2.35, "daily_change_pct": NAN},
            {"GLD_last_value": 6560.0, "GLD_mom_change": "2.35%"},
            "MACRO_GLD_2026-04-06",
        ),
        (
            "FEDFUNDS",
            {"mom_change_pct": 0.0, "daily_change_pct": 0.5},  # MoM set (even 0): MoM wins
            {"FEDFUNDS_last_value": 6560.0, "FEDFUNDS_mom_change": "0.00%"},
            "MACRO_FEDFUNDS_2026-04-06",
        ),
        (
            "SLV",
            {"mom_change_pct": NAN, "daily_change_pct": None, "value": NAN},
            {"SLV_last_value": None, "SLV_daily_change": "n/a"},
            "MACRO_SLV_2026-04-06",
        ),
    ],
)
def test_macro_builder(ticker, changes, values, anchor) -> None:
    answer = build("macro_analysis", ticker, **changes)
    assert answer.values == values
    assert answer.anchors == [anchor]
    assert set(answer.observed_at.values()) == {"2026-04-06"}


@pytest.mark.parametrize(
    ("requested", "mom", "changes"),
    [
        # A specific name yields its own change only, even when the other one is set.
        ({"Daily Change (%)"}, 2.5, {"SPY_daily_change": "0.92%"}),
        ({"Monthly Change (%)"}, 2.5, {"SPY_mom_change": "2.50%"}),
        ({"Monthly Change (%)"}, None, {}),  # no MoM: missing, never the daily change
        ({"Yearly Change (%)"}, 2.5, {}),
        # A general name gets docs/metrics.md's choice: MoM when set, else the daily change.
        ({"Price"}, 2.5, {"SPY_mom_change": "2.50%"}),
        ({"Price"}, None, {"SPY_daily_change": "0.92%"}),
        (
            {"Price", "Daily Change (%)"},
            2.5,
            {"SPY_mom_change": "2.50%", "SPY_daily_change": "0.92%"},
        ),
        # Names of other families, or no catalogue name at all, do not count as macro names.
        ({"GPR Index", "Daily Change (%)"}, 2.5, {"SPY_daily_change": "0.92%"}),
        ({"no such metric", "Daily Change (%)"}, 2.5, {"SPY_daily_change": "0.92%"}),
        ({"GPR Index"}, 2.5, {"SPY_mom_change": "2.50%"}),
    ],
)
def test_macro_builder_answers_the_change_asked_for(requested, mom, changes) -> None:
    answer = build("macro_analysis", "SPY", frozenset(requested), mom_change_pct=mom)
    assert answer.values == {"SPY_last_value": 6560.0, **changes}


def test_gpr_builder_with_every_component_requested() -> None:
    answer = build("geopolitical_analysis", "")
    assert answer.ticker == ""
    assert answer.values == {
        "gpr_index_level": 230.77,
        "gpr_percentile": "97.58%",
        "gpr_trend": "Falling",
        "gpr_threats_level": 240.5,
        "gpr_acts_level": 210.25,
        "gpr_country_usa_level": 1.5,  # the NaN country is left out
    }
    assert answer.anchors == ["GPR_202604"]
    assert set(answer.observed_at.values()) == {"2026-04-01"}


def test_gpr_builder_returns_components_only_when_asked() -> None:
    answer = build(
        "geopolitical_analysis", "", frozenset({"GPR Index"}), gpr_month=date(2026, 3, 1)
    )
    assert set(answer.values) == {"gpr_index_level", "gpr_percentile", "gpr_trend"}
    assert answer.anchors == ["GPR_202603"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.35, "2.35%"),
        (97.58, "97.58%"),
        (-1.2, "-1.20%"),
        (0, "0.00%"),
        (250.0, "250.00%"),  # percentage points: never multiplied by 100
        (None, "n/a"),
        (NAN, "n/a"),
    ],
)
def test_display_pct(value, text) -> None:
    assert display_pct(value) == text


@pytest.mark.parametrize(
    ("mom", "trend"),
    [
        (0.01, "Rising"),
        (25, "Rising"),
        (0, "Falling"),
        (0.0, "Falling"),
        (-7.69, "Falling"),
        (None, "Unknown"),
        (NAN, "Unknown"),
    ],
)
def test_gpr_trend(mom, trend) -> None:
    assert gpr_trend(mom) == trend


# --------------------------------------------------------------------------------------------
# Market-impact risk
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy():
    return load_policy(PROJECT_ROOT / "config")


def test_policy_tiers_and_thresholds_are_those_of_the_spec(policy) -> None:
    assert {"SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA"} <= policy.tiers["tier1"]
    assert {"GLD", "SLV"} <= policy.tiers["tier3"]
    assert policy.tier_of("SPY") == "tier1"
    assert policy.tier_of("AMZN") == "tier2"
    assert policy.tier_of("GLD") == "tier3"
    assert policy.tier_of("ZZZZ") is None
    limits = {
        tier: (t.low_spread, t.low_count, t.medium_spread, t.medium_count)
        for tier, t in policy.thresholds.items()
    }
    assert limits == {
        "tier1": (3.0, 100, 6.0, 50),
        "tier2": (6.0, 50, 10.0, 20),
        "tier3": (10.0, 20, 15.0, 10),
    }


@pytest.mark.parametrize(
    ("ticker", "spread", "count", "risk"),
    [
        ("SPY", 3.0, 100, "Low"),
        ("SPY", 3.01, 100, "Medium"),
        ("SPY", 3.0, 99, "Medium"),
        ("SPY", 6.0, 50, "Medium"),
        ("SPY", 6.01, 50, "High"),
        ("SPY", 1.0, 49, "High"),
        ("AMZN", 6.0, 50, "Low"),
        ("AMZN", 10.0, 20, "Medium"),
        ("AMZN", 10.0, 19, "High"),
        ("GLD", 10.0, 20, "Low"),
        ("GLD", 15.0, 10, "Medium"),
        ("GLD", 15.01, 10, "High"),
        ("GLD", 10.0, 9, "High"),
        ("ZZZZ", 0.1, 1000, "Unknown"),
        ("SPY", NAN, 1000, "Unknown"),
        ("SPY", None, 1000, "Unknown"),
        ("SPY", 1.0, None, "Unknown"),
    ],
)
def test_market_impact_risk(policy, ticker, spread, count, risk) -> None:
    assert market_impact_risk(ticker, spread, count, policy) == risk


def test_load_policy_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unusable"):
        load_policy(tmp_path)  # no file
    (tmp_path / "liquidity_policy.json").write_text(
        json.dumps(
            {
                "tiers": {"tier1": ["SPY"], "tier9": ["X"]},
                "thresholds": {
                    "tier1": {
                        "low_spread": 3.0,
                        "low_count": 100,
                        "medium_spread": 6.0,
                        "medium_count": 50,
                    }
                },
            }
        )
    )
    with pytest.raises(ValueError, match="tier9"):
        load_policy(tmp_path)
