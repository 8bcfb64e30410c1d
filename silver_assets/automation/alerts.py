"""Alerts: one structured JSON line in the alerts log, and a webhook POST when one is configured.

The log line is written at once. The webhook is called from a background thread with a timeout
and a few retries, so a webhook that is down or slow never blocks or crashes the sensor that
raised the alert; delivery failures are logged, not raised.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_log = logging.getLogger(__name__)
_lock = threading.Lock()

WEBHOOK_TIMEOUT_SECONDS = 2.0
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_SECONDS = 0.5


@dataclass(frozen=True)
class Alert:
    """What went wrong, where, and where to look in the UI."""

    kind: str  # check_failed | run_failed | stale_snapshot
    message: str
    ui_path: str
    asset: str | None = None
    partition: str | None = None
    check: str | None = None
    status: str | None = None
    run_id: str | None = None
    raised_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def write_alert(alert: Alert, log_path: Path) -> None:
    """Append the alert as one JSON line; an unwritable log is reported, never raised."""
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, log_path.open("a", encoding="utf-8") as handle:
            handle.write(alert.to_json() + "\n")
    except OSError as exc:
        _log.error("alerts log %s is not writable (%s); alert was %s", log_path, exc, alert)


def read_alerts(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line]


def post_webhook(
    url: str,
    alert: Alert,
    timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    attempts: int = WEBHOOK_ATTEMPTS,
) -> bool:
    """POST the alert as JSON, retrying with backoff; True once a 2xx answer arrives."""
    body = alert.to_json().encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _log.warning("alert webhook attempt %d/%d failed: %s", attempt, attempts, exc)
        if attempt < attempts:
            time.sleep(WEBHOOK_BACKOFF_SECONDS * attempt)
    return False


def raise_alert(alert: Alert, log_path: Path, webhook_url: str | None) -> threading.Thread | None:
    """Log the alert now and, with a webhook, deliver it in the background.

    Returns the delivery thread (tests join it), or None when there is no webhook.
    """
    write_alert(alert, log_path)
    if not webhook_url:
        return None
    thread = threading.Thread(
        target=post_webhook, args=(webhook_url, alert), name="silver-alert-webhook", daemon=True
    )
    thread.start()
    return thread
