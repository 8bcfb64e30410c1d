"""Sensors: keep snapshots fresh from the state file and the lake, and raise alerts.

* ``silver_freshness_sensor`` registers new anchor partitions, records the changed data versions
  as source observations, and requests runs for exactly the stale partitions (contiguous ones
  share a single-run backfill). Its cursor holds the versions it last saw, so a daemon restart
  neither misses a change nor repeats work.
* ``silver_alert_sensor`` polls contract-check evaluations (Dagster fires no sensor for a
  non-blocking check failure by itself) and stale snapshots, and raises alerts.
* ``silver_run_failure_sensor`` raises an alert for every failed run.
"""

import hashlib
import json
import time

import dagster as dg

from silver_assets.anchors import resolve_anchor
from silver_assets.automation.alerts import Alert, raise_alert
from silver_assets.automation.freshness import COMPLETION_ASSET, plan_refresh
from silver_assets.automation.jobs import DATASET_JOBS, DATASET_SOURCES
from silver_assets.partitions import (
    PARTITION_TAG,
    PARTITIONS_BY_DATASET,
    RANGE_END_TAG,
    RANGE_START_TAG,
    contiguous_groups,
    range_tags,
)
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import Settings

DATA_VERSION_TAG = "dagster/data_version"
SENSOR_INTERVAL = Settings.from_env().sensor_interval_seconds
CONTRACT_CHECKS = {
    dataset: dg.AssetCheckKey(dg.AssetKey(source), f"{dataset}_contract")
    for dataset, source in DATASET_SOURCES.items()
}


REFRESH_TAG = "silver/refresh"
MAX_ATTEMPTS = 3


def _requests_for_pending(
    instance: dg.DagsterInstance, pending: dict[str, dict[str, str]], notes: list[str]
) -> list[dg.RunRequest]:
    """A run request for every pending refresh not yet done; a failed one is tried again.

    The run key carries the attempt number: Dagster drops a request whose key already ran, so
    an in-flight refresh is not duplicated, and a failed one gets a new key. A refresh leaves
    ``pending`` once a run of it succeeded, or stays there after ``MAX_ATTEMPTS`` failures.
    """
    requests = []
    for base, target in sorted(pending.items()):
        runs = instance.get_runs(filters=dg.RunsFilter(tags={REFRESH_TAG: base}))
        if any(run.status == dg.DagsterRunStatus.SUCCESS for run in runs):
            del pending[base]
            continue
        failed = sum(
            run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
            for run in runs
        )
        if failed >= MAX_ATTEMPTS:
            notes.append(f"gave up on {base} after {failed} failed runs")
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{base}:{failed}",
                job_name=DATASET_JOBS[target["dataset"]].name,
                tags={
                    **range_tags(target["first"], target["last"]),
                    REFRESH_TAG: base,
                    "silver/trigger": "freshness_sensor",
                },
            )
        )
    return requests


def evaluate_freshness(
    instance: dg.DagsterInstance, settings: Settings, cursor: str | None
) -> dg.SensorResult:
    """The freshness sensor's work, callable from tests with any instance and settings."""
    state = json.loads(cursor) if cursor else {}
    pending = state.setdefault("pending", {})
    store_root = settings.snapshot_root
    additions, observations, notes = [], [], []
    for dataset, partitions in PARTITIONS_BY_DATASET.items():
        registered = instance.get_dynamic_partitions(partitions.name)
        done_dir = store_root / COMPLETION_ASSET[dataset]
        materialized = {p.stem for p in done_dir.glob("*.parquet")} if done_dir.is_dir() else set()
        try:
            plan = plan_refresh(dataset, settings, registered, materialized, state.get(dataset))
        except ValueError as exc:  # an unusable state file or lake file skips this dataset only
            notes.append(f"skipped {dataset}: {exc}")
            continue
        if plan.new_keys:
            additions.append(partitions.build_add_request(list(plan.new_keys)))
        known = set(registered) | set(plan.new_keys)
        observations += [
            dg.AssetObservation(
                asset_key=DATASET_SOURCES[dataset],
                partition=day,
                tags={DATA_VERSION_TAG: plan.versions[day]},
            )
            for day in plan.changed_dates
            if day in known and day in plan.versions
        ]
        order = [*registered, *plan.new_keys]
        # Stable across processes (unlike hash()), so a restarted daemon dedupes the same run.
        fingerprint = hashlib.sha256(
            json.dumps(plan.versions, sort_keys=True).encode()
        ).hexdigest()[:12]
        for first, last in contiguous_groups(order, plan.stale_keys):
            # A newer refresh of the same anchors supersedes an older, unfinished one.
            for key, old in list(pending.items()):
                inside = first <= old["first"] and old["last"] <= last
                if old["dataset"] == dataset and inside:
                    del pending[key]
            base = f"{dataset}:{first}:{last}:{fingerprint}"
            pending[base] = {"dataset": dataset, "first": first, "last": last}
        state[dataset] = plan.versions
        if plan.stale_keys:
            notes.append(f"{dataset}: stale {', '.join(plan.stale_keys)}")
    requests = _requests_for_pending(instance, pending, notes)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=additions,
        asset_events=observations,
        cursor=json.dumps(state, sort_keys=True),
        skip_reason=None if requests else "; ".join(notes) or "no new anchor and no changed files",
    )


@dg.sensor(
    name="silver_freshness_sensor",
    jobs=list(DATASET_JOBS.values()),
    minimum_interval_seconds=SENSOR_INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New anchors and rewritten files in the lake become fresh snapshots.",
)
def silver_freshness_sensor(context: dg.SensorEvaluationContext, silver: SilverLakeResource):
    return evaluate_freshness(context.instance, silver.settings, context.cursor)


# ------------------------------------------------------------------------------------ alerts


RESOLVED = frozenset({"SUCCEEDED", "FAILED"})
SEEN_PER_CHECK = 200


def _check_alerts(instance: dg.DagsterInstance, seen: dict[str, list[int]]) -> list[Alert]:
    """Alerts for failed check evaluations not alerted before.

    An execution record is created when its run starts (planned) and resolved in place later,
    with the same id, so only resolved records are read and the cursor keeps their ids.
    """
    alerts = []
    for dataset, key in CONTRACT_CHECKS.items():
        done = set(seen.get(dataset, []))
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
        for record in reversed(history):
            if record.status.value not in RESOLVED or record.id in done:
                continue
            done.add(record.id)
            event = record.event
            evaluation = event.dagster_event.event_specific_data if event else None
            if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
                continue
            status = evaluation.metadata.get("status")
            run = instance.get_run_by_id(record.run_id)
            alerts.append(
                Alert(
                    kind="check_failed",
                    message=evaluation.description or f"{key.name} failed",
                    ui_path=f"/assets/{key.asset_key.to_user_string()}?view=checks",
                    asset=key.asset_key.to_user_string(),
                    partition=_partition_label(run.tags) if run is not None else None,
                    check=key.name,
                    status=status.value if status is not None else None,
                    run_id=record.run_id,
                )
            )
        seen[dataset] = sorted(done)[-SEEN_PER_CHECK:]
    return alerts


def _partition_label(tags: dict[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}..{tags.get(RANGE_END_TAG)}"
    return None


def _stale_alerts(
    settings: Settings, first_seen: dict[str, float], alerted: set[str]
) -> list[Alert]:
    """The state's anchor has waited longer than the allowed age for its snapshot.

    The wait starts when this sensor first saw the anchor (kept in its cursor), not at the state
    file's modification time, which other jobs' keys also touch. One alert per anchor.
    """
    alerts, now = [], time.time()
    for dataset, family in COMPLETION_ASSET.items():
        anchor = resolve_anchor(dataset, settings.state_path)
        if anchor.is_fallback:
            continue
        marker = f"{family}:{anchor.date.isoformat()}"
        if (settings.snapshot_root / family / f"{anchor.date.isoformat()}.parquet").exists():
            first_seen.pop(marker, None)
            continue
        waited_min = (now - first_seen.setdefault(marker, now)) / 60
        if marker in alerted or waited_min < settings.stale_after_minutes:
            continue
        alerted.add(marker)
        alerts.append(
            Alert(
                kind="stale_snapshot",
                message=f"{family} has no snapshot for anchor {anchor.date} after "
                f"{waited_min:.0f} min",
                ui_path=f"/assets/{family}?view=partitions",
                asset=family,
                partition=anchor.date.isoformat(),
                status="STALE",
            )
        )
    return alerts


def evaluate_alerts(
    instance: dg.DagsterInstance, settings: Settings, cursor: str | None
) -> dg.SensorResult:
    state = json.loads(cursor) if cursor else {}
    seen_checks = state.get("checks", {})
    first_seen = state.get("first_seen", {})
    alerted = set(state.get("alerted", []))
    alerts = _check_alerts(instance, seen_checks) + _stale_alerts(settings, first_seen, alerted)
    for alert in alerts:
        raise_alert(alert, settings.alerts_log, settings.alert_webhook_url)
    cursor = json.dumps(
        {"checks": seen_checks, "first_seen": first_seen, "alerted": sorted(alerted)},
        sort_keys=True,
    )
    return dg.SensorResult(
        cursor=cursor,
        skip_reason=None if alerts else "no failed checks and no stale snapshots",
    )


@dg.sensor(
    name="silver_alert_sensor",
    minimum_interval_seconds=SENSOR_INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts on failed contract checks (blocking or not) and stale snapshots.",
)
def silver_alert_sensor(context: dg.SensorEvaluationContext, silver: SilverLakeResource):
    return evaluate_alerts(context.instance, silver.settings, context.cursor)


@dg.run_failure_sensor(
    name="silver_run_failure_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts on every failed run.",
)
def silver_run_failure_sensor(context: dg.RunFailureSensorContext, silver: SilverLakeResource):
    settings = silver.settings
    run = context.dagster_run
    raise_alert(
        Alert(
            kind="run_failed",
            message=context.failure_event.message or "run failed",
            ui_path=f"/runs/{run.run_id}",
            partition=_partition_label(run.tags),
            status="FAILURE",
            run_id=run.run_id,
            asset=run.job_name,
        ),
        settings.alerts_log,
        settings.alert_webhook_url,
    )


SENSORS = [silver_freshness_sensor, silver_alert_sensor, silver_run_failure_sensor]
