"""Launch dataset jobs for anchor dates: one single-run backfill per dataset.

Used by the CLI and the tests. Partition keys are registered first (in date order, so Dagster's
key order matches the calendar), then the dataset's job runs the whole range in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS, OBSERVE_JOBS
from silver_assets.partitions import PARTITIONS_BY_DATASET, register_partitions

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class DatasetRun:
    dataset: str
    keys: tuple[str, ...]
    run_id: str
    success: bool
    failed_checks: tuple[str, ...]


def partition_range_tags(instance: dg.DagsterInstance, dataset: str, keys: Sequence[str]) -> dict:
    """Tags that target ``keys`` (sorted) as one run: a single key, or a range of keys."""
    if not keys:
        raise ValueError(f"no {dataset} partition keys to run")
    ordered = sorted(keys)
    if len(ordered) == 1:
        return {"dagster/partition": ordered[0]}
    known = instance.get_dynamic_partitions(PARTITIONS_BY_DATASET[dataset].name)
    missing = sorted(set(ordered) - set(known))
    if missing:
        raise ValueError(f"{dataset} partitions not registered: {', '.join(missing[:5])}")
    return {RANGE_START_TAG: ordered[0], RANGE_END_TAG: ordered[-1]}


def run_dataset(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    dataset: str,
    keys: Sequence[str],
) -> DatasetRun:
    """Register ``keys``, observe the source, and materialize the dataset's job in one run."""
    register_partitions(instance, dataset, list(keys))
    tags = partition_range_tags(instance, dataset, keys)
    observe = defs.resolve_job_def(OBSERVE_JOBS[dataset].name)
    observe.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    job = defs.resolve_job_def(DATASET_JOBS[dataset].name)
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    failed = tuple(
        evaluation.check_name
        for evaluation in (
            event.event_specific_data
            for event in result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        if not evaluation.passed
    )
    return DatasetRun(dataset, tuple(sorted(keys)), result.run_id, result.success, failed)
