"""Alerts: one structured JSON line in the alerts log, and a webhook POST when one is configured.

One root cause raises one alert. :func:`fold_check_outcomes` turns contract-check evaluations into
incidents: the first failure of a check for a partition, data version and status raises
``check_failed``; later evaluations that fail the same way (reruns, retries, the hourly check) are
folded into it by run id; the next passing evaluation raises ``resolved`` and closes it. The run
failures a failed blocking check causes raise nothing of their own (:func:`run_failure_alert`).

The log line is written at once. The webhook is called from a background thread with a timeout
and a few retries, so a webhook that is down or slow never blocks or crashes the sensor that
raised the alert; delivery failures are logged, not raised.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)
_lock = threading.Lock()

WEBHOOK_TIMEOUT_SECONDS = 2.0
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF_SECONDS = 0.5
# Run ids kept per open incident: enough to find the runs, bounded however often it reruns.
MAX_FOLDED_RUNS = 20


@dataclass(frozen=True)
class Alert:
    """What went wrong, where, which rule and file, and the full UI link to look at."""

    kind: str  # check_failed | resolved | run_failed | stale_snapshot
    message: str
    ui_url: str
    asset: str | None = None
    partition: str | None = None
    check: str | None = None
    status: str | None = None
    rule: str | None = None
    files: tuple[str, ...] = ()
    data_version: str | None = None
    run_ids: tuple[str, ...] = ()
    raised_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def ui_url(base_url: str, path: str) -> str:
    """A full link into the Dagster UI (``path`` starts with a slash)."""
    return base_url.rstrip("/") + path


@dataclass(frozen=True)
class CheckOutcome:
    """One resolved evaluation of a contract check, in the terms alerts need."""

    check: str
    asset: str
    partition: str  # a partition key, or "first..last" for a range
    data_version: str
    passed: bool
    status: str
    message: str
    run_id: str
    rule: str | None = None
    files: tuple[str, ...] = ()


def failed_rule(status: str, metadata: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(the rule that failed, the files that broke it) from a contract check's metadata."""
    missing = metadata.get("missing_columns") or {}
    unreadable = metadata.get("unreadable_files") or {}
    samples = metadata.get("sample_failures") or []
    files = set(missing) | set(unreadable) | {s["file"] for s in samples if s.get("file")}
    if missing:
        columns = sorted({column for columns in missing.values() for column in columns})
        rule = f"required columns present (missing: {', '.join(columns)})"
    elif unreadable:
        rule = "readable Parquet"
    elif samples:
        rule = ", ".join(sorted({str(s.get("check")) for s in samples}))
    else:
        rule = status
    return rule, tuple(sorted(files))


def _range(partition: str) -> tuple[str, str]:
    first, _, last = partition.partition("..")
    return first, last or first


def covers(outer: str, inner: str) -> bool:
    """Whether partition (range) ``outer`` includes every key of ``inner``."""
    (a, b), (c, d) = _range(outer), _range(inner)
    return a <= c and d <= b


def _incident_alert(kind: str, incident: Mapping[str, Any], message: str, base_url: str) -> Alert:
    return Alert(
        kind=kind,
        message=message,
        ui_url=ui_url(base_url, f"/assets/{incident['asset']}?view=checks"),
        asset=incident["asset"],
        partition=incident["partition"],
        check=incident["check"],
        status=incident["status"],
        rule=incident["rule"],
        files=tuple(incident["files"]),
        data_version=incident["data_version"],
        run_ids=tuple(incident["run_ids"]),
    )


def fold_check_outcomes(
    incidents: Mapping[str, Mapping[str, Any]], outcomes: Sequence[CheckOutcome], base_url: str
) -> tuple[list[Alert], dict[str, dict[str, Any]]]:
    """The alerts for ``outcomes`` (in event order) and the open incidents afterwards.

    ``incidents`` (JSON-ready, kept in the alert sensor's cursor) maps "check partition" to the
    open failure. A failure with the same data version and status as the open one is folded into
    it; any other failure opens a new incident with its own alert. A pass closes every open
    incident of the check whose partitions it covers, with one ``resolved`` alert each.
    """
    open_ = {key: {**value, "run_ids": list(value["run_ids"])} for key, value in incidents.items()}
    # (the incident, the passing outcome that closed it or None for a new failure), in order
    events: list[tuple[dict[str, Any], CheckOutcome | None]] = []
    for outcome in outcomes:
        if outcome.passed:
            for key, incident in list(open_.items()):
                if incident["check"] == outcome.check and covers(
                    outcome.partition, incident["partition"]
                ):
                    events.append((open_.pop(key), outcome))
            continue
        key = f"{outcome.check} {outcome.partition}"
        current = open_.get(key)
        if current is not None and (current["data_version"], current["status"]) == (
            outcome.data_version,
            outcome.status,
        ):
            if outcome.run_id not in current["run_ids"]:
                current["run_ids"] = [*current["run_ids"], outcome.run_id][-MAX_FOLDED_RUNS:]
            continue
        incident = {
            "check": outcome.check,
            "asset": outcome.asset,
            "partition": outcome.partition,
            "data_version": outcome.data_version,
            "status": outcome.status,
            "rule": outcome.rule,
            "files": list(outcome.files),
            "message": outcome.message,
            "run_ids": [outcome.run_id],
        }
        open_[key] = incident
        events.append((incident, None))
    alerts = []
    for incident, closed_by in events:
        if closed_by is None:
            alerts.append(_incident_alert("check_failed", incident, incident["message"], base_url))
            continue
        message = f"{incident['check']} passes again for {incident['partition']}"
        alert = _incident_alert("resolved", incident, message, base_url)
        alerts.append(
            dataclasses.replace(alert, status=closed_by.status, data_version=closed_by.data_version)
        )
    return alerts, open_


def run_failure_alert(
    run_id: str,
    job_name: str,
    partition: str | None,
    message: str,
    failed_checks: Sequence[str],
    will_retry: bool,
    base_url: str,
) -> Alert | None:
    """The alert for a failed run, or None when it has another owner.

    A run stopped by a failed blocking check is that check's incident; a run Dagster will retry
    is not over yet (its last attempt alerts if it fails too).
    """
    if failed_checks or will_retry:
        return None
    return Alert(
        kind="run_failed",
        message=message,
        ui_url=ui_url(base_url, f"/runs/{run_id}"),
        asset=job_name,
        partition=partition,
        status="FAILURE",
        run_ids=(run_id,),
    )


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
