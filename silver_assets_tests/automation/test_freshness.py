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


# The sensor cursor's bounded versions, on plain ``{date: version}`` maps.

MONTH = [(date(2026, 3, 1) + timedelta(days=i)).isoformat() for i in range(34)]  # 03-01 .. 04-03
OLD = {day: f"v{i}" for i, day in enumerate(MONTH)}  # 3 older dates, then the 31 recent ones


def test_the_digest_is_the_sha256_of_the_sorted_json():
    # sha256 of the text '{"2026-04-01": "v1", "2026-04-02": "v2"}', its first 12 hex digits,
    # whatever order the map was built in.
    assert freshness.digest({"2026-04-02": "v2", "2026-04-01": "v1"}) == "d42662e0c26d"


def test_a_range_version_covers_both_ends_only():
    versions = {"2026-04-01": "v1", "2026-04-02": "v2", "2026-04-03": "v3", "2026-04-04": "v4"}
    inside = {"2026-04-02": "v2", "2026-04-03": "v3"}
    assert freshness.range_version(versions, "2026-04-02", "2026-04-03") == freshness.digest(inside)


def test_a_refresh_version_reads_back_the_datasets_reach(tmp_path):
    settings = make_settings(tmp_path, iv_rank_lookback_days=3)
    assert [freshness.affected_days(d, settings) for d in ("options", "macro", "gpr")] == [3, 7, 0]
    # Macro anchors 03-20..03-22 read retrievals back to 03-13 (7 days before the first).
    version = freshness.refresh_version("macro", settings, OLD, "2026-03-20", "2026-03-22")
    assert version == freshness.range_version(OLD, "2026-03-13", "2026-03-22")


def test_the_cursor_keeps_the_recent_dates_exactly_and_digests_the_older():
    assert freshness.compact_versions(OLD) == {
        "recent": {day: OLD[day] for day in MONTH[3:]},
        "older": {
            "through": "2026-03-03",
            "count": 3,
            "digest": freshness.digest(
                {"2026-03-01": "v0", "2026-03-02": "v1", "2026-03-03": "v2"}
            ),
        },
    }
    few = dict(list(OLD.items())[-31:])
    assert freshness.compact_versions(few) == {"recent": few}


def recorded_as(versions, asked=None):
    """A stand-in for Dagster's recorded versions: ``versions`` for the keys asked about."""

    def recorded(keys):
        keys = list(keys)
        if asked is not None:
            asked.extend(keys)
        return {key: versions.get(key) for key in keys}

    return recorded


def test_an_unchanged_lake_has_no_changed_dates_and_asks_nothing():
    # Nothing recorded: were the older dates compared, every one would count as changed.
    previous = freshness.compact_versions(OLD)
    asked = []
    assert freshness.changed_dates(OLD, previous, MONTH, recorded_as({}, asked)) == set()
    assert asked == []


def test_older_and_recent_rewrites_are_both_found():
    previous = freshness.compact_versions(OLD)
    now = {**OLD, "2026-03-02": "rewritten", "2026-03-20": "rewritten"}
    asked = []
    changed = freshness.changed_dates(now, previous, MONTH, recorded_as(OLD, asked))
    assert changed == {"2026-03-02", "2026-03-20"}
    # The older digest moved: only the registered partitions up to its last date are looked up.
    assert asked == ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_a_rewrite_of_the_last_older_date_is_found():
    previous = freshness.compact_versions(OLD)
    now = {**OLD, "2026-03-03": "rewritten"}
    assert freshness.changed_dates(now, previous, MONTH, recorded_as(OLD)) == {"2026-03-03"}


def test_an_older_partition_without_a_recorded_version_counts_as_changed():
    previous = freshness.compact_versions(OLD)
    now = {**OLD, "2026-03-02": "rewritten"}
    recorded = recorded_as({k: v for k, v in OLD.items() if k != "2026-03-01"})
    changed = freshness.changed_dates(now, previous, MONTH, recorded)
    assert changed == {"2026-03-01", "2026-03-02"}


def test_an_older_rewrite_in_the_lake_makes_its_anchors_stale(tmp_path):
    settings = lake(tmp_path)
    now = freshness.current_versions("macro", settings)
    # A cursor whose older dates run through 04-05, with a digest the lake no longer matches.
    recent = {day: v for day, v in now.items() if day > "2026-04-05"}
    previous = {"recent": recent, "older": {"through": "2026-04-05", "count": 5, "digest": "x"}}
    recorded = recorded_as({**now, "2026-04-03": "before"})
    result = plan_refresh("macro", settings, DAYS, set(DAYS), previous, recorded)
    assert result.changed_dates == ("2026-04-03",)
    assert result.stale_keys == tuple(DAYS[2:10])


def test_a_state_ahead_of_the_lake_plans_nothing(tmp_path):
    settings = lake(tmp_path, anchor="2026-04-20")
    with pytest.raises(StateUnavailable) as raised:
        refresh("macro", settings, DAYS, set(DAYS), None)
    assert str(raised.value) == (
        "macro: the state says 2026-04-20, but the lake has no macro data for it "
        "(the lake's macro data ends at 2026-04-14)"
    )
