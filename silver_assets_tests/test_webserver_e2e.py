"""End to end with the real ``dagster dev`` (webserver + daemon) on a free loopback port.

A small demo lake is materialized, the state file is advanced by one trading day, and the daemon's
freshness sensor must turn that into a queryable snapshot within a bound. The assets, their
partitions, the check results and the sensor ticks are then read through the GraphQL API, and
everything is shut down.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from silver_assets.lake.generator import generate_lake
from silver_assets.query.answer import answer_query
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.conftest import build_lake

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
NEW_DAY = date(2026, 5, 1)
STARTUP_SECONDS = 180
FRESHNESS_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


def _wait(predicate, seconds: float, what: str, process: subprocess.Popen):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dagster dev exited while waiting for {what}"
        try:
            result = predicate()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


@contextlib.contextmanager
def running_dagster_dev(
    tmp_path: Path, settings: Settings, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen]]:
    """Materialize the lake with the CLI, then run ``dagster dev`` until the block exits."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **settings.environment(), "DAGSTER_HOME": str(home), **env}
    done = subprocess.run(
        [str(BIN / "silver-assets"), "materialize", "--all"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5),
            STARTUP_SECONDS,
            "the webserver",
            process,
        )
        yield port, process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


@pytest.fixture
def dagster_dev(tmp_path):
    settings = build_lake(tmp_path, days=4)
    with running_dagster_dev(tmp_path, settings, {"SILVER_SENSOR_INTERVAL_SECONDS": "5"}) as (
        port,
        process,
    ):
        yield settings, port, process


def test_daemon_turns_a_new_anchor_into_a_queryable_snapshot(dagster_dev):
    settings, port, process = dagster_dev
    began = time.monotonic()
    generate_lake(
        settings.lake_root,
        days=1,
        seed=11,
        tickers=("SPY", "QQQ", "IWM", "GLD"),
        end_date=NEW_DAY,
        state_path=settings.state_path,
        progress=False,
    )
    request = {
        "tickers": ["SPY"],
        "metrics": ["Put/Call Ratio", "IV Skew", "Price"],
        "time_window": "today",
    }

    def fresh():
        payload = answer_query(settings, request)
        status = payload["status"]["freshness"]
        ok = all(
            f["used_partition"] == NEW_DAY.isoformat() and not f["stale"] for f in status.values()
        )
        return payload if ok and payload["values"] else None

    payload = _wait(fresh, FRESHNESS_SECONDS, "the new anchor's snapshot", process)
    delay = time.monotonic() - began
    print(f"\nstate advanced -> snapshot queryable: {delay:.1f}s")
    assert payload["citation_contract"]["pcr_volume"]["partition_key"] == NEW_DAY.isoformat()

    # Let the queue drain (the runs of the three datasets, then the standing answers).
    active = "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) "
    active += "{ ... on Runs { results { runId } } } }"
    _wait(
        lambda: not _graphql(port, active)["runsOrError"]["results"],
        FRESHNESS_SECONDS,
        "the run queue to drain",
        process,
    )
    assets = {
        tuple(n["assetKey"]["path"])
        for n in _graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]
    }
    assert {("silver_options",), ("options_analysis",), ("geopolitical_analysis",)} <= assets

    stats = _graphql(
        port,
        '{ assetNodeOrError(assetKey: {path: ["options_analysis"]}) '
        "{ ... on AssetNode { partitionStats { numMaterialized numPartitions numFailed } } } }",
    )["assetNodeOrError"]["partitionStats"]
    assert stats == {"numMaterialized": 5, "numPartitions": 5, "numFailed": 0}

    for source, check in (
        ("silver_options", "options_contract"),
        ("silver_macro", "macro_contract"),
    ):
        executions = _graphql(
            port,
            f'{{ assetCheckExecutions(assetKey: {{path: ["{source}"]}}, checkName: "{check}", '
            "limit: 5) { status evaluation { success } } }",
        )["assetCheckExecutions"]
        assert executions
        assert executions[0]["status"] == "SUCCEEDED"
        assert executions[0]["evaluation"]["success"] is True

    sensor = _graphql(
        port,
        '{ sensorOrError(sensorSelector: {repositoryName: "__repository__", '
        'repositoryLocationName: "silver_assets", sensorName: "silver_freshness_sensor"}) '
        "{ ... on Sensor { sensorState { status ticks(limit: 200) { status timestamp endTimestamp "
        "runIds } } } } }",
    )["sensorOrError"]["sensorState"]
    assert sensor["status"] == "RUNNING"
    ticks = [t for t in sensor["ticks"] if t["endTimestamp"]]
    assert any(t["runIds"] for t in ticks), "the sensor requested no run"
    durations = sorted(t["endTimestamp"] - t["timestamp"] for t in ticks)
    print(
        f"freshness sensor evaluation: median {durations[len(durations) // 2]:.3f}s "
        f"over {len(durations)} ticks"
    )
