"""Launch dataset jobs for anchor dates: one single-run backfill per dataset.

Used by the CLI and the tests. Partition keys are registered first (in date order, so Dagster's
key order matches the calendar), then the dataset's job runs the whole range in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS, OBSERVE_JOBS
from silver_assets.partitions import (
    PARTITIONS_BY_DATASET,
    contiguous_groups,
    range_tags,
    register_partitions,
    with_lookback,
)
from silver_assets.settings import Settings

# Dagster's console logger prints DEBUG events by default; INFO keeps progress and errors.
INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass(frozen=True)
class DatasetRun:
    dataset: str
    keys: tuple[str, ...]
    run_ids: tuple[str, ...]
    success: bool
    failed_checks: tuple[str, ...]


def settings_of(defs: dg.Definitions) -> Settings:
    """The settings the definitions were built with (their ``silver`` resource)."""
    return defs.resources["silver"].settings


def newest_alone(order: list[str], groups: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``groups`` with the newest key of the last one split off into a run of its own, last.

    A ranged run stores its partitions' materializations in no fixed order (Dagster iterates a
    set), and the UI's "latest materialization" is the last one stored. A run of its own for
    the newest anchor makes that the newest anchor.
    """
    if not groups or groups[-1][0] == groups[-1][1]:
        return groups
    first, last = groups[-1]
    return [*groups[:-1], (first, order[order.index(last) - 1]), (last, last)]


def run_dataset(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    dataset: str,
    keys: Sequence[str],
) -> DatasetRun:
    """Register ``keys``, observe the source, and materialize the dataset's job.

    Options runs take along the unscanned lake dates of the first anchor's IV-rank lookback.

    Keys that are neighbours in Dagster's partition order share one single-run backfill; keys
    registered out of date order (an anchor first, its history later) get one run per group,
    earliest first, and the newest key runs alone, last. Stops at the first failed run.
    """
    if not keys:
        raise ValueError(f"no {dataset} partition keys to run")
    keys = with_lookback(dataset, settings_of(defs), list(keys))
    register_partitions(instance, dataset, keys)
    order = instance.get_dynamic_partitions(PARTITIONS_BY_DATASET[dataset].name)
    observe = defs.resolve_job_def(OBSERVE_JOBS[dataset].name)
    job = defs.resolve_job_def(DATASET_JOBS[dataset].name)
    run_ids, failed = [], []
    for first, last in newest_alone(order, contiguous_groups(order, list(keys))):
        tags = range_tags(first, last)
        observe.execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config=INFO_LOGS
        )
        result = job.execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config=INFO_LOGS
        )
        run_ids.append(result.run_id)
        failed += [
            f"{evaluation.check_name} ({evaluation.description})"
            for evaluation in (
                event.event_specific_data
                for event in result.all_events
                if event.event_type_value == "ASSET_CHECK_EVALUATION"
            )
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ]
        if not result.success:
            return DatasetRun(dataset, tuple(sorted(keys)), tuple(run_ids), False, tuple(failed))
    return DatasetRun(dataset, tuple(sorted(keys)), tuple(run_ids), True, tuple(failed))
