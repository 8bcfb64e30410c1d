"""Launch dataset jobs for anchor dates: one single-run backfill per dataset.

Used by the CLI and the tests. Partition keys are registered first (in date order, so Dagster's
key order matches the calendar), then the dataset's job runs the whole range in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS, OBSERVE_JOBS
from silver_assets.metrics.compute import FAMILY_INPUTS
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


def run_dataset(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    dataset: str,
    keys: Sequence[str],
    assets: Sequence[str] | None = None,
) -> DatasetRun:
    """Register ``keys``, observe the source, and materialize the dataset's job.

    Options runs of the families take along the unscanned lake dates of the first anchor's
    IV-rank lookback. ``assets`` limits the runs to those metric assets, with the source's
    contract check still first (parallel workers scan the days before computing the families).

    Keys that are neighbours in Dagster's partition order share one single-run backfill; keys
    registered out of date order (an anchor first, its history later) get one run per group,
    earliest first. Stops at the first failed run.
    """
    if not keys:
        raise ValueError(f"no {dataset} partition keys to run")
    if assets is None or set(assets) & set(FAMILY_INPUTS):
        keys = with_lookback(dataset, settings_of(defs), list(keys))
    register_partitions(instance, dataset, keys)
    order = instance.get_dynamic_partitions(PARTITIONS_BY_DATASET[dataset].name)
    observe = defs.resolve_job_def(OBSERVE_JOBS[dataset].name)
    job = defs.resolve_job_def(DATASET_JOBS[dataset].name)
    if assets is not None:
        job = job.get_subset(
            asset_selection={dg.AssetKey(name) for name in assets},
            asset_check_selection=job.asset_layer.asset_graph.asset_check_keys,
        )
    run_ids, failed = [], []
    for first, last in contiguous_groups(order, list(keys)):
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
