"""Observable sources through Dagster: per-partition data versions that move with the files."""

from __future__ import annotations

import os

import dagster as dg

from silver_assets.automation.jobs import OBSERVE_JOBS
from silver_assets.automation.runs import run_dataset
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.partitions import PARTITIONS_BY_DATASET, register_partitions
from silver_assets_tests.conftest import build_lake


def _version(instance, key: str, partition: str) -> str:
    # The observation: what Dagster's staleness reads for a source (is_source).
    record = instance.get_latest_data_version_record(
        dg.AssetKey(key), is_source=True, partition_key=partition
    )
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


def _status(instance, key: str, partitions: list[str]) -> dict[str, str | None]:
    """What the UI's partition health reads: Dagster's status of each partition."""
    found = instance.get_status_by_partition(
        dg.AssetKey(key), partitions, PARTITIONS_BY_DATASET["options"]
    )
    return {p: status.value if status else None for p, status in found.items()}


def test_partitions_whose_files_arrived_read_as_filled(tmp_path):
    settings = build_lake(tmp_path, days=3)
    instance = dg.DagsterInstance.ephemeral()
    days = [d.isoformat() for d in files.options_dates(settings.lake_root)]
    empty = "2026-06-01"  # registered, but the lake has no files for it
    register_partitions(instance, "options", [*days, empty])
    job = build_defs(settings).resolve_job_def(OBSERVE_JOBS["options"].name)
    assert job.execute_in_process(instance=instance).success
    assert _status(instance, "silver_options", [*days, empty]) == {
        **dict.fromkeys(days, "MATERIALIZED"),
        empty: None,
    }
    assert job.execute_in_process(instance=instance).success  # nothing new arrived
    recorded = instance.fetch_materializations(dg.AssetKey("silver_options"), limit=10).records
    assert sorted(r.partition_key for r in recorded) == days  # each arrival recorded once


def test_a_dataset_run_observes_its_partitions_without_an_observation_run(tmp_path):
    """``run_dataset`` records the observation job's events (arrival, data version) runless."""
    settings = build_lake(tmp_path, days=3)
    days = [d.isoformat() for d in files.options_dates(settings.lake_root)]
    observed, runless = dg.DagsterInstance.ephemeral(), dg.DagsterInstance.ephemeral()
    register_partitions(observed, "options", days)
    job = build_defs(settings).resolve_job_def(OBSERVE_JOBS["options"].name)
    assert job.execute_in_process(instance=observed, partition_key=days[-1]).success

    run = run_dataset(build_defs(settings), runless, "options", [days[-1]])
    assert run.success
    # The anchor's IV-rank lookback comes along: a range run, then the anchor alone.
    assert {r.job_name for r in runless.get_runs()} == {"options_job"}
    assert _version(runless, "silver_options", days[-1]) == _version(
        observed, "silver_options", days[-1]
    )
    assert _status(runless, "silver_options", [days[-1]]) == {days[-1]: "MATERIALIZED"}
