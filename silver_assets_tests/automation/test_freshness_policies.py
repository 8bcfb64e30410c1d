"""Snapshot freshness through Dagster's own freshness daemon: PASS, then WARN, then FAIL as the
latest snapshot ages past the dataset's windows."""

from __future__ import annotations

import time
from datetime import timedelta

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.freshness import FreshnessDaemon

from silver_assets.automation.freshness_policies import SNAPSHOT_FRESHNESS
from silver_assets.automation.runs import run_dataset
from silver_assets.definitions import build_defs
from silver_assets.partitions import anchor_keys
from silver_assets.settings import PROJECT_ROOT
from silver_assets_tests.conftest import build_lake

MACRO = dg.AssetKey("macro_analysis")


def test_every_metric_asset_has_its_datasets_policy(tmp_path):
    graph = build_defs(build_lake(tmp_path, days=1)).resolve_asset_graph()
    assert graph.get(MACRO).freshness_policy == SNAPSHOT_FRESHNESS["macro"]
    assert graph.get(dg.AssetKey("atm_iv_daily")).freshness_policy == SNAPSHOT_FRESHNESS["options"]
    assert graph.get(dg.AssetKey("silver_options")).freshness_policy is None  # sources: no


def test_the_freshness_daemon_marks_an_old_snapshot_stale(tmp_path, use_settings):
    settings = use_settings(build_lake(tmp_path, days=1))
    with dg.instance_for_test() as instance:
        keys = anchor_keys("macro", settings)
        assert run_dataset(build_defs(settings), instance, "macro", keys).success
        target = ModuleTarget(
            module_name="silver_assets.definitions",
            attribute=None,
            working_directory=str(PROJECT_ROOT),
            location_name="silver_assets",
        )
        with create_test_daemon_workspace_context(target, instance) as context:

            def state_after(age: timedelta) -> FreshnessState:
                with freeze_time(time.time() + age.total_seconds()):
                    list(FreshnessDaemon().run_iteration(context))
                return instance.get_freshness_state_records([MACRO])[MACRO].freshness_state

            assert state_after(timedelta(hours=1)) == FreshnessState.PASS
            assert state_after(timedelta(hours=31)) == FreshnessState.WARN
            assert state_after(timedelta(days=5)) == FreshnessState.FAIL
