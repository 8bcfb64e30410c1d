"""The multi-process shape on Postgres: a gRPC code server, a webserver and a daemon using it.

The webserver and the daemon load the code through deploy/workspace.yaml (a ``grpc_server``
entry), never by importing the project themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from silver_assets.definitions import build_defs
from silver_assets.settings import PROJECT_ROOT
from silver_assets_tests.conftest import BIN, build_lake
from silver_assets_tests.deploy.conftest import deploy_env, open_instance
from silver_assets_tests.test_webserver_e2e import _free_port, _graphql, _wait

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
STARTUP_SECONDS = 180
RUN_SECONDS = 300
LOCATION_QUERY = (
    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
    "locationOrLoadError { __typename ... on RepositoryLocation { repositories { "
    "assetNodes { assetKey { path } } } } ... on PythonError { message } } } } } }"
)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture
def deployment(tmp_path, postgres_home, postgres_url) -> Iterator[tuple]:
    """A small lake and a code server on a free port; the environment of its clients."""
    settings = build_lake(tmp_path, days=4)
    port = _free_port()
    env = deploy_env(
        settings,
        postgres_home,
        postgres_url,
        SILVER_CODE_SERVER_HOST="127.0.0.1",
        SILVER_CODE_SERVER_PORT=str(port),
        SILVER_SENSOR_INTERVAL_SECONDS="5",
    )
    server = _start(
        [
            str(BIN / "dagster"),
            "code-server",
            "start",
            "-m",
            "silver_assets.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env,
        tmp_path / "code_server.log",
    )
    health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)]
    try:
        _wait(
            lambda: subprocess.run(health, env=env, capture_output=True).returncode == 0,
            STARTUP_SECONDS,
            "the code server",
            server,
        )
        yield settings, env, tmp_path
    finally:
        _stop(server)


def test_webserver_loads_the_code_location_from_the_code_server(deployment):
    _, env, tmp_path = deployment
    port = _free_port()
    webserver = _start(
        [
            str(BIN / "dagster-webserver"),
            "-w",
            "deploy/workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env,
        tmp_path / "webserver.log",
    )
    try:
        entries = _wait(
            lambda: _graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"],
            STARTUP_SECONDS,
            "the webserver",
            webserver,
        )
    finally:
        _stop(webserver)
    (entry,) = entries
    assert entry["name"] == "silver_assets"
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    assets = {tuple(n["assetKey"]["path"]) for n in location["repositories"][0]["assetNodes"]}
    assert {("silver_options",), ("options_analysis",), ("geopolitical_analysis",)} <= assets


def test_daemon_runs_the_freshness_sensor_through_the_code_server(deployment, monkeypatch):
    _, env, tmp_path = deployment
    daemon = _start(
        [str(BIN / "dagster-daemon"), "run", "-w", "deploy/workspace.yaml"],
        env,
        tmp_path / "daemon.log",
    )
    instance = open_instance(monkeypatch, env)
    try:
        # The fresh instance has no snapshot of the state's anchor: the sensor requests it.
        done = _wait(
            lambda: [
                run
                for run in instance.get_runs(dg.RunsFilter(job_name="options_job"))
                if run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
            ],
            RUN_SECONDS,
            "an options run requested by the freshness sensor",
            daemon,
        )
    finally:
        _stop(daemon)
    assert done[0].status == dg.DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text()
    (sensor,) = [
        s for s in instance.all_instigator_state() if s.instigator_name == "silver_freshness_sensor"
    ]
    ticks = instance.get_ticks(sensor.instigator_origin_id, sensor.selector_id)
    assert any(tick.run_ids for tick in ticks), "the daemon's sensor ticks requested no run"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"


def test_daily_schedule_requests_the_anchor_on_postgres(
    tmp_path, monkeypatch, postgres_home, postgres_url
):
    settings = build_lake(tmp_path, days=4)
    env = deploy_env(settings, postgres_home, postgres_url)
    instance = open_instance(monkeypatch, env)
    defs = build_defs(settings)
    schedule = defs.resolve_schedule_def("options_daily_schedule")
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 5, 1, 6, 30, tzinfo=UTC),
        resources=defs.resources,
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.run_key for r in requests] == ["options:2026-04-27:2026-04-30:2026-05-01"]
    assert instance.get_dynamic_partitions("options_anchor_dates")[-1] == "2026-04-30"
