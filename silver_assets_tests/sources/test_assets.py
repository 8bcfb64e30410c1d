"""Observable sources through Dagster: per-partition data versions that move with the files."""

from __future__ import annotations

import os

import dagster as dg

from silver_assets.automation.jobs import OBSERVE_JOBS
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.partitions import register_partitions
from silver_assets_tests.conftest import build_lake


def _version(instance, key: str, partition: str) -> str:
    record = instance.get_latest_data_version_record(dg.AssetKey(key), partition_key=partition)
    return record.asset_observation.tags["dagster/data_version"]


def test_observed_versions_change_when_and_only_when_files_change(tmp_path):
    settings = build_lake(tmp_path, days=3)
    instance = dg.DagsterInstance.ephemeral()
    days = [d.isoformat() for d in files.options_dates(settings.lake_root)]
    register_partitions(instance, "options", days)
    job = build_defs(settings).resolve_job_def(OBSERVE_JOBS["options"].name)
    assert job.execute_in_process(instance=instance).success
    before = {day: _version(instance, "silver_options", day) for day in days}
    assert len(set(before.values())) == 3

    assert job.execute_in_process(instance=instance).success  # nothing changed
    assert {day: _version(instance, "silver_options", day) for day in days} == before

    path = files.options_files(settings.lake_root, files.options_dates(settings.lake_root)[0])[0]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    # A daily run observes only its own partition.
    assert job.execute_in_process(instance=instance, partition_key=days[0]).success
    after = {day: _version(instance, "silver_options", day) for day in days}
    assert after[days[0]] != before[days[0]]
    assert {d: after[d] for d in days[1:]} == {d: before[d] for d in days[1:]}
