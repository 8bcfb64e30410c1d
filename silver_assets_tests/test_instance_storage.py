"""The project's instances store runs and events through cached SQLite engines, correctly.

- An instance configured like ``dagster_home`` uses the cached storages, and a run's events reuse
  a handful of SQLite connections instead of opening one per transaction.
- Two processes writing to one instance (a run here, an observation and a run there) each see
  the other's writes, and so do threads sharing one instance.
- A watcher of a run (the webserver's live run logs) sees events another instance stores while
  its connection stays open.
- A new run's shard, copied from an empty one, is the file Dagster's own storage creates.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import sqlalchemy as db
from dagster._core.events.log import EventLogEntry

from silver_assets.instance_storage import (
    CachedSqliteEventLogStorage,
    CachedSqliteRunStorage,
    CachedSqliteScheduleStorage,
    project_instance_home,
)

PARTITIONS = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.asset(partitions_def=PARTITIONS)
def numbers() -> int:
    return 1


# The other process: an observation without a run, then a run of partition "b".
OTHER_PROCESS = """
import sys
import dagster as dg
from silver_assets_tests.test_instance_storage import numbers

with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    assert len(instance.get_runs()) == 1  # the first process's run
    instance.report_runless_asset_event(dg.AssetObservation("numbers", partition="a"))
    assert dg.materialize([numbers], instance=instance, partition_key="b").success
"""


def _materialized_partitions(instance: dg.DagsterInstance) -> set[str]:
    records = instance.fetch_materializations(dg.AssetKey("numbers"), limit=10).records
    return {record.partition_key for record in records if record.partition_key}


def test_project_instance_reuses_its_sqlite_connections(tmp_path):
    opened = []

    def count(dbapi_connection, record):
        opened.append(dbapi_connection)

    db.event.listen(db.pool.Pool, "connect", count)
    try:
        with dg.DagsterInstance.from_config(str(project_instance_home(tmp_path))) as instance:
            assert isinstance(instance.run_storage, CachedSqliteRunStorage)
            assert isinstance(instance.event_log_storage, CachedSqliteEventLogStorage)
            assert isinstance(instance.schedule_storage, CachedSqliteScheduleStorage)
            opened.clear()
            assert dg.materialize([numbers], instance=instance, partition_key="a").success
            stored = len(instance.get_records_for_run(instance.get_runs()[0].run_id).records)
    finally:
        db.event.remove(db.pool.Pool, "connect", count)
    # One per database (runs, index, the run's shard), a few more for concurrent threads; Dagster's
    # own storages open one per transaction, more than one per stored event.
    assert stored > 10
    assert len(opened) <= 6, f"{len(opened)} SQLite connections for {stored} events"


def test_two_processes_write_to_one_instance(tmp_path):
    home = project_instance_home(tmp_path)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert dg.materialize([numbers], instance=instance, partition_key="a").success
        other = subprocess.run(
            [sys.executable, "-c", OTHER_PROCESS, str(home)],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert other.returncode == 0, other.stderr[-3000:]
        # This process's pooled connections read what the other committed, and write after it.
        assert len(instance.get_runs()) == 2
        assert _materialized_partitions(instance) == {"a", "b"}
        observations = instance.fetch_observations(dg.AssetKey("numbers"), limit=5).records
        assert [record.partition_key for record in observations] == ["a"]
        assert dg.materialize([numbers], instance=instance, partition_key="c").success
    with dg.DagsterInstance.from_config(str(home)) as fresh:
        assert _materialized_partitions(fresh) == {"a", "b", "c"}
        assert {run.status for run in fresh.get_runs()} == {dg.DagsterRunStatus.SUCCESS}


def test_threads_share_one_instance(tmp_path):
    with dg.DagsterInstance.from_config(str(project_instance_home(tmp_path))) as instance:

        def observe(thread: int) -> None:
            for partition in PARTITIONS.get_partition_keys():
                event = dg.AssetObservation("numbers", partition=partition, metadata={"t": thread})
                instance.report_runless_asset_event(event)
            instance.add_run(dg.DagsterRun(job_name="job", run_id=f"run-{thread}"))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(observe, range(8)))
        assert len(instance.fetch_observations(dg.AssetKey("numbers"), limit=100).records) == 24
        assert len(instance.get_runs()) == 8


def test_a_watcher_sees_events_another_instance_stores(tmp_path):
    home = str(project_instance_home(tmp_path))
    with (
        dg.DagsterInstance.from_config(home) as writer,
        dg.DagsterInstance.from_config(home) as watcher,
    ):
        run = writer.add_run(dg.DagsterRun(job_name="job", run_id="watched"))
        writer.report_engine_event("first", run)
        seen: list[str] = []
        arrived = threading.Event()

        def callback(entry: EventLogEntry, cursor: str) -> None:
            seen.append(entry.dagster_event.message if entry.dagster_event else "")
            if seen[-1] == "second":
                arrived.set()

        watcher.event_log_storage.watch("watched", None, callback)
        time.sleep(1)  # the watch is live, and the first write's file events are over
        writer.report_engine_event("second", run)  # the writer's connection stays open
        assert arrived.wait(timeout=20), f"the watcher saw only {seen}"
        watcher.event_log_storage.end_watch("watched", callback)


def _shard(path: Path) -> tuple[list, list, list]:
    with sqlite3.connect(path) as conn:
        return (
            sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()),
            conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            conn.execute("PRAGMA journal_mode").fetchall(),
        )


def test_a_new_run_shard_is_the_one_dagster_creates(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with (
        dg.DagsterInstance.from_config(str(project_instance_home(tmp_path / "ours"))) as ours,
        dg.DagsterInstance.from_config(str(plain)) as dagsters,
    ):
        for run_id in ("first", "second"):  # the second is a copy of the first's empty shard
            with ours.event_log_storage.run_connection(run_id):
                pass
        with dagsters.event_log_storage.run_connection("second"):
            pass
        copied = Path(ours.event_log_storage.path_for_shard("second"))
        created = Path(dagsters.event_log_storage.path_for_shard("second"))
        assert _shard(copied) == _shard(created)
        assert not list(copied.parent.glob("*.partial"))
