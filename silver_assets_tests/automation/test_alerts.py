"""Alerts: one alert per incident (pure folding logic), each trigger delivered to a real HTTP
server on 127.0.0.1, and a webhook that is down or slow neither blocks nor crashes the sensor."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from silver_assets.automation import alerts
from silver_assets.automation.alerts import CheckOutcome, fold_check_outcomes, run_failure_alert
from silver_assets.automation.runs import run_dataset
from silver_assets.automation.sensors import build_sensors, evaluate_alerts
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import Settings
from silver_assets_tests.conftest import build_lake, make_settings

BASE = "http://ui.example:3000"


def _outcome(run_id: str, passed: bool = False, **changes) -> CheckOutcome:
    values = {
        "check": "options_contract",
        "asset": "silver_options",
        "partition": "2026-05-01",
        "data_version": "v1",
        "passed": passed,
        "status": "OK" if passed else "MISSING_COLUMNS",
        "message": "ok" if passed else "missing required columns implied_volatility",
        "run_id": run_id,
        "rule": None if passed else "required columns present (missing: implied_volatility)",
        "files": () if passed else ("/lake/options/2026-05-01/SPY_options_2026-05-01.parquet",),
    }
    return CheckOutcome(**{**values, **changes})


def test_repeated_failures_fold_into_one_alert():
    outcomes = [_outcome(f"run-{i}") for i in range(4)]
    alerts_, incidents = fold_check_outcomes({}, outcomes, BASE)
    (alert,) = alerts_
    assert alert.kind == "check_failed"
    assert alert.partition == "2026-05-01"
    assert alert.run_ids == ("run-0", "run-1", "run-2", "run-3")
    assert alert.rule == "required columns present (missing: implied_volatility)"
    assert alert.files == ("/lake/options/2026-05-01/SPY_options_2026-05-01.parquet",)
    assert alert.ui_url == "http://ui.example:3000/assets/silver_options?view=checks"
    # The next tick (the incidents come back from the cursor) folds a rerun silently.
    again, incidents = fold_check_outcomes(
        json.loads(json.dumps(incidents)), [_outcome("r4")], BASE
    )
    assert again == []
    assert next(iter(incidents.values()))["run_ids"][-1] == "r4"


def test_a_new_data_version_or_status_is_a_new_incident():
    first, incidents = fold_check_outcomes({}, [_outcome("a")], BASE)
    moved, incidents = fold_check_outcomes(incidents, [_outcome("b", data_version="v2")], BASE)
    other, incidents = fold_check_outcomes(incidents, [_outcome("c", status="READ_FAILED")], BASE)
    assert [len(first), len(moved), len(other)] == [1, 1, 1]
    assert (moved[0].data_version, other[0].status) == ("v2", "READ_FAILED")
    assert len(incidents) == 1  # one open incident per check and partition


def test_a_pass_resolves_once_and_only_what_it_covers():
    _, incidents = fold_check_outcomes(
        {}, [_outcome("a"), _outcome("b", partition="2026-04-30")], BASE
    )
    elsewhere, incidents = fold_check_outcomes(
        incidents, [_outcome("c", passed=True, partition="2026-04-29")], BASE
    )
    assert elsewhere == []
    assert len(incidents) == 2
    resolved, incidents = fold_check_outcomes(
        incidents, [_outcome("d", passed=True, partition="2026-04-30..2026-05-01")], BASE
    )
    assert [(a.kind, a.partition) for a in resolved] == [
        ("resolved", "2026-05-01"),
        ("resolved", "2026-04-30"),
    ]
    assert resolved[0].rule
    assert resolved[0].status == "OK"
    assert incidents == {}
    again, _ = fold_check_outcomes(incidents, [_outcome("e", passed=True)], BASE)
    assert again == []


def test_folded_run_ids_stay_bounded():
    outcomes = [_outcome(f"run-{i}") for i in range(alerts.MAX_FOLDED_RUNS + 5)]
    (alert,), _ = fold_check_outcomes({}, outcomes, BASE)
    assert len(alert.run_ids) == alerts.MAX_FOLDED_RUNS
    assert alert.run_ids[-1] == "run-24"


def test_failed_rule_names_the_rule_and_the_file():
    rule, files_ = alerts.failed_rule(
        "MISSING_COLUMNS", {"missing_columns": {"/l/SPY.parquet": ["implied_volatility"]}}
    )
    assert rule == "required columns present (missing: implied_volatility)"
    assert files_ == ("/l/SPY.parquet",)
    rule, files_ = alerts.failed_rule(
        "CONTRACT_FAILED", {"sample_failures": [{"check": "bid_le_ask", "file": "/l/Q.parquet"}]}
    )
    assert (rule, files_) == ("bid_le_ask", ("/l/Q.parquet",))


def test_run_failures_of_a_failed_check_or_a_retried_run_raise_nothing():
    args = {"run_id": "r1", "job_name": "options_job", "partition": "2026-05-01", "message": "x"}
    assert run_failure_alert(**args, failed_checks=["options_contract"], will_retry=False,
                             base_url=BASE) is None  # fmt: skip
    assert run_failure_alert(**args, failed_checks=[], will_retry=True, base_url=BASE) is None
    alert = run_failure_alert(**args, failed_checks=[], will_retry=False, base_url=BASE)
    assert alert.kind == "run_failed"
    assert alert.ui_url == f"{BASE}/runs/r1"


class Receiver:
    """A loopback HTTP server that records alert POSTs (optionally answering slowly)."""

    def __init__(self, delay: float = 0.0):
        self.received: list[dict] = []
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                receiver.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"  # nothing listens here any more


def _wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def failed_check(tmp_path):
    """A lake whose last options day is corrupt, and the failed run it caused."""
    settings = build_lake(tmp_path, days=2)
    day = files.options_dates(settings.lake_root)[-1]
    files.options_files(settings.lake_root, day)[0].write_bytes(b"garbage")
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", [day.isoformat()])
    assert not run.success
    return settings, instance, day, run


def test_failed_check_alert_is_logged_and_posted(failed_check, receiver):
    settings, instance, day, _ = failed_check
    settings = settings.replace(alert_webhook_url=receiver.url)
    result = evaluate_alerts(instance, settings, None)
    assert _wait_for(lambda: receiver.received)
    (posted,) = receiver.received
    assert posted["kind"] == "check_failed"
    assert posted["check"] == "options_contract"
    assert posted["asset"] == "silver_options"
    assert posted["partition"].endswith(day.isoformat())
    assert posted["status"] == "READ_FAILED"
    assert posted["rule"] == "readable Parquet"
    assert posted["ui_url"] == "http://127.0.0.1:3000/assets/silver_options?view=checks"
    assert posted["files"] == [str(files.options_files(settings.lake_root, day)[0])]
    assert posted["run_ids"] == [failed_check[3].run_ids[-1]]
    assert posted["data_version"]
    assert alerts.read_alerts(settings.alerts_log)[0]["check"] == "options_contract"
    again = evaluate_alerts(instance, settings, result.cursor)  # the cursor prevents repeats
    assert len(alerts.read_alerts(settings.alerts_log)) == 1
    assert again.skip_reason


def _run_failure_sensor(instance, settings, run_id):
    """Evaluate the run-failure sensor on a failed run, as the daemon would."""
    failure = next(
        r.event_log_entry.dagster_event
        for r in instance.get_records_for_run(run_id).records
        if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.is_run_failure
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="silver_run_failure_sensor",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run_id),
        resources={"silver": SilverLakeResource.from_settings(settings)},
    ).for_run_failure()
    (sensor,) = [s for s in build_sensors(settings) if s.name == "silver_run_failure_sensor"]
    sensor(context)


def test_a_run_stopped_by_its_contract_raises_no_run_alert(failed_check):
    settings, instance, _, run = failed_check
    _run_failure_sensor(instance, settings, run.run_ids[-1])
    assert alerts.read_alerts(settings.alerts_log) == []


def test_any_other_failed_run_alerts(tmp_path, receiver):
    settings = build_lake(tmp_path, days=1).replace(alert_webhook_url=receiver.url)

    @dg.op
    def boom():
        raise OSError("disk full")

    @dg.job
    def boom_job():
        boom()

    instance = dg.DagsterInstance.ephemeral()
    result = boom_job.execute_in_process(instance=instance, raise_on_error=False)
    _run_failure_sensor(instance, settings, result.run_id)
    assert _wait_for(lambda: receiver.received)
    (posted,) = receiver.received
    assert posted["kind"] == "run_failed"
    assert posted["run_ids"] == [result.run_id]
    assert posted["ui_url"] == f"http://127.0.0.1:3000/runs/{result.run_id}"


def test_stale_snapshot_alert_once(tmp_path, receiver):
    settings = build_lake(tmp_path, days=2)
    settings = settings.replace(alert_webhook_url=receiver.url, stale_after_minutes=60)
    instance = dg.DagsterInstance.ephemeral()
    fresh = evaluate_alerts(instance, settings, None)  # anchors just seen: not stale yet
    assert fresh.skip_reason
    assert not alerts.read_alerts(settings.alerts_log)
    # Another job rewrites the state file: that must not restart the clock.
    os.utime(settings.state_path)
    cursor = json.loads(fresh.cursor)
    cursor["first_seen"] = {k: v - 3 * 3600 for k, v in cursor["first_seen"].items()}
    stale = evaluate_alerts(instance, settings, json.dumps(cursor))
    kinds = {(a["kind"], a["asset"]) for a in alerts.read_alerts(settings.alerts_log)}
    assert kinds == {
        ("stale_snapshot", "options_analysis"),
        ("stale_snapshot", "macro_analysis"),
        ("stale_snapshot", "geopolitical_analysis"),
    }
    evaluate_alerts(instance, settings, stale.cursor)
    assert len(alerts.read_alerts(settings.alerts_log)) == 3
    assert _wait_for(lambda: len(receiver.received) == 3)


def test_webhook_down_neither_blocks_nor_crashes(failed_check):
    settings, instance, _, _ = failed_check
    settings = settings.replace(alert_webhook_url=_free_port_url())
    result = evaluate_alerts(instance, settings, None)
    assert result.cursor
    assert alerts.read_alerts(settings.alerts_log)
    delivered = alerts.post_webhook(
        settings.alert_webhook_url, alerts.Alert("x", "y", "http://127.0.0.1:3000/")
    )
    assert delivered is False


def test_slow_webhook_does_not_block_the_sensor(failed_check, monkeypatch):
    # Delivery is held until the sensor has returned; a sensor that waited for it would hold
    # itself up until the safety timeout and record an unreleased delivery.
    # (How long a tick takes with a slow or absent webhook: bench/alert_latency.py.)
    gate, released = threading.Event(), []

    def held_delivery(url, alert, *args, **kwargs):
        released.append(gate.wait(timeout=30))
        return True

    monkeypatch.setattr(alerts, "post_webhook", held_delivery)
    settings, instance, _, _ = failed_check
    settings = settings.replace(alert_webhook_url="http://127.0.0.1:9/held")
    evaluate_alerts(instance, settings, None)
    assert alerts.read_alerts(settings.alerts_log)
    gate.set()
    assert _wait_for(lambda: released)
    assert released == [True]


def test_slow_webhook_delivery_times_out_without_raising():
    slow = Receiver(delay=1.0)
    try:
        delivered = alerts.post_webhook(
            slow.url, alerts.Alert("x", "y", "http://127.0.0.1:3000/"), timeout=0.2, attempts=2
        )
        assert delivered is False
    finally:
        slow.close()


def test_the_ui_base_url_is_a_setting(tmp_path, use_settings, monkeypatch):
    use_settings(make_settings(tmp_path))
    monkeypatch.setenv("SILVER_UI_BASE_URL", "https://dagster.example.org/")
    settings = Settings.from_env()
    assert settings.ui_base_url == "https://dagster.example.org/"
    assert SilverLakeResource.from_settings(settings).settings == settings
    assert alerts.ui_url(settings.ui_base_url, "/runs/r1") == "https://dagster.example.org/runs/r1"
