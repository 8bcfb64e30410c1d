"""How long one alert-sensor tick takes when the webhook is absent, down, or slow.

    python bench/alert_latency.py [--repeat 5]

A SYNTHETIC two-day lake whose last options file is corrupt gives a failed contract check; the
alert sensor's evaluation is then timed with no webhook, with a webhook URL nothing listens on,
and with a webhook that answers only after three times the delivery timeout. Delivery runs in
the background, so all three should take about as long as writing the alert log.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg

from silver_assets.automation import alerts
from silver_assets.automation.runs import run_dataset
from silver_assets.automation.sensors import evaluate_alerts
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.lake.generator import generate_lake
from silver_assets.settings import PROJECT_ROOT, Settings


def slow_server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(delay)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/down"


def failed_check(root: Path) -> tuple[Settings, dg.DagsterInstance]:
    settings = Settings(
        lake_root=root / "silver",
        state_path=root / "state.json",
        snapshot_root=root / "snapshots",
        audit_root=root / "logs",
        config_dir=PROJECT_ROOT / "config",
    )
    generate_lake(settings.lake_root, days=2, seed=11, tickers=("SPY",), progress=False)
    day = files.options_dates(settings.lake_root)[-1]
    files.options_files(settings.lake_root, day)[0].write_bytes(b"garbage")
    instance = dg.DagsterInstance.ephemeral()
    run_dataset(build_defs(settings), instance, "options", [day.isoformat()])
    return settings, instance


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings, instance = failed_check(Path(tmp))
        slow = slow_server(alerts.WEBHOOK_TIMEOUT_SECONDS * 3)
        webhooks = {
            "no webhook": None,
            "webhook down": closed_port_url(),
            "webhook slow": f"http://127.0.0.1:{slow.server_port}/alerts",
        }
        print(f"{'case':<14} {'median ms':>10} {'max ms':>10}   ({args.repeat} ticks each)")
        for case, url in webhooks.items():
            tick = settings.replace(alert_webhook_url=url)
            seconds = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                evaluate_alerts(instance, tick, None)  # no cursor: the alert is raised each time
                seconds.append(time.perf_counter() - began)
            print(
                f"{case:<14} {1000 * statistics.median(seconds):>10.1f} "
                f"{1000 * max(seconds):>10.1f}"
            )
        slow.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
