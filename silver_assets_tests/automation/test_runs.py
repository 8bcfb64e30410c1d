"""Crash- and race-safe runs, end to end through the real CLI on fresh DAGSTER_HOMEs.

- Several ``materialize`` commands at once on a new instance all succeed (partition
  registration and instance creation race otherwise).
- A ``materialize`` killed with SIGKILL leaves its runs STARTED; the next command marks them
  failed, succeeds, and its answers equal a clean run's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.schema import DynamicPartitionsTable

from silver_assets.automation.runs import (
    HOST_TAG,
    PID_TAG,
    UNFINISHED,
    fail_orphaned_runs,
    launcher_tags,
    newest_alone,
)
from silver_assets.cli import SAMPLE_REQUEST
from silver_assets.instance_storage import project_instance_home
from silver_assets.partitions import PARTITIONS_BY_DATASET, register_partitions
from silver_assets.query.answer import answer_query
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.conftest import build_lake, materialize_all

CLI = str(Path(sys.executable).parent / "silver-assets")
CONCURRENT_COMMANDS = 3
CONCURRENT_ROUNDS = 3
KILL_AFTER_SECONDS = (0.5, 1.5, 3.0)  # after the command starts, then inside the next run
REQUEST = {**SAMPLE_REQUEST, "tickers": ["SPY", "QQQ"], "time_window": "today"}


def _answers(settings: Settings) -> dict:
    payload = answer_query(settings, REQUEST)
    return {"values": payload["values"], "lineage_anchors": payload["lineage_anchors"]}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> tuple[Settings, dict]:
    """A small SYNTHETIC lake and the answers of a clean, in-process materialization of it."""
    root = tmp_path_factory.mktemp("reliability")
    settings = build_lake(root, days=5)
    clean = settings.replace(snapshot_root=root / "clean_snapshots")
    runs = materialize_all(clean, dg.DagsterInstance.ephemeral())
    assert all(run.success for run in runs.values())
    return settings, _answers(clean)


def _fresh(settings: Settings, where: Path) -> tuple[Settings, dict[str, str]]:
    """Settings with their own snapshot folder, and a CLI environment with a new DAGSTER_HOME
    configured like the project's (its instance storage)."""
    mine = settings.replace(snapshot_root=where / "snapshots")
    home = project_instance_home(where / "dagster_home")
    env = {**os.environ, **mine.environment(), "DAGSTER_HOME": str(home)}
    return mine, env


def _materialize(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, "materialize", "--all"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _statuses(dagster_home: Path) -> dict[str, dg.DagsterRunStatus]:
    """Every run of the instance in ``dagster_home`` and its status."""
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return {run.run_id: run.status for run in instance.get_runs()}


def _wait_for_a_running_run(dagster_home: Path, timeout: float = 120) -> None:
    """Return as soon as a run of the instance is unfinished (read straight from its SQLite)."""
    marks = ", ".join(f"'{status.value}'" for status in UNFINISHED)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(dagster_home / "history" / "runs.db") as db:
            if db.execute(f"SELECT count(*) FROM runs WHERE status IN ({marks})").fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError(f"no run started within {timeout}s")


def _unfinished(dagster_home: Path) -> list[str]:
    return [run_id for run_id, status in _statuses(dagster_home).items() if status in UNFINISHED]


@pytest.mark.e2e
@pytest.mark.parametrize("round_", range(CONCURRENT_ROUNDS))
def test_concurrent_materialize_on_a_new_instance(lake, tmp_path, round_):
    settings, clean = lake
    mine, env = _fresh(settings, tmp_path)
    commands = [_materialize(env) for _ in range(CONCURRENT_COMMANDS)]
    outputs = [command.communicate(timeout=600) for command in commands]
    for command, (out, err) in zip(commands, outputs, strict=True):
        assert command.returncode == 0, out + err[-3000:]
        assert "[options] ok" in out
        assert "[macro] ok" in out
        assert "[gpr] ok" in out
    assert _answers(mine) == clean
    statuses = set(_statuses(tmp_path / "dagster_home").values())
    assert statuses == {dg.DagsterRunStatus.SUCCESS}


@pytest.mark.e2e
@pytest.mark.parametrize("delay", KILL_AFTER_SECONDS)
def test_killed_materialize_is_failed_and_the_next_command_recovers(lake, tmp_path, delay):
    settings, clean = lake
    mine, env = _fresh(settings, tmp_path)
    killed = _materialize(env)
    assert killed.stdout.readline().startswith("[options] materializing")
    time.sleep(delay)
    # Kill inside a run (not in Python's imports or between two runs) so that it is left behind.
    _wait_for_a_running_run(tmp_path / "dagster_home")
    killed.send_signal(signal.SIGKILL)
    # Reap it and close our ends of its pipes. Not communicate(): Dagster's compute-log `tail`
    # children hold the pipes open until its orphan watcher notices the kill, which on a
    # loaded machine has taken over a minute.
    killed.wait(timeout=60)
    killed.stdout.close()
    killed.stderr.close()
    left = _unfinished(tmp_path / "dagster_home")
    assert left  # the kill landed inside a run: it stays unfinished
    again = _materialize(env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err[-3000:]
    assert f"marked {len(left)} run(s) of killed commands failed" in err
    statuses = _statuses(tmp_path / "dagster_home")
    assert {statuses[run_id] for run_id in left} == {dg.DagsterRunStatus.FAILURE}
    assert _unfinished(tmp_path / "dagster_home") == []
    assert _answers(mine) == clean


def test_runs_of_a_live_process_are_left_alone_and_a_dead_ones_failed():
    dead = _dead_pid()
    tags = {
        "live": launcher_tags(),
        "gone": {**launcher_tags(), PID_TAG: str(dead)},
        "other_host": {HOST_TAG: "another-host", PID_TAG: str(dead)},
        "daemon": {},  # launched by the daemon: run monitoring's business
    }
    with dg.instance_for_test() as instance:
        for name, run_tags in tags.items():
            run = dg.DagsterRun(job_name="options_job", run_id=name, tags=run_tags)
            instance.add_run(run._replace(status=dg.DagsterRunStatus.STARTED))
        assert fail_orphaned_runs(instance) == ["gone"]
        status = {run.run_id: run.status for run in instance.get_runs()}
        assert status == {
            "live": dg.DagsterRunStatus.STARTED,
            "gone": dg.DagsterRunStatus.FAILURE,
            "other_host": dg.DagsterRunStatus.STARTED,
            "daemon": dg.DagsterRunStatus.STARTED,
        }
        assert fail_orphaned_runs(instance) == []


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_project_instance_enables_run_monitoring(tmp_path):
    with dg.DagsterInstance.from_config(str(project_instance_home(tmp_path))) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_max_runtime_seconds == 3 * 3600


def test_registration_reads_again_when_another_command_added_a_key_first(monkeypatch):
    name = PARTITIONS_BY_DATASET["options"].name
    with dg.instance_for_test() as instance:
        add = instance.add_dynamic_partitions

        def insert_after_losing_the_race(partitions_def_name, keys):
            monkeypatch.setattr(instance, "add_dynamic_partitions", add)
            add(partitions_def_name, ["2026-04-29"])  # the other command, between read and insert
            rows = [{"partitions_def_name": partitions_def_name, "partition": k} for k in keys]
            with instance.event_log_storage.index_connection() as conn:
                conn.execute(DynamicPartitionsTable.insert(), rows)  # the unique index refuses

        monkeypatch.setattr(instance, "add_dynamic_partitions", insert_after_losing_the_race)
        added = register_partitions(instance, "options", ["2026-04-29", "2026-04-30"])
        assert added == ["2026-04-30"]
        assert instance.get_dynamic_partitions(name) == ["2026-04-29", "2026-04-30"]


def test_newest_anchor_of_a_range_runs_alone_last():
    order = ["2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30"]
    assert newest_alone(order, [("2026-04-27", "2026-04-30")]) == [
        ("2026-04-27", "2026-04-30"),
        ("2026-04-30", "2026-04-30"),
    ]
    assert newest_alone(order, [("2026-04-27", "2026-04-27"), ("2026-04-29", "2026-04-29")]) == [
        ("2026-04-27", "2026-04-27"),
        ("2026-04-29", "2026-04-29"),
    ]
    assert newest_alone(order, []) == []
