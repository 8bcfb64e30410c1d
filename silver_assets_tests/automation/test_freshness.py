"""Refresh planning (which anchors a changed lake day makes stale) and the freshness sensor's
observations and retries, on a tiny lake of empty dated files and a stand-in instance.

A day's data version is a digest of its files' names, sizes and times, so empty files are
enough here; the instance is a stand-in that answers the two questions the sensor asks it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets.anchors import write_state
from silver_assets.automation import freshness
from silver_assets.automation.freshness import StateUnavailable, plan_refresh
from silver_assets.automation.sensors import DATA_VERSION_TAG, evaluate_freshness
from silver_assets.lake import files
from silver_assets.partitions import PARTITIONS_BY_DATASET
from silver_assets_tests.conftest import make_settings

FIRST = date(2026, 4, 1)
DAYS = [(FIRST + timedelta(days=i)).isoformat() for i in range(14)]  # 04-01 .. 04-14
ANCHOR = "2026-04-12"


def lake(tmp_path: Path, anchor: str = ANCHOR, **overrides):
    """Macro and options folders of every day in ``DAYS``, the state at ``anchor``."""
    settings = make_settings(tmp_path, **overrides)
    for day in DAYS:
        macro = settings.lake_root / "macro" / day / f"macro_snapshot_{day}.parquet"
        option = settings.lake_root / "options" / day / f"SPY_options_{day}.parquet"
        for path in (macro, option):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    write_state(settings.state_path, {"macro_trading_daily": anchor, "options_daily": anchor})
    return settings


def refresh(dataset, settings, registered, materialized, previous):
    """``plan_refresh`` against plain ``{date: version}`` previous versions, none recorded."""
    before = None if previous is None else freshness.compact_versions(previous)
    return plan_refresh(dataset, settings, registered, materialized, before, lambda keys: {})


def plan(settings, dataset, changed, registered=DAYS, materialized=None):
    """Plan with the previous evaluation seeing other versions of the ``changed`` days."""
    now = freshness.current_versions(dataset, settings)
    previous = {**now, **dict.fromkeys(changed, "before")}
    done = set(registered) if materialized is None else materialized
    return refresh(dataset, settings, registered, done, previous)


def test_a_changed_macro_day_makes_its_week_stale(tmp_path):
    settings = lake(tmp_path)
    result = plan(settings, "macro", ["2026-04-03"])
    assert result.changed_dates == ("2026-04-03",)
    # 04-03 and the 7 days after it: the anchors whose macro search reads that retrieval.
    assert result.stale_keys == tuple(DAYS[2:10])
    assert result.anchor_key == ANCHOR
    assert result.new_keys == ()
    assert result.dataset == "macro"


def test_stale_keys_stop_at_the_anchor(tmp_path):
    settings = lake(tmp_path)
    result = plan(settings, "macro", ["2026-04-08"])
    # 04-08 + 7 days reaches 04-15, but nothing after the anchor (04-12) is refreshed.
    assert result.stale_keys == ("2026-04-08", "2026-04-09", "2026-04-10", "2026-04-11", ANCHOR)


def test_only_registered_partitions_become_stale(tmp_path):
    settings = lake(tmp_path)
    registered = [d for d in DAYS if d not in ("2026-04-04", "2026-04-05")]
    result = plan(settings, "macro", ["2026-04-03"], registered=registered)
    assert result.stale_keys == (
        "2026-04-03",
        "2026-04-06",
        "2026-04-07",
        "2026-04-08",
        "2026-04-09",
        "2026-04-10",
    )


def test_options_reach_is_the_iv_rank_lookback(tmp_path):
    settings = lake(tmp_path, iv_rank_lookback_days=3)
    # Every day's ATM rows were scanned, so no lookback day is missing (stale on its own).
    scanned = settings.snapshot_root / "atm_iv_daily"
    scanned.mkdir(parents=True)
    for day in DAYS:
        (scanned / f"{day}.parquet").touch()
    result = plan(settings, "options", ["2026-04-02"])
    assert result.stale_keys == ("2026-04-02", "2026-04-03", "2026-04-04", "2026-04-05")


def test_first_evaluation_is_a_baseline_and_a_new_anchor_is_stale_until_materialized(tmp_path):
    settings = lake(tmp_path)
    registered = DAYS[:10]  # up to 04-10; the anchor 04-12 is new
    result = refresh("macro", settings, registered, set(registered), None)
    assert (result.changed_dates, result.new_keys, result.stale_keys) == ((), (ANCHOR,), (ANCHOR,))
    done = refresh("macro", settings, [*registered, ANCHOR], {*registered, ANCHOR}, None)
    assert done.stale_keys == ()


def test_no_usable_state_plans_nothing(tmp_path):
    settings = make_settings(tmp_path)
    with pytest.raises(StateUnavailable, match="macro"):
        refresh("macro", settings, [], set(), None)


class Instance:
    """What the freshness sensor asks an instance: registered keys and runs by refresh tag."""

    def __init__(self, registered: dict[str, list[str]], statuses: list[dg.DagsterRunStatus]):
        self.registered = registered
        self.statuses = statuses

    def get_dynamic_partitions(self, name: str) -> list[str]:
        return self.registered.get(name, [])

    def get_runs(self, filters=None, limit=None):
        return [SimpleNamespace(status=status) for status in self.statuses]

    def get_materialized_partitions(self, asset_key: dg.AssetKey) -> set[str]:
        return set()  # no source partition recorded yet


def macro_registered(days: list[str]) -> dict[str, list[str]]:
    return {PARTITIONS_BY_DATASET["macro"].name: days}


def test_the_sensor_observes_changed_days_only_when_registered(tmp_path):
    settings = lake(tmp_path)
    state = {"macro": {**freshness.current_versions("macro", settings)}}
    state["macro"].update({"2026-04-03": "before", "2026-04-13": "before"})
    instance = Instance(macro_registered(DAYS[:10]), [])
    result = evaluate_freshness(instance, settings, json.dumps(state))
    observed = [
        (event.partition, event.tags[DATA_VERSION_TAG])
        for event in result.asset_events
        if event.asset_key == dg.AssetKey("silver_macro") and isinstance(event, dg.AssetObservation)
    ]
    version = freshness.current_versions("macro", settings)["2026-04-03"]
    assert observed == [("2026-04-03", version)]  # 04-13 is neither registered nor the anchor


def test_a_removed_macro_day_counts_as_changed(tmp_path):
    settings = lake(tmp_path)
    now = freshness.current_versions("macro", settings)
    previous = {**now, "2026-03-31": "a file since deleted"}
    result = refresh("macro", settings, DAYS, set(DAYS), previous)
    assert result.changed_dates == ("2026-03-31",)
    assert result.stale_keys == tuple(DAYS[:7])  # 03-31 + 7 days reaches 04-07


def test_unscanned_option_days_in_the_lookback_come_along(tmp_path):
    settings = lake(tmp_path, iv_rank_lookback_days=3)
    registered = DAYS[:9]  # up to 04-09: 04-10, 04-11 and the anchor are new
    result = refresh("options", settings, registered, set(registered), None)
    assert result.new_keys == ("2026-04-10", "2026-04-11", ANCHOR)
    assert result.stale_keys == ("2026-04-09", "2026-04-10", "2026-04-11", ANCHOR)
    # Macro has no lookback history: only the new anchor.
    macro = refresh("macro", settings, registered, set(registered), None)
    assert (macro.new_keys, macro.stale_keys) == ((ANCHOR,), (ANCHOR,))


def test_a_revised_gpr_month_makes_only_that_month_stale(tmp_path):
    settings = make_settings(tmp_path)
    months = [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    path = files.gpr_file(settings.lake_root)
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"date": months, "gpr": [100.0, 110.0, 120.0]}), path)
    write_state(settings.state_path, {"gpr_monthly": "2026-04"})
    keys = [m.isoformat() for m in months]
    now = freshness.current_versions("gpr", settings)
    assert sorted(now) == keys
    result = refresh("gpr", settings, keys, set(keys), {**now, "2026-03-01": "before"})
    assert (result.anchor_key, result.stale_keys) == ("2026-04-01", ("2026-03-01",))
