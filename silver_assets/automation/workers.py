"""Parallel run workers: one dataset's backfill split into K ranged runs on separate processes.

Every worker process runs :func:`~silver_assets.automation.runs.run_dataset` for its own
disjoint range of anchors against the same instance and snapshot store, so the snapshots equal
those of one run over all anchors:

- Options families read earlier days: the IV rank reads ``IV_RANK_LOOKBACK_DAYS`` of daily rows
  and the latest-only families carry their previous snapshot forward. So options go in two
  phases: every worker first scans the daily chains of its range, then, once every day is
  scanned, computes the families of its range. A later range then finds every earlier daily row
  it needs, and its result does not depend on how far the earlier range has got.
- Macro and GPR anchors only read lake files up to the anchor (or an earlier complete snapshot
  in their place), so their ranges run in one phase.

The ranges are disjoint by construction, and before launching the workers check that no
in-progress run of the dataset's job writes any of the anchors, so a partition never has two
writers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS
from silver_assets.automation.runs import DatasetRun, run_dataset, settings_of
from silver_assets.metrics import sql
from silver_assets.metrics.compute import FAMILY_INPUTS
from silver_assets.partitions import (
    keys_of_run,
    register_partitions,
    with_lookback,
)
from silver_assets.registry import DATASETS

# The asset selection of each phase; None is the dataset's whole job.
PHASES: dict[str, tuple[tuple[str, ...] | None, ...]] = {
    "options": (tuple(sql.DAILY_QUERIES), tuple(FAMILY_INPUTS)),
    "macro": (None,),
    "gpr": (None,),
}


def split_ranges(keys: Sequence[str], workers: int) -> list[list[str]]:
    """``keys`` in date order, cut into at most ``workers`` contiguous ranges of near-equal size."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    ordered = sorted(set(keys))
    count = min(workers, len(ordered))
    bounds = [round(i * len(ordered) / count) for i in range(count + 1)]
    return [ordered[bounds[i] : bounds[i + 1]] for i in range(count)]


def busy_partitions(instance: dg.DagsterInstance, dataset: str, keys: Sequence[str]) -> list[str]:
    """The ``keys`` that a queued or in-progress run of the dataset's job is writing."""
    order = instance.get_dynamic_partitions(DATASETS[dataset].partitions_name)
    runs = instance.get_runs(
        dg.RunsFilter(
            job_name=DATASET_JOBS[dataset].name,
            statuses=[
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
            ],
        )
    )
    written = {key for run in runs for key in keys_of_run(run.tags, order)}
    return sorted(written & set(keys))


def _run_range(dataset: str, keys: list[str], assets: tuple[str, ...] | None) -> DatasetRun:
    """A worker process: the definitions and instance come from the inherited environment."""
    from silver_assets.definitions import build_defs

    return run_dataset(build_defs(), dg.DagsterInstance.get(), dataset, keys, assets)


def run_in_workers(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    dataset: str,
    keys: Sequence[str],
    workers: int,
    progress: Callable[[str], None] = lambda message: None,
) -> DatasetRun:
    """Materialize ``keys`` as ``workers`` ranged runs at once; one worker is one plain run.

    The worker processes build their definitions and instance from the environment (the
    ``SILVER_*`` settings and ``DAGSTER_HOME``), as the CLI does.
    """
    if workers == 1:
        return run_dataset(defs, instance, dataset, keys)
    # The lookback of the first anchor joins the ranges, so the first phase scans it too.
    keys = with_lookback(dataset, settings_of(defs), list(keys))
    busy = busy_partitions(instance, dataset, keys)
    if busy:
        raise ValueError(
            f"{len(busy)} {dataset} anchor(s) are being written by another run "
            f"({', '.join(busy[:5])}); wait for it, or cancel it in the UI"
        )
    # Registered here in date order, so Dagster's key order matches the calendar.
    register_partitions(instance, dataset, keys)
    ranges = split_ranges(keys, workers)
    runs: list[DatasetRun] = []
    # Fresh interpreters: a forked Dagster instance would share its database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        for assets in PHASES[dataset]:
            phase = "all assets" if assets is None else ", ".join(assets)
            results = list(
                pool.map(_run_range, [dataset] * len(ranges), ranges, [assets] * len(ranges))
            )
            for part, run in zip(ranges, results, strict=True):
                progress(
                    f"[{dataset}] worker {part[0]}..{part[-1]} ({phase}): "
                    f"{'ok' if run.success else 'FAILED'}"
                )
            runs += results
            if not all(run.success for run in results):
                break
    return DatasetRun(
        dataset,
        tuple(sorted(keys)),
        tuple(run_id for run in runs for run_id in run.run_ids),
        all(run.success for run in runs) and len(runs) == len(ranges) * len(PHASES[dataset]),
        tuple(check for run in runs for check in run.failed_checks),
    )
