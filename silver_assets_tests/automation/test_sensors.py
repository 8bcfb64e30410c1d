"""The freshness sensor with Dagster's sensor test contexts: new anchor, rewritten day, no change,
malformed state file, a cursor that survives a restart and stays bounded, and the retry policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import dagster as dg
import pytest

from silver_assets.automation import freshness
from silver_assets.automation.runs import run_dataset
from silver_assets.automation.sensors import build_sensors, evaluate_freshness
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.partitions import PARTITIONS_BY_DATASET, contiguous_groups
from silver_assets.resources import SilverLakeResource
from silver_assets_tests.conftest import build_lake, make_settings

RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


@pytest.fixture
def lake(tmp_path):
    """A 5-day lake whose first 4 options/macro days and every GPR month are materialized."""
    settings = build_lake(tmp_path, days=5)
    instance = dg.DagsterInstance.ephemeral()
    defs = build_defs(settings)
    days = [d.isoformat() for d in files.options_dates(settings.lake_root)]
    for dataset in ("options", "macro"):
        assert run_dataset(defs, instance, dataset, days[:4]).success
    assert run_dataset(defs, instance, "gpr", ["2026-04-01"]).success
    return settings, instance, defs, days


def _evaluate(settings, instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"silver": SilverLakeResource.from_settings(settings)},
    )
    (sensor,) = [s for s in build_sensors(settings) if s.name == "silver_freshness_sensor"]
    return sensor(context)


def _requests(result, job):
    return [r for r in result.run_requests if r.job_name == job]


def test_new_anchor_is_registered_and_requested(lake):
    settings, instance, _, days = lake
    result = _evaluate(settings, instance)
    adds = {r.partitions_def_name: r.partition_keys for r in result.dynamic_partitions_requests}
    assert adds == {"options_anchor_dates": [days[4]], "macro_anchor_dates": [days[4]]}
    (options_run,) = _requests(result, "options_job")
    assert options_run.tags["dagster/partition"] == days[4]
    assert len(_requests(result, "macro_job")) == 1
    assert not _requests(result, "gpr_job")


def test_a_new_day_reads_as_filled_once_the_daemon_records_the_tick(lake):
    settings, instance, _, days = lake
    result = _evaluate(settings, instance)
    _register(instance, result)
    for event in result.asset_events:  # what the daemon does with the sensor's events
        instance.report_runless_asset_event(event)
    status = instance.get_status_by_partition(
        dg.AssetKey("silver_options"), days, PARTITIONS_BY_DATASET["options"]
    )
    assert set(status.values()) == {dg.AssetPartitionStatus.MATERIALIZED}
    again = _evaluate(settings, instance, result.cursor)
    assert not [e for e in again.asset_events if isinstance(e, dg.AssetMaterialization)]


def test_rewritten_day_requests_it_and_the_anchors_that_read_it(lake):
    settings, instance, defs, days = lake
    for dataset in ("options", "macro"):
        assert run_dataset(defs, instance, dataset, [days[4]]).success
    baseline = _evaluate(settings, instance)
    assert baseline.run_requests == []  # everything is fresh: nothing recomputed
    path = files.options_files(settings.lake_root, files.options_dates(settings.lake_root)[2])[0]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    result = _evaluate(settings, instance, baseline.cursor)
    (run,) = result.run_requests
    assert run.job_name == "options_job"
    assert (run.tags[RANGE[0]], run.tags[RANGE[1]]) == (days[2], days[4])
    observed = [(e.asset_key.to_user_string(), e.partition) for e in result.asset_events]
    assert observed == [("silver_options", days[2])]


def test_no_change_requests_nothing(lake):
    settings, instance, defs, days = lake
    for dataset in ("options", "macro"):
        assert run_dataset(defs, instance, dataset, [days[4]]).success
    first = _evaluate(settings, instance)
    second = _evaluate(settings, instance, first.cursor)
    assert second.run_requests == []
    assert second.asset_events == []
    assert second.cursor == first.cursor
    assert "no new anchor" in second.skip_reason.skip_message


def test_malformed_state_file_skips_without_crashing(lake):
    settings, instance, _, _ = lake
    settings.state_path.write_text("{ not json")
    result = _evaluate(settings, instance)
    assert result.run_requests == []
    assert result.dynamic_partitions_requests == []
    assert "state file" in result.skip_reason.skip_message
    cursor = json.loads(result.cursor)  # nothing recorded from a state it could not read
    assert cursor == {"pending": {}}


def test_cursor_survives_a_restart(lake):
    settings, instance, defs, days = lake
    for dataset in ("options", "macro"):
        assert run_dataset(defs, instance, dataset, [days[4]]).success
    cursor = _evaluate(settings, instance).cursor
    # A "restarted daemon": a fresh context built only from the persisted cursor string.
    restarted = evaluate_freshness(instance, settings, str(cursor))
    assert restarted.run_requests == []
    macro_file = files.macro_files(settings.lake_root, files.macro_dates(settings.lake_root)[4])[0]
    macro_file.write_bytes(macro_file.read_bytes())  # rewritten in place, same bytes
    os.utime(macro_file, ns=(macro_file.stat().st_atime_ns, macro_file.stat().st_mtime_ns + 10**9))
    after = evaluate_freshness(instance, settings, restarted.cursor)
    assert [(r.job_name, r.tags.get("dagster/partition")) for r in after.run_requests] == [
        ("macro_job", days[4])
    ]


def test_contiguous_groups_follow_dagster_key_order():
    order = ["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-06", "2026-04-07"]
    keys = ["2026-04-07", "2026-04-01", "2026-04-02", "2026-04-06"]
    assert contiguous_groups(order, keys) == [
        ("2026-04-01", "2026-04-02"),
        ("2026-04-06", "2026-04-07"),
    ]


def test_lake_dates_skipped_by_the_state_are_registered_with_the_new_anchor(tmp_path):
    settings = build_lake(tmp_path, days=5)
    instance = dg.DagsterInstance.ephemeral()
    days = [d.isoformat() for d in files.options_dates(settings.lake_root)]
    assert run_dataset(build_defs(settings), instance, "options", days[:2]).success
    result = evaluate_freshness(instance, settings, None)
    adds = {r.partitions_def_name: r.partition_keys for r in result.dynamic_partitions_requests}
    assert adds["options_anchor_dates"] == days[2:]
    (run,) = _requests(result, "options_job")
    assert (run.tags[RANGE[0]], run.tags[RANGE[1]]) == (days[2], days[4])


def test_an_unreadable_gpr_file_skips_gpr_only(lake):
    settings, instance, _, _ = lake
    gpr = settings.lake_root / "gpr" / "gpr_monthly_enriched.parquet"
    gpr.write_bytes(b"not parquet")
    result = _evaluate(settings, instance)
    assert _requests(result, "options_job")
    assert not _requests(result, "gpr_job")
    assert "gpr" not in json.loads(result.cursor)


def _run(defs, instance, request) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(request.job_name).execute_in_process(
        instance=instance, tags=request.tags, raise_on_error=False
    )


def _register(instance, result):
    for add in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))


def test_a_contract_failure_is_retried_only_after_its_files_change(lake):
    settings, instance, defs, _ = lake
    victim = files.options_files(settings.lake_root, files.options_dates(settings.lake_root)[4])[0]
    good = victim.read_bytes()
    victim.write_bytes(b"broken")
    first = _evaluate(settings, instance)
    _register(instance, first)
    (request,) = _requests(first, "options_job")
    assert not _run(defs, instance, request).success
    # The same files fail the same way: no retry, however many ticks pass.
    retry = _evaluate(settings, instance, first.cursor)
    assert not _requests(retry, "options_job")
    later = _evaluate(settings, instance, retry.cursor)
    assert not _requests(later, "options_job")
    victim.write_bytes(good)  # a new data version of the day: the refresh comes back
    fixed = _evaluate(settings, instance, later.cursor)
    (fresh_request,) = _requests(fixed, "options_job")
    assert fresh_request.run_key != request.run_key
    assert fresh_request.tags["silver/data_version"] != request.tags["silver/data_version"]
    assert _run(defs, instance, fresh_request).success
    done = _evaluate(settings, instance, fixed.cursor)
    assert not _requests(done, "options_job")
    assert not [k for k in json.loads(done.cursor)["pending"] if k.startswith("options:")]


def test_a_transient_step_error_is_retried_in_the_run(lake, monkeypatch):
    settings, instance, defs, _ = lake
    from silver_assets.metrics import assets

    real, calls = assets.daily_scan, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(assets, "daily_scan", flaky)
    first = _evaluate(settings, instance)
    _register(instance, first)
    (request,) = _requests(first, "options_job")
    result = _run(defs, instance, request)
    assert result.success
    assert len(calls) == 2
    restarted = [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert len(restarted) == 1


def test_run_retries_skip_contract_failures(tmp_path):
    """With the daemon's run retries on, a run stopped by its contract is not retried."""
    settings = build_lake(tmp_path, days=2)
    day = files.options_dates(settings.lake_root)[-1]
    files.options_files(settings.lake_root, day)[0].write_bytes(b"garbage")
    instance = dg.DagsterInstance.ephemeral(settings={"run_retries": {"enabled": True}})
    run = run_dataset(build_defs(settings), instance, "options", [day.isoformat()])
    tags = instance.get_run_by_id(run.run_ids[-1]).tags
    assert not run.success
    assert tags["dagster/max_retries"] == "2"
    assert tags["dagster/will_retry"] == "false"


def _dates(n: int) -> list[str]:
    start = date(2024, 1, 1)
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def test_cursor_stays_bounded_over_500_dates_and_misses_nothing():
    """500 SYNTHETIC dates arrive one a day; the cursor entry never grows past the window."""
    versions: dict[str, str] = {}
    entry, sizes = None, []
    for day in _dates(500):
        versions[day] = f"v-{day}"
        if entry is not None:
            changed = freshness.changed_dates(versions, json.loads(entry), [], lambda keys: {})
            assert changed == {day}
        entry = json.dumps(freshness.compact_versions(versions))
        sizes.append(len(entry))
    assert max(sizes) == max(sizes[freshness.RECENT_DATES + 1 :]) < 2000
    assert len(json.loads(entry)["recent"]) == freshness.RECENT_DATES
    assert json.loads(entry)["older"]["count"] == 500 - freshness.RECENT_DATES


def test_restarted_cursor_repeats_nothing_and_finds_an_old_rewrite():
    days = _dates(500)
    recorded = {day: f"v-{day}" for day in days}  # what Dagster recorded for the source
    saved = json.dumps(freshness.compact_versions(recorded))  # all the restart keeps
    lookups: list[list[str]] = []

    def dagster_versions(keys):
        lookups.append(list(keys))
        return {key: recorded.get(key) for key in keys}

    same = freshness.changed_dates(dict(recorded), json.loads(saved), days, dagster_versions)
    assert same == set()
    assert lookups == []
    now = {**recorded, days[10]: "rewritten", days[-1]: "rewritten too"}
    changed = freshness.changed_dates(now, json.loads(saved), days, dagster_versions)
    assert changed == {days[10], days[-1]}
    assert len(lookups) == 1  # one pass over the old partitions, only when the digest moved


def test_an_old_rewrite_is_found_through_dagsters_recorded_versions(lake, monkeypatch):
    settings, instance, _, days = lake
    monkeypatch.setattr(freshness, "RECENT_DATES", 2)
    baseline = _evaluate(settings, instance)
    _register(instance, baseline)
    assert json.loads(baseline.cursor)["options"]["older"]["count"] == 3
    old = files.options_files(settings.lake_root, files.options_dates(settings.lake_root)[1])[0]
    os.utime(old, ns=(old.stat().st_atime_ns, old.stat().st_mtime_ns + 10**9))
    result = _evaluate(settings, instance, baseline.cursor)
    observed = [
        (e.asset_key.to_user_string(), e.partition)
        for e in result.asset_events
        if isinstance(e, dg.AssetObservation)
    ]
    assert observed == [("silver_options", days[1])]
    (run,) = _requests(result, "options_job")
    assert (run.tags[RANGE[0]], run.tags[RANGE[1]]) == (days[1], days[4])
    for event in result.asset_events:  # what the daemon does with the sensor's observations
        instance.report_runless_asset_event(event)
    again = _evaluate(settings, instance, result.cursor)
    assert again.asset_events == []  # no change seen twice; the refresh not yet launched is
    assert [r.run_key for r in _requests(again, "options_job")] == [run.run_key]  # same key


def test_sensor_intervals_come_from_the_settings_not_the_import(tmp_path):
    env = {**os.environ, "SILVER_SENSOR_INTERVAL_SECONDS": "soon"}
    imported = subprocess.run(
        [sys.executable, "-c", "import silver_assets.automation.sensors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr  # a bad value breaks nothing at import
    defs = build_defs(make_settings(tmp_path, sensor_interval_seconds=7))
    intervals = {s.name: s.minimum_interval_seconds for s in defs.sensors}
    assert intervals["silver_freshness_sensor"] == intervals["silver_alert_sensor"] == 7
    assert intervals["silver_run_failure_sensor"] == 7


def test_a_cursor_from_before_the_bounded_form_is_taken_over(lake):
    settings, instance, defs, days = lake
    for dataset in ("options", "macro"):
        assert run_dataset(defs, instance, dataset, [days[4]]).success
    current = json.loads(_evaluate(settings, instance).cursor)
    # The old cursor held every date's version in full.
    old = {
        **current,
        **{d: freshness.current_versions(d, settings) for d in ("options", "macro", "gpr")},
    }
    assert len(old["gpr"]) > freshness.RECENT_DATES  # GPR months go back to 2020
    result = _evaluate(settings, instance, json.dumps(old))
    assert result.run_requests == []
    assert result.asset_events == []
    assert json.loads(result.cursor) == current
