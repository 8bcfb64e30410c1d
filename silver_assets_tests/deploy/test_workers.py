"""Parallel run workers: disjoint ranges, the busy-partition guard, and identical snapshots."""

from __future__ import annotations

import shutil
from collections import Counter

import dagster as dg
import pyarrow.parquet as pq
import pytest

from silver_assets.automation.workers import busy_partitions, split_ranges
from silver_assets.partitions import range_tags, register_partitions
from silver_assets_tests.conftest import build_lake
from silver_assets_tests.deploy.conftest import (
    DEPLOY_INSTANCE,
    deploy_env,
    open_instance,
    silver_assets,
)

KEYS = [f"2026-04-{day:02d}" for day in range(20, 31)]


def test_split_ranges_are_contiguous_disjoint_and_cover_every_key():
    ranges = split_ranges(list(reversed(KEYS)), 3)
    assert ranges == [KEYS[0:4], KEYS[4:7], KEYS[7:11]]
    assert split_ranges(KEYS[:2], 4) == [[KEYS[0]], [KEYS[1]]]
    assert split_ranges(KEYS, 1) == [KEYS]
    with pytest.raises(ValueError, match="at least 1"):
        split_ranges(KEYS, 0)


def test_busy_partitions_names_the_anchors_an_in_progress_run_writes():
    instance = dg.DagsterInstance.ephemeral()
    register_partitions(instance, "options", KEYS)
    for status, (first, last) in (
        (dg.DagsterRunStatus.STARTED, (KEYS[2], KEYS[4])),
        (dg.DagsterRunStatus.SUCCESS, (KEYS[6], KEYS[8])),
    ):
        instance.add_run(
            dg.DagsterRun(job_name="options_job", status=status, tags=range_tags(first, last))
        )
    assert busy_partitions(instance, "options", KEYS[3:]) == KEYS[3:5]
    assert busy_partitions(instance, "macro", KEYS) == []


def _snapshots(root) -> dict[str, object]:
    return {
        str(path.relative_to(root)): pq.read_table(path).drop_columns(["run_id"])
        for path in sorted(root.rglob("*.parquet"))
    }


@pytest.mark.postgres
@pytest.mark.e2e
def test_two_workers_write_the_same_snapshots_as_one(tmp_path, monkeypatch, postgres_server):
    lake = build_lake(tmp_path, days=6)  # one lake: data versions include file times
    snapshots = {}
    for workers in (1, 2):
        settings = lake.replace(snapshot_root=tmp_path / f"snapshots{workers}")
        home = tmp_path / f"home{workers}"
        home.mkdir()
        shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
        url = postgres_server.create_database(f"workers_{workers}_{tmp_path.name[-8:]}")
        env = deploy_env(settings, home, url)
        done = silver_assets("materialize", "--all", "--workers", str(workers), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        snapshots[workers] = _snapshots(settings.snapshot_root)
        instance = open_instance(monkeypatch, env)
        for asset in ("atm_iv_daily", "options_analysis", "macro_analysis"):
            written = Counter(
                record.partition_key
                for record in instance.fetch_materializations(dg.AssetKey(asset), 1000).records
            )
            # Each range's newest anchor is re-run alone after it (the UI's latest
            # materialization); every other partition is written exactly once.
            twice = [key for key, count in written.items() if count == 2]
            more_than_once = f"{asset}: partitions written more than once: {written}"
            assert set(written.values()) <= {1, 2}, more_than_once
            assert len(twice) <= workers, more_than_once
    assert "[options] worker 2026-04-" in done.stdout
    assert len(snapshots[1]) > 30
    assert snapshots[2].keys() == snapshots[1].keys()
    for name, table in snapshots[1].items():
        assert snapshots[2][name].equals(table), name
