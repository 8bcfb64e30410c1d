"""No phantom partitions: an anchor the lake holds no data for is refused, clearly, everywhere.

The 3-day SYNTHETIC lake ends on 2026-04-30 (options and macro) and 2026-04 (GPR).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from silver_assets.automation.freshness import StateUnavailable, plan_refresh
from silver_assets.automation.sensors import evaluate_freshness
from silver_assets.metrics import sql
from silver_assets.metrics.materialize import daily_scan, gpr_partitions, macro_partitions
from silver_assets.partitions import MissingLakeData, anchor_keys, require_lake_dates
from silver_assets.settings import Settings
from silver_assets_tests.conftest import build_lake

LAKE_ENDS = {"options": "2026-04-30", "macro": "2026-04-30", "gpr": "2026-04-01"}
IN_2099 = {
    "options_daily": "2099-01-05",
    "macro_trading_daily": "2099-01-05",
    "gpr_monthly": "2099-01",
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Settings:
    return build_lake(tmp_path_factory.mktemp("partitions"), days=3)


def _with_state(settings: Settings, tmp_path: Path, text: str) -> Settings:
    state = tmp_path / "state.json"
    state.write_text(text, encoding="utf-8")
    return settings.replace(state_path=state)


@pytest.mark.parametrize(
    ("dataset", "anchor"),
    [("options", "2099-01-05"), ("macro", "2099-01-05"), ("gpr", "2099-01-01")],
)
def test_state_ahead_of_the_lake_is_refused(lake, tmp_path, dataset, anchor):
    settings = _with_state(lake, tmp_path, json.dumps({"last_run_keys": IN_2099}))
    for history in (False, True):
        with pytest.raises(MissingLakeData) as raised:
            anchor_keys(dataset, settings, history=history)
        assert str(raised.value) == (
            f"{dataset}: the state says {anchor}, but the lake has no {dataset} data for it "
            f"(the lake's {dataset} data ends at {LAKE_ENDS[dataset]})"
        )


def test_garbage_state_gives_no_gpr_month_the_lake_lacks(lake, tmp_path):
    # The fallback is today's month, which the lake (ending 2026-04) does not hold.
    settings = _with_state(lake, tmp_path, "{ not json")
    with pytest.raises(MissingLakeData, match="the lake's gpr data ends at 2026-04-01"):
        anchor_keys("gpr", settings, history=True)


def test_anchor_in_the_lake_is_accepted(lake):
    assert anchor_keys("gpr", lake) == ["2026-04-01"]
    assert anchor_keys("options", lake, history=True) == ["2026-04-28", "2026-04-29", "2026-04-30"]
    assert anchor_keys("macro", lake, anchor=date(2026, 4, 29)) == ["2026-04-29"]


def test_a_date_inside_the_lake_without_files_is_refused(lake):
    with pytest.raises(MissingLakeData, match="options: anchor 2026-04-26"):
        anchor_keys("options", lake, anchor=date(2026, 4, 26))  # a Sunday
    with pytest.raises(MissingLakeData, match=r"anchors 2026-04-26, 2099-01-01, but"):
        require_lake_dates(
            "options", lake, [date(2026, 4, 28), date(2099, 1, 1), date(2026, 4, 26)]
        )


def test_materialize_functions_write_nothing_for_anchors_without_data(tmp_path):
    settings = build_lake(tmp_path, days=2)
    con = sql.connect()
    with pytest.raises(MissingLakeData, match="options: anchor 2099-01-05"):
        daily_scan(con, settings, [date(2099, 1, 5)], "phantom")
    with pytest.raises(MissingLakeData, match="macro: anchor 2099-01-05"):
        macro_partitions(con, settings, [date(2099, 1, 5)], "phantom")
    with pytest.raises(MissingLakeData, match="gpr: anchor 2026-05-01"):
        gpr_partitions(con, settings, [date(2026, 5, 1)], "phantom")
    assert not list(settings.snapshot_root.rglob("*.parquet"))


def test_freshness_sensor_requests_no_run_for_an_anchor_without_data(lake, tmp_path):
    settings = _with_state(lake, tmp_path, json.dumps({"last_run_keys": IN_2099}))
    with pytest.raises(StateUnavailable, match="the state says 2099-01-05"):
        plan_refresh("options", settings, [], set(), None, lambda keys: {})
    result = evaluate_freshness(dg.DagsterInstance.ephemeral(), settings, None)
    assert result.run_requests == []
    assert result.dynamic_partitions_requests == []
    for dataset, anchor in (("options", "2099-01-05"), ("gpr", "2099-01-01")):
        assert (
            f"skipped {dataset}: {dataset}: the state says {anchor}"
            in result.skip_reason.skip_message
        )
