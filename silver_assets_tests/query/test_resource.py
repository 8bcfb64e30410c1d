"""SilverQueryResource on a materialized demo lake: the original validation points, and more."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from silver_assets import InvalidRequest, SilverQueryResource
from silver_assets.audit import AuditLog
from silver_assets.lake import files
from silver_assets.metrics import sql
from silver_assets.snapshots import SnapshotStore

ALL_FAMILIES = [
    "Put/Call Ratio",
    "IV Skew",
    "Options Liquidity",
    "Options Pricing / Spread",
    "Price",
    "GPR Index",
]


@pytest.fixture
def resource(materialized, use_settings):
    use_settings(materialized.settings)
    return SilverQueryResource()


@pytest.fixture
def last_day(materialized):
    return files.options_dates(materialized.settings.lake_root)[-1]


def _events(materialized, name):
    return [e for e in AuditLog(materialized.settings.audit_root).read() if e["event"] == name]


def test_single_ticker_values_are_unprefixed_and_cited(resource):
    payload = resource.query({"tickers": ["SPY"], "metrics": ALL_FAMILIES})
    values = payload["values"]
    assert {"pcr_volume", "latest_atm_iv", "SPY_avg_spread_pct", "SPY_last_value"} <= set(values)
    assert values["gpr_index_level"] == 230.77
    assert values["gpr_percentile"] == "97.58%"
    assert values["gpr_trend"] == "Falling"
    # lineage anchors are present for every answered value
    for key in values:
        contract = payload["citation_contract"][key]
        assert contract["preferred_anchor"] in payload["lineage_anchors"]
        assert payload["citation_anchor_map"][key] == contract["preferred_anchor"]
        assert contract["run_id"]
        assert contract["source_data_version"]
        assert contract["observed_at"]
    assert payload["status"]["error"] is None
    json.dumps(payload)  # JSON-serialisable as is


def test_multi_ticker_values_do_not_collide(resource):
    payload = resource.query({"tickers": ["SPY", "QQQ"], "metrics": ["Put/Call Ratio", "Price"]})
    values, by_ticker = payload["values"], payload["values_by_ticker"]
    assert values["SPY_pcr_volume"] == by_ticker["SPY"]["pcr_volume"]
    assert values["QQQ_pcr_volume"] == by_ticker["QQQ"]["pcr_volume"]
    assert "pcr_volume" not in values
    assert values["SPY_last_value"] != values["QQQ_last_value"]
    assert any(a.startswith("MACRO_SPY_AS_^GSPC_") for a in payload["lineage_anchors"])
    assert any(a.startswith("MACRO_QQQ_AS_^IXIC_") for a in payload["lineage_anchors"])


def test_tickers_are_never_fuzzy(resource):
    payload = resource.query({"tickers": [" spy", "SPX", "QQQM"], "metrics": ["Put/Call Ratio"]})
    assert payload["request"]["tickers"] == ["SPY", "SPX", "QQQM"]
    assert set(payload["values_by_ticker"]) == {"SPY"}
    missing = {m["ticker"] for m in payload["status"]["missing"]}
    assert missing == {"SPX", "QQQM"}


def test_ticker_cap_logs_kept_and_dropped(materialized, use_settings):
    use_settings(materialized.settings)
    resource = SilverQueryResource(max_tickers=2)
    payload = resource.query({"tickers": ["SPY", "QQQ", "IWM", "GLD"], "metrics": ["Price"]})
    assert payload["request"]["tickers"] == ["SPY", "QQQ"]
    assert payload["status"]["dropped_tickers"] == ["IWM", "GLD"]
    cap = _events(materialized, "TICKER_CAP")[-1]
    assert (cap["kept"], cap["dropped"], cap["cap"]) == ("SPY,QQQ", "IWM,GLD", "2")


def test_unsupported_metrics_give_a_deterministic_status(resource):
    payload = resource.query({"tickers": ["SPY"], "metrics": ["Dividend Yield", "Put/Call Ratio"]})
    assert payload["status"]["unsupported_metrics"] == ["Dividend Yield"]
    assert "Dividend Yield" in payload["status"]["unsupported_metrics_message"]
    assert payload["status"]["error"] is None
    assert "pcr_volume" in payload["values"]
    nothing = resource.query({"tickers": ["SPY"], "metrics": ["Dividend Yield"]})
    again = resource.query({"tickers": ["SPY"], "metrics": ["Dividend Yield"]})
    assert nothing["status"]["error"] == "NO_SUPPORTED_METRICS"
    assert nothing["values"] == {}
    assert nothing["status"] == again["status"]


def test_percentage_points_are_not_multiplied_twice(resource, materialized, last_day):
    payload = resource.query({"tickers": ["SPY"], "metrics": ["Options Liquidity"]})
    con = sql.connect()
    direct = con.sql(
        "SELECT round(avg(spread_pct) FILTER (is_liquid), 4) FROM read_parquet($f)",
        params={
            "f": [
                str(p)
                for p in files.options_files(materialized.settings.lake_root, last_day)
                if "SPY" in p.name
            ]
        },
    ).fetchall()[0][0]
    assert payload["values"]["SPY_avg_spread_pct"] == pytest.approx(direct)
    assert 0.5 < payload["values"]["SPY_avg_spread_pct"] < 50  # pp, not a fraction, not x100
    iv = resource.query({"tickers": ["SPY"], "metrics": ["Implied Volatility"]})["values"]
    assert 0.05 < iv["latest_atm_iv"] < 1.0  # a fraction
    assert 0.0 <= iv["latest_atm_iv_rank_pct"] <= 100.0


def test_pcr_and_options_analysis_share_short_window(resource, materialized, last_day):
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio", "IV Skew"], "time_window": "today"}
    )
    contract = payload["citation_contract"]
    assert contract["pcr_volume"]["observed_at"] == contract["latest_iv_skew"]["observed_at"]
    assert contract["pcr_volume"]["observed_at"] == last_day.isoformat()
    ranges = {e["handler"]: e for e in _events(materialized, "SQL_RANGE")[-2:]}
    assert ranges["put_call_ratio"]["mode"] == ranges["options_analysis"]["mode"] == "latest_only"
    assert ranges["put_call_ratio"]["start"] == ranges["options_analysis"]["start"]
    assert ranges["put_call_ratio"]["end"] == last_day.isoformat()


def test_audit_shows_window_mode_and_effective_window(resource, materialized, last_day):
    resource.query({"tickers": ["SPY"], "metrics": ["Put/Call Ratio"], "time_window": "past_week"})
    entry = _events(materialized, "SQL_RANGE")[-1]
    assert entry["mode"] == "window"
    assert entry["window_days"] == "7"
    assert entry["start"] == (last_day - timedelta(days=6)).isoformat()
    assert entry["end"] == last_day.isoformat()
    names = [e["event"] for e in AuditLog(materialized.settings.audit_root).read()[-4:]]
    assert names[-1] == "FINISH_QUERY"
    assert "START_QUERY" in names


def test_as_of_answers_equal_the_materialized_partition(resource, materialized):
    days = files.options_dates(materialized.settings.lake_root)
    anchor = days[3]
    payload = resource.query(
        {"tickers": ["GLD"], "metrics": ["Put/Call Ratio"], "time_window": "today"}, as_of=anchor
    )
    stored = SnapshotStore(materialized.settings.snapshot_root).read(
        "put_call_ratio", anchor.isoformat()
    )
    row = next(r for r in stored.to_pylist() if r["symbol"] == "GLD")
    assert payload["values"]["pcr_volume"] == row["pcr_volume"]
    assert payload["citation_contract"]["pcr_volume"]["partition_key"] == anchor.isoformat()
    assert payload["status"]["freshness"]["put_call_ratio"]["stale"] is False


def test_stale_snapshot_is_reported_and_old_values_not_served(resource, materialized, last_day):
    later = last_day + timedelta(days=5)  # a weekday with no partition
    while later.weekday() > 4:
        later += timedelta(days=1)
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio"], "time_window": "past_week"},
        as_of=later,
    )
    fresh = payload["status"]["freshness"]["put_call_ratio"]
    assert fresh["stale"] is True
    assert fresh["used_partition"] == last_day.isoformat()
    assert fresh["wanted_anchor"] == later.isoformat()
    assert _events(materialized, "STALE_SNAPSHOT")[-1]["used"] == last_day.isoformat()
    today_only = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio"], "time_window": "today"}, as_of=later
    )
    assert today_only["values"] == {}
    assert today_only["status"]["missing"][0]["reason"].startswith("OUTSIDE_WINDOW")


def test_no_snapshot_before_the_anchor_is_reported_missing(resource):
    payload = resource.query({"tickers": ["SPY"], "metrics": ["Price"]}, as_of=date(2001, 1, 2))
    assert payload["values"] == {}
    assert payload["status"]["missing"][0]["reason"].startswith("NO_SNAPSHOT")


def test_iwm_alias_and_gpr_threats(resource):
    payload = resource.query({"tickers": ["IWM"], "metrics": ["Price", "GPR Threats"]})
    assert payload["citation_anchor_map"]["IWM_last_value"].startswith("MACRO_IWM_AS_^RUT_")
    assert payload["values"]["gpr_threats_level"] == 252.26


@pytest.mark.parametrize(
    "request_body",
    [
        {"tickers": "SPY", "metrics": ["Put/Call Ratio"]},
        {"tickers": None, "metrics": ["Put/Call Ratio"]},
        {"tickers": ["SPY", 3], "metrics": ["Put/Call Ratio"]},
        {"metrics": ["Put/Call Ratio"]},
        ["SPY"],
        None,
    ],
)
def test_malformed_requests_are_rejected_clearly(resource, request_body):
    with pytest.raises(InvalidRequest, match=r"MetadataExtraction|request"):
        resource.query(request_body)


def test_bad_time_predicates_are_rejected(resource):
    with pytest.raises(InvalidRequest, match="weather"):
        resource.query({"tickers": ["SPY"], "metrics": ["Price"]}, {"weather": {"window_days": 3}})
    with pytest.raises(InvalidRequest):
        resource.query(
            {"tickers": ["SPY"], "metrics": ["Price"]},
            {"options": {"start_date": "2026-04-10", "end_date": "2026-04-01"}},
        )


def test_predicate_end_date_sets_the_anchor(resource, materialized):
    days = files.options_dates(materialized.settings.lake_root)
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio"]},
        {"options": {"end_date": days[5].isoformat(), "window_days": 3}},
    )
    assert payload["citation_contract"]["pcr_volume"]["partition_key"] == days[5].isoformat()
    assert payload["status"]["windows"]["options"]["window_days"] == 3


def test_as_of_accepts_an_iso_string_and_rejects_garbage(resource, materialized):
    day = files.options_dates(materialized.settings.lake_root)[3]
    payload = resource.query({"tickers": ["SPY"], "metrics": ["Put/Call Ratio"]}, as_of=str(day))
    assert payload["citation_contract"]["pcr_volume"]["partition_key"] == day.isoformat()
    with pytest.raises(InvalidRequest, match="as_of"):
        resource.query({"tickers": ["SPY"], "metrics": ["Put/Call Ratio"]}, as_of="yesterday-ish")


def test_unknown_time_window_is_reported_not_silent(resource):
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio"], "time_window": "fortnight"}
    )
    assert payload["request"]["time_window"] == "past_six_months"
    assert "fortnight" in payload["status"]["time_window_note"]


def test_gpr_needs_no_ticker(resource):
    payload = resource.query({"tickers": [], "metrics": ["GPR Index"]})
    assert payload["status"]["error"] is None
    assert payload["values"]["gpr_index_level"] == 230.77
