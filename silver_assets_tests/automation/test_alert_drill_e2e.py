"""The on-call drill against the real daemon: one broken file, one alert; fixed, one ``resolved``.

``dagster dev`` runs on a small SYNTHETIC lake with short sensor intervals and a webhook receiver on
127.0.0.1. A new day arrives whose SPY file has ``implied_volatility`` renamed and the state is
advanced to it. Once the runs it causes are over and the sensors have ticked a few more times,
there must be exactly one alert, in the log and at the webhook; fixing the file must give exactly
one ``resolved`` alert.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from silver_assets.anchors import write_state
from silver_assets.automation.alerts import read_alerts
from silver_assets.lake import files
from silver_assets.lake.generator import generate_lake
from silver_assets_tests.automation.test_alerts import Receiver
from silver_assets_tests.conftest import DEMO_TICKERS, build_lake
from silver_assets_tests.test_webserver_e2e import _graphql, _wait, running_dagster_dev

pytestmark = pytest.mark.e2e
NEW_DAY = date(2026, 5, 1)
SETTLE_SECONDS = 300
SENSORS = ("silver_freshness_sensor", "silver_alert_sensor", "silver_run_failure_sensor")
ACTIVE_RUNS = (
    "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED, CANCELING]}) "
    "{ ... on Runs { results { runId } } } }"
)


def _tick_times(port: int, sensor: str) -> list[float]:
    state = _graphql(
        port,
        '{ sensorOrError(sensorSelector: {repositoryName: "__repository__", '
        f'repositoryLocationName: "silver_assets", sensorName: "{sensor}"}}) '
        "{ ... on Sensor { sensorState { ticks(limit: 20) { timestamp endTimestamp } } } } }",
    )["sensorOrError"]["sensorState"]
    return [t["timestamp"] for t in state["ticks"] if t["endTimestamp"]]


def _settle(port: int, process, ticks: int = 3) -> None:
    """Wait until no run is active and each sensor has ticked ``ticks`` times since then."""
    quiet_since = time.time()

    def settled() -> bool:
        nonlocal quiet_since
        if _graphql(port, ACTIVE_RUNS)["runsOrError"]["results"]:
            quiet_since = time.time()
            return False
        return all(
            sum(t > quiet_since for t in _tick_times(port, sensor)) >= ticks for sensor in SENSORS
        )

    _wait(settled, SETTLE_SECONDS, "the runs to finish and the sensors to tick", process)


def _kinds(log: Path) -> Counter:
    return Counter(alert["kind"] for alert in read_alerts(log))


def _spy_file(lake_root: Path, day: date) -> Path:
    return next(p for p in files.options_files(lake_root, day) if p.name.startswith("SPY_"))


def test_one_broken_file_gives_one_alert_and_one_resolved(tmp_path):
    settings = build_lake(tmp_path, days=3)
    receiver = Receiver()
    env = {"SILVER_SENSOR_INTERVAL_SECONDS": "2", "SILVER_ALERT_WEBHOOK_URL": receiver.url}
    try:
        with running_dagster_dev(tmp_path, settings, env) as (port, process):
            _wait(lambda: _tick_times(port, "silver_freshness_sensor"), 120, "a baseline", process)
            generate_lake(
                settings.lake_root, days=1, seed=11, tickers=DEMO_TICKERS, end_date=NEW_DAY,
                progress=False,
            )  # fmt: skip
            spy = _spy_file(settings.lake_root, NEW_DAY)
            good = pq.read_table(spy)
            broken = good.rename_columns(
                ["iv_renamed" if n == "implied_volatility" else n for n in good.column_names]
            )
            pq.write_table(broken, spy)
            write_state(settings.state_path, {"options_daily": NEW_DAY.isoformat()})

            _wait(lambda: _kinds(settings.alerts_log)["check_failed"], 300, "an alert", process)
            _settle(port, process)
            alerts = read_alerts(settings.alerts_log)
            print(f"\nbroken file -> alerts: {dict(_kinds(settings.alerts_log))}", end=", ")
            print(f"webhook POSTs: {len(receiver.received)}")
            assert [a["kind"] for a in alerts] == ["check_failed"], alerts
            (alert,) = alerts
            assert alert["check"] == "options_contract"
            assert alert["partition"] == NEW_DAY.isoformat()
            assert "implied_volatility" in alert["rule"]
            assert alert["files"] == [str(spy)]
            assert alert["ui_url"].startswith("http://127.0.0.1:3000/")
            assert alert["run_ids"]
            _wait(lambda: receiver.received, 30, "the webhook POST", process)
            assert [a["kind"] for a in receiver.received] == ["check_failed"]

            tmp = spy.with_suffix(".fixing")
            pq.write_table(good, tmp)
            os.replace(tmp, spy)  # the fixed file: a new data version of the day
            _wait(lambda: _kinds(settings.alerts_log)["resolved"], 300, "resolved", process)
            _settle(port, process)
            print(f"fixed file -> alerts: {dict(_kinds(settings.alerts_log))}")
            assert _kinds(settings.alerts_log) == {"check_failed": 1, "resolved": 1}
            _wait(lambda: len(receiver.received) == 2, 30, "the resolved POST", process)
            assert [a["kind"] for a in receiver.received] == ["check_failed", "resolved"]
    finally:
        receiver.close()
