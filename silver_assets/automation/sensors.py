"""Sensors: keep snapshots fresh from the state file and the lake, and raise alerts.

Built by :func:`build_sensors` from the settings the definitions are built with (their tick
interval is a setting, read nowhere else):

* ``silver_freshness_sensor`` registers new anchor partitions, records the changed data versions
  as source observations (and the anchors whose files arrived as source materializations, see
  ``sources.assets.arrivals``), and requests runs for exactly the stale partitions (contiguous ones
  share a single-run backfill). Each refresh is requested once, keyed by the data version of what
  it reads: Dagster retries its transient failures (see ``jobs``), and a refresh whose contract
  failed comes back only when those files change. Its cursor holds the versions it last saw, in a
  bounded form, so a daemon restart neither misses a change nor repeats work.
* ``silver_alert_sensor`` polls contract-check evaluations (Dagster fires no sensor for a
  non-blocking check failure by itself) and stale snapshots, and raises one alert per incident.
* ``silver_run_failure_sensor`` raises an alert for a failed run that is neither retried nor
  caused by a failed contract check (that check's alert covers it).
"""

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from silver_assets.anchors import resolve_anchor
from silver_assets.automation.alerts import (
    Alert,
    CheckOutcome,
    covers,
    failed_rule,
    fold_check_outcomes,
    raise_alert,
    run_failure_alert,
    ui_url,
)
from silver_assets.automation.freshness import (
    COMPLETION_ASSET,
    RecordedVersions,
    compact_versions,
    current_versions,
    plan_refresh,
    range_version,
    refresh_version,
)
from silver_assets.automation.jobs import DATASET_JOBS, DATASET_SOURCES
from silver_assets.partitions import (
    PARTITION_TAG,
    PARTITIONS_BY_DATASET,
    RANGE_END_TAG,
    RANGE_START_TAG,
    anchor_keys,
    contiguous_groups,
    range_tags,
)
from silver_assets.query.assets import standing_answers_job
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore
from silver_assets.sources.assets import DATA_VERSION_TAG, arrivals, version_observations

WILL_RETRY_TAG = "dagster/will_retry"
# The data version of the partitions a refresh run checks (what its contract check reads).
CHECKED_VERSION_TAG = "silver/data_version"
REFRESH_TAG = "silver/refresh"
CONTRACT_CHECKS = {
    dataset: dg.AssetCheckKey(dg.AssetKey(source), f"{dataset}_contract")
    for dataset, source in DATASET_SOURCES.items()
}


def _recorded_versions(instance: dg.DagsterInstance, dataset: str) -> RecordedVersions:
    """The data versions Dagster recorded for partitions of the dataset's source."""
    key = dg.AssetKey(DATASET_SOURCES[dataset])

    def recorded(partitions: Iterable[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for partition in partitions:
            record = instance.get_latest_data_version_record(
                key, is_source=True, partition_key=partition
            )
            observation = record.asset_observation if record else None
            found[partition] = observation.tags.get(DATA_VERSION_TAG) if observation else None
        return found

    return recorded


def _previous_versions(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cursor's versions of a dataset; a cursor from before the bounded form is converted."""
    if raw is None or "recent" in raw:
        return raw
    return compact_versions(raw)


def _refresh_key(
    dataset: str, settings: Settings, versions: dict[str, str], first: str, last: str
) -> str:
    """A refresh's identity: its anchors and the data version of what it reads."""
    return f"{dataset}:{first}:{last}:{refresh_version(dataset, settings, versions, first, last)}"


def _requests_for_pending(
    instance: dg.DagsterInstance, pending: dict[str, dict[str, str]], notes: list[str]
) -> list[dg.RunRequest]:
    """A run request for every pending refresh that has no run yet.

    A refresh leaves ``pending`` once a run of it exists, whatever its outcome. Its key carries
    the data version of what it reads, so the same files are never refreshed twice: a run that
    failed its contract is requested again only once a file changes, as a new refresh.
    """
    requests = []
    for base, target in sorted(pending.items()):
        runs = instance.get_runs(filters=dg.RunsFilter(tags={REFRESH_TAG: base}), limit=1)
        if runs:
            if runs[0].status == dg.DagsterRunStatus.FAILURE:
                notes.append(f"{base} failed; it runs again when its files change")
            del pending[base]
            continue
        tags = {
            **range_tags(target["first"], target["last"]),
            REFRESH_TAG: base,
            "silver/trigger": "freshness_sensor",
        }
        if "checked_version" in target:  # absent from refreshes planned by an older version
            tags[CHECKED_VERSION_TAG] = target["checked_version"]
        requests.append(
            dg.RunRequest(run_key=base, job_name=DATASET_JOBS[target["dataset"]].name, tags=tags)
        )
    return requests


def evaluate_freshness(
    instance: dg.DagsterInstance, settings: Settings, cursor: str | None
) -> dg.SensorResult:
    """The freshness sensor's work, callable from tests with any instance and settings."""
    state = json.loads(cursor) if cursor else {}
    pending = state.setdefault("pending", {})
    store = SnapshotStore(settings.snapshot_root)
    additions, notes = [], []
    observations: list[dg.AssetObservation | dg.AssetMaterialization] = []
    for dataset, partitions in PARTITIONS_BY_DATASET.items():
        registered = instance.get_dynamic_partitions(DATASETS[dataset].partitions_name)
        materialized = set(store.partitions(COMPLETION_ASSET[dataset]))
        try:
            plan = plan_refresh(
                dataset,
                settings,
                registered,
                materialized,
                _previous_versions(state.get(dataset)),
                _recorded_versions(instance, dataset),
            )
        except ValueError as exc:  # an unusable state file or lake file skips this dataset only
            notes.append(f"skipped {dataset}: {exc}")
            continue
        if plan.new_keys:
            additions.append(partitions.build_add_request(list(plan.new_keys)))
        known = set(registered) | set(plan.new_keys)
        observed = {
            day: plan.versions[day]
            for day in plan.changed_dates
            if day in known and day in plan.versions
        }
        observations += version_observations(DATASET_SOURCES[dataset], observed)
        # A new anchor is observed by its run; its files have arrived already.
        observations += arrivals(
            instance,
            DATASET_SOURCES[dataset],
            {day: plan.versions[day] for day in sorted(known) if day in plan.versions},
        )
        order = [*registered, *plan.new_keys]
        for first, last in contiguous_groups(order, plan.stale_keys):
            ours = {k: old for k, old in pending.items() if old["dataset"] == dataset}
            # An unlaunched refresh of the same files that covers these anchors will do.
            if any(
                old["first"] <= first
                and last <= old["last"]
                and key == _refresh_key(dataset, settings, plan.versions, old["first"], old["last"])
                for key, old in ours.items()
            ):
                continue
            # A newer refresh of the same anchors supersedes an older, unfinished one.
            for key, old in ours.items():
                if first <= old["first"] and old["last"] <= last:
                    del pending[key]
            base = _refresh_key(dataset, settings, plan.versions, first, last)
            pending[base] = {
                "dataset": dataset,
                "first": first,
                "last": last,
                "checked_version": range_version(plan.versions, first, last),
            }
        state[dataset] = compact_versions(plan.versions)
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


# ------------------------------------------------------------------------------------ alerts


RESOLVED = frozenset({"SUCCEEDED", "FAILED"})
HISTORY_LIMIT = 50


def _partition_label(tags: Mapping[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}..{tags.get(RANGE_END_TAG)}"
    return None


def _check_outcome(
    instance: dg.DagsterInstance,
    settings: Settings,
    dataset: str,
    record: Any,
    evaluation: dg.AssetCheckEvaluation,
) -> CheckOutcome:
    """An evaluation in alert terms: its partition and the data version it checked.

    A run of the checks alone covers the state's anchor; a run the freshness sensor did not
    request carries no version, so it is read from the lake.
    """
    run = instance.get_run_by_id(record.run_id)
    tags = run.tags if run is not None else {}
    partition = _partition_label(tags) or anchor_keys(dataset, settings)[-1]
    first, _, last = partition.partition("..")
    version = tags.get(CHECKED_VERSION_TAG) or range_version(
        current_versions(dataset, settings), first, last or first
    )
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    status = str(metadata.get("status", "PASSED" if evaluation.passed else "FAILED"))
    rule, files = failed_rule(status, metadata) if not evaluation.passed else (None, ())
    return CheckOutcome(
        check=evaluation.check_name,
        asset=evaluation.asset_key.to_user_string(),
        partition=partition,
        data_version=version,
        passed=evaluation.passed,
        status=status,
        message=evaluation.description or f"{evaluation.check_name} failed",
        run_id=record.run_id,
        rule=rule,
        files=files,
    )


def _check_outcomes(
    instance: dg.DagsterInstance, settings: Settings, seen: dict[str, list[int]]
) -> list[CheckOutcome]:
    """Contract-check evaluations not read before, oldest first.

    An execution record is created when its run starts (planned) and resolved in place later,
    with the same id, so only resolved records are read and the cursor keeps their ids (only
    those still inside the window read, so it stays small).
    """
    outcomes: list[tuple[int, CheckOutcome]] = []
    for dataset, key in CONTRACT_CHECKS.items():
        done = set(seen.get(dataset, []))
        history = instance.event_log_storage.get_asset_check_execution_history(
            key, limit=HISTORY_LIMIT
        )
        for record in reversed(history):
            if record.status.value not in RESOLVED or record.id in done:
                continue
            done.add(record.id)
            evaluation = record.event.asset_check_evaluation if record.event else None
            if evaluation is not None:
                outcome = _check_outcome(instance, settings, dataset, record, evaluation)
                outcomes.append((record.id, outcome))
        window = {record.id for record in history}
        seen[dataset] = sorted(done & window)
    return [outcome for _, outcome in sorted(outcomes, key=lambda pair: pair[0])]


def _stale_alerts(
    settings: Settings,
    first_seen: dict[str, float],
    alerted: set[str],
    incidents: dict[str, dict[str, Any]],
) -> list[Alert]:
    """The state's anchor has waited longer than the allowed age for its snapshot.

    The wait starts when this sensor first saw the anchor (kept in its cursor), not at the state
    file's modification time, which other jobs' keys also touch. One alert per anchor, and none
    while a failed contract check already explains the wait. Markers of anchors the state has
    moved past are dropped, so the cursor stays small.
    """
    alerts, now, current = [], time.time(), set()
    for dataset, family in COMPLETION_ASSET.items():
        anchor = resolve_anchor(dataset, settings.state_path)
        if anchor.is_fallback:
            continue
        key = anchor_keys(dataset, settings, anchor=anchor.date)[-1]
        marker = f"{family}:{key}"
        current.add(marker)
        if SnapshotStore(settings.snapshot_root).resolve(family, key) is not None:
            first_seen.pop(marker, None)
            continue
        waited_min = (now - first_seen.setdefault(marker, now)) / 60
        explained = any(
            incident["check"] == CONTRACT_CHECKS[dataset].name
            and covers(incident["partition"], key)
            for incident in incidents.values()
        )
        if marker in alerted or explained or waited_min < settings.stale_after_minutes:
            continue
        alerted.add(marker)
        alerts.append(
            Alert(
                kind="stale_snapshot",
                message=f"{family} has no snapshot for anchor {key} after {waited_min:.0f} min",
                ui_url=ui_url(settings.ui_base_url, f"/assets/{family}?view=partitions"),
                asset=family,
                partition=key,
                status="STALE",
            )
        )
    for marker in set(first_seen) - current:
        del first_seen[marker]
    alerted &= current
    return alerts


def evaluate_alerts(
    instance: dg.DagsterInstance, settings: Settings, cursor: str | None
) -> dg.SensorResult:
    """The alert sensor's work, callable from tests with any instance and settings."""
    state = json.loads(cursor) if cursor else {}
    seen_checks = state.get("checks", {})
    first_seen = state.get("first_seen", {})
    alerted = set(state.get("alerted", []))
    outcomes = _check_outcomes(instance, settings, seen_checks)
    alerts, incidents = fold_check_outcomes(
        state.get("incidents", {}), outcomes, settings.ui_base_url
    )
    alerts += _stale_alerts(settings, first_seen, alerted, incidents)
    for alert in alerts:
        raise_alert(alert, settings.alerts_log, settings.alert_webhook_url)
    cursor = json.dumps(
        {
            "checks": seen_checks,
            "incidents": incidents,
            "first_seen": first_seen,
            "alerted": sorted(alerted),
        },
        sort_keys=True,
    )
    return dg.SensorResult(
        cursor=cursor,
        skip_reason=None if alerts else "no new check incident and no stale snapshot",
    )


def _failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.asset_check_evaluation for r in records]
    return [
        e.check_name
        for e in evaluations
        if e is not None
        and not e.passed
        and e.severity == dg.AssetCheckSeverity.ERROR
        and e.blocking
    ]


def build_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    """The project's sensors, ticking every ``settings.sensor_interval_seconds``."""
    interval = settings.sensor_interval_seconds

    @dg.sensor(
        name="silver_freshness_sensor",
        jobs=list(DATASET_JOBS.values()),
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="New anchors and rewritten files in the lake become fresh snapshots.",
    )
    def silver_freshness_sensor(context: dg.SensorEvaluationContext, silver: SilverLakeResource):
        return evaluate_freshness(context.instance, silver.settings, context.cursor)

    @dg.sensor(
        name="silver_alert_sensor",
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="One alert per failed contract check (blocking or not) and its resolution, "
        "and alerts on stale snapshots.",
    )
    def silver_alert_sensor(context: dg.SensorEvaluationContext, silver: SilverLakeResource):
        return evaluate_alerts(context.instance, silver.settings, context.cursor)

    @dg.run_failure_sensor(
        name="silver_run_failure_sensor",
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Alerts on a failed run that is not retried and not a failed contract check.",
    )
    def silver_run_failure_sensor(context: dg.RunFailureSensorContext, silver: SilverLakeResource):
        settings = silver.settings
        run = context.dagster_run
        alert = run_failure_alert(
            run_id=run.run_id,
            job_name=run.job_name,
            partition=_partition_label(run.tags),
            message=context.failure_event.message or "run failed",
            failed_checks=_failed_blocking_checks(context.instance, run.run_id),
            will_retry=run.tags.get(WILL_RETRY_TAG) == "true",
            base_url=settings.ui_base_url,
        )
        if alert is not None:
            raise_alert(alert, settings.alerts_log, settings.alert_webhook_url)

    return [silver_freshness_sensor, silver_alert_sensor, silver_run_failure_sensor]


@dg.run_status_sensor(
    name="standing_answers_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=list(DATASET_JOBS.values()),
    request_job=standing_answers_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreeze the standing answers after every successful dataset run.",
)
def standing_answers_sensor(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"standing:{context.dagster_run.run_id}")
