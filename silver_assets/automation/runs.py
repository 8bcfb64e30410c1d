"""Launch dataset jobs for anchor dates: one single-run backfill per dataset.

Used by the CLI and the tests. Partition keys are registered first (in date order, so Dagster's
key order matches the calendar), then the dataset's job runs the whole range in one run.

Runs execute in the launching process. Each carries that process's pid and host as tags, so a
later command can tell a run whose process was killed (it stays STARTED forever, and would hold
a slot of the daemon's run queue) from one still running, and mark it failed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS
from silver_assets.metrics.compute import FAMILY_INPUTS
from silver_assets.partitions import (
    contiguous_groups,
    range_tags,
    register_partitions,
    with_lookback,
)
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import Settings
from silver_assets.sources.assets import record_observation

# Dagster's console logger prints DEBUG events by default; INFO keeps progress and errors.
INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
PID_TAG = "silver/pid"
HOST_TAG = "silver/hostname"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass(frozen=True)
class DatasetRun:
    dataset: str
    keys: tuple[str, ...]
    run_ids: tuple[str, ...]
    success: bool
    failed_checks: tuple[str, ...]


def settings_of(defs: dg.Definitions) -> Settings:
    """The settings the definitions were built with (their ``silver`` resource)."""
    silver = (defs.resources or {}).get("silver")
    if not isinstance(silver, SilverLakeResource):
        raise ValueError("these definitions have no silver resource to take settings from")
    return silver.settings


def launcher_tags() -> dict[str, str]:
    """Tags naming the process that executes a run in-process."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished in-process runs of this host whose process is gone.

    Returns their run ids. Runs of other hosts, and runs the daemon launched (no pid tag), are
    left to Dagster's run monitoring (``dagster_home/dagster.yaml``).
    """
    host = socket.gethostname()
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: host}))
    orphaned = [
        run
        for run in runs
        if run.tags.get(PID_TAG, "").isdigit() and not process_alive(int(run.tags[PID_TAG]))
    ]
    for run in orphaned:
        instance.report_run_failed(
            run,
            f"process {run.tags[PID_TAG]} on {host} that executed this run is gone "
            "(killed?); marked failed by the next silver-assets command",
        )
    return [run.run_id for run in orphaned]


def newest_alone(order: Sequence[str], groups: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``groups``, then the newest key of the last one again in a run of its own.

    A ranged run stores its partitions' materializations in no fixed order (Dagster iterates a
    set), and the UI's "latest materialization" is the last one stored. Re-running the newest
    anchor alone afterwards makes that the newest anchor. The range itself stays whole, so its
    contract check covers every date before anything of the range is written.
    """
    if not groups or groups[-1][0] == groups[-1][1]:
        return groups
    last = groups[-1][1]
    return [*groups, (last, last)]


def run_dataset(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    dataset: str,
    keys: Sequence[str],
    assets: Sequence[str] | None = None,
) -> DatasetRun:
    """Register ``keys``, observe the source (runless events), and materialize the dataset's job.

    Options runs of the families take along the unscanned lake dates of the first anchor's
    IV-rank lookback. ``assets`` limits the runs to those metric assets, with the source's
    contract check still first (parallel workers scan the days before computing the families).

    Keys that are neighbours in Dagster's partition order share one single-run backfill; keys
    registered out of date order (an anchor first, its history later) get one run per group,
    earliest first, and the newest key runs alone, last. Stops at the first failed run.
    """
    if not keys:
        raise ValueError(f"no {dataset} partition keys to run")
    if assets is None or set(assets) & set(FAMILY_INPUTS):
        keys = with_lookback(dataset, settings_of(defs), list(keys))
    register_partitions(instance, dataset, keys)
    order = instance.get_dynamic_partitions(DATASETS[dataset].partitions_name)
    # Runless, like the sensor's: an observation run would add a run and a dozen events.
    record_observation(instance, dataset, settings_of(defs).lake_root, keys)
    job = defs.resolve_job_def(DATASET_JOBS[dataset].name)
    if assets is not None:
        job = job.get_subset(
            asset_selection={dg.AssetKey(name) for name in assets},
            asset_check_selection=job.asset_layer.asset_graph.asset_check_keys,
        )
    run_ids, failed = [], []
    for first, last in newest_alone(order, contiguous_groups(order, list(keys))):
        tags = {**range_tags(first, last), **launcher_tags()}
        result = job.execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config=INFO_LOGS
        )
        run_ids.append(result.run_id)
        failed += [
            f"{evaluation.check_name} ({evaluation.description})"
            for evaluation in (
                event.asset_check_evaluation_data
                for event in result.all_events
                if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ]
        if not result.success:
            return DatasetRun(dataset, tuple(sorted(keys)), tuple(run_ids), False, tuple(failed))
    return DatasetRun(dataset, tuple(sorted(keys)), tuple(run_ids), True, tuple(failed))
