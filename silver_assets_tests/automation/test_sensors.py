"""The freshness sensor with Dagster's sensor test contexts: new anchor, rewritten day, no change,
malformed state file, and a cursor that survives a restart."""

from __future__ import annotations

import json
import os

import dagster as dg
import pytest

from silver_assets.automation.runs import run_dataset
from silver_assets.automation.sensors import evaluate_freshness, silver_freshness_sensor
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.partitions import contiguous_groups
from silver_assets.resources import SilverLakeResource
from silver_assets_tests.conftest import build_lake

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
    return silver_freshness_sensor(context)


def _requests(result, job):
    return [r for r in result.run_requests if r.job_name == job]


def test_new_anchor_is_registered_and_requested(lake):
    settings, instance, _, days = lake
    result = _evaluate(settings, instance)
    adds = {r.partitions_def_name: r.partition_keys for r in result.dynamic_partitions_requests}
    assert adds == {"options_anchor_dates": [days[4]], "macro_anchor_dates": [days[4]]}
    (options_run,) = _requests(result, "options_job")
    assert options_run.tags["dagster/partition"] == days[4]
    assert len(_requests(result, "macro_job")) == 1 and not _requests(result, "gpr_job")


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
    assert second.run_requests == [] and second.asset_events == []
    assert second.cursor == first.cursor
    assert "no new anchor" in second.skip_reason.skip_message


def test_malformed_state_file_skips_without_crashing(lake):
    settings, instance, _, _ = lake
    settings.state_path.write_text("{ not json")
    result = _evaluate(settings, instance)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
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
    settings, instance, _, days = lake
    gpr = settings.lake_root / "gpr" / "gpr_monthly_enriched.parquet"
    gpr.write_bytes(b"not parquet")
    result = _evaluate(settings, instance)
    assert _requests(result, "options_job") and not _requests(result, "gpr_job")
    assert "gpr" not in json.loads(result.cursor)


def test_a_failed_refresh_is_requested_again_then_dropped_once_done(lake):
    settings, instance, defs, days = lake
    victim = files.options_files(settings.lake_root, files.options_dates(settings.lake_root)[4])[0]
    good = victim.read_bytes()
    victim.write_bytes(b"broken")
    first = _evaluate(settings, instance)
    for add in first.dynamic_partitions_requests:
        instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
    (request,) = _requests(first, "options_job")
    assert request.run_key.endswith(":0")
    job = defs.resolve_job_def("options_job")
    assert not job.execute_in_process(
        instance=instance, tags=request.tags, raise_on_error=False
    ).success
    retry = _evaluate(settings, instance, first.cursor)
    (again,) = _requests(retry, "options_job")
    assert again.run_key.endswith(":1") and again.tags == request.tags
    victim.write_bytes(good)  # the day is rewritten: a new refresh supersedes the failed one
    fixed = _evaluate(settings, instance, retry.cursor)
    (fresh_request,) = _requests(fixed, "options_job")
    assert fresh_request.run_key.endswith(":0") and fresh_request.run_key != request.run_key
    assert job.execute_in_process(instance=instance, tags=fresh_request.tags).success
    done = _evaluate(settings, instance, fixed.cursor)
    assert not _requests(done, "options_job")
    assert not [k for k in json.loads(done.cursor)["pending"] if k.startswith("options:")]
