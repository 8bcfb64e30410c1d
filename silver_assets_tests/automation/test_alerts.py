"""Alerts for each trigger, delivered to a real HTTP server on 127.0.0.1, and a webhook that is
down or slow neither blocks nor crashes the sensor."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from silver_assets.automation import alerts
from silver_assets.automation.runs import run_dataset
from silver_assets.automation.sensors import evaluate_alerts, silver_run_failure_sensor
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.resources import SilverLakeResource
from silver_assets_tests.conftest import build_lake


class Receiver:
    """A loopback HTTP server that records alert POSTs (optionally answering slowly)."""

    def __init__(self, delay: float = 0.0):
        self.received: list[dict] = []
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
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
    settings = dataclasses.replace(settings, alert_webhook_url=receiver.url)
    result = evaluate_alerts(instance, settings, None)
    assert _wait_for(lambda: receiver.received)
    (posted,) = receiver.received
    assert posted["kind"] == "check_failed" and posted["check"] == "options_contract"
    assert posted["asset"] == "silver_options" and posted["partition"].endswith(day.isoformat())
    assert posted["status"] == "READ_FAILED" and posted["ui_path"].startswith("/assets/")
    assert alerts.read_alerts(settings.alerts_log)[0]["check"] == "options_contract"
    again = evaluate_alerts(instance, settings, result.cursor)  # the cursor prevents repeats
    assert len(alerts.read_alerts(settings.alerts_log)) == 1 and again.skip_reason


def test_failed_run_alert(failed_check, receiver):
    settings, instance, _, run = failed_check
    settings = dataclasses.replace(settings, alert_webhook_url=receiver.url)
    dagster_run = instance.get_run_by_id(run.run_ids[-1])
    failure = next(
        r.event_log_entry.dagster_event
        for r in instance.get_records_for_run(run.run_ids[-1]).records
        if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.is_run_failure
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="silver_run_failure_sensor",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=dagster_run,
        resources={"silver": SilverLakeResource.from_settings(settings)},
    ).for_run_failure()
    silver_run_failure_sensor(context)
    assert _wait_for(lambda: receiver.received)
    assert receiver.received[0]["kind"] == "run_failed"
    assert receiver.received[0]["ui_path"] == f"/runs/{run.run_ids[-1]}"


def test_stale_snapshot_alert_once(tmp_path, receiver):
    settings = build_lake(tmp_path, days=2)
    settings = dataclasses.replace(settings, alert_webhook_url=receiver.url, stale_after_minutes=60)
    instance = dg.DagsterInstance.ephemeral()
    fresh = evaluate_alerts(instance, settings, None)  # anchors just seen: not stale yet
    assert fresh.skip_reason and not alerts.read_alerts(settings.alerts_log)
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
    settings = dataclasses.replace(settings, alert_webhook_url=_free_port_url())
    result = evaluate_alerts(instance, settings, None)
    assert result.cursor and alerts.read_alerts(settings.alerts_log)
    delivered = alerts.post_webhook(settings.alert_webhook_url, alerts.Alert("x", "y", "/"))
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
    settings = dataclasses.replace(settings, alert_webhook_url="http://127.0.0.1:9/held")
    evaluate_alerts(instance, settings, None)
    assert alerts.read_alerts(settings.alerts_log)
    gate.set()
    assert _wait_for(lambda: released)
    assert released == [True]


def test_slow_webhook_delivery_times_out_without_raising():
    slow = Receiver(delay=1.0)
    try:
        delivered = alerts.post_webhook(
            slow.url, alerts.Alert("x", "y", "/"), timeout=0.2, attempts=2
        )
        assert delivered is False
    finally:
        slow.close()
