"""Jobs: one per dataset (contract check, then metric assets) and one that observes the sources.

A dataset job covers one partitions definition, so options, macro and GPR each get their own; a
run for a partition range is a single-run backfill of every asset in it. The source itself stays
out of the dataset job: an observable source has no backfill policy, and one in the job would make
Dagster split a UI backfill into one run per partition. Its blocking check stays in, and still
keeps the metrics from running when the contract fails. Sources are observed by their own job.

Retries are Dagster's. A step that raises (a lock, an I/O error) is retried in the run, up to
``MAX_ATTEMPTS`` tries; a run that dies outside its steps is re-executed by the daemon's run
retries. A failed blocking contract check is neither: Dagster's step retries only catch errors of
user code, and the run tags keep the daemon from retrying step failures. The same files would
fail the same way, so the freshness sensor requests the refresh again only once they change.
"""

from __future__ import annotations

import dagster as dg

from silver_assets.metrics.assets import METRIC_ASSETS_BY_DATASET
from silver_assets.registry import DATASETS

DATASET_SOURCES = {d.name: d.source_asset for d in DATASETS.values()}
MAX_ATTEMPTS = 3
STEP_RETRY_POLICY = dg.RetryPolicy(
    max_retries=MAX_ATTEMPTS - 1, delay=2, backoff=dg.Backoff.EXPONENTIAL
)
RUN_RETRY_TAGS = {
    "dagster/max_retries": str(MAX_ATTEMPTS - 1),
    "dagster/retry_on_asset_or_op_failure": "false",
}


def dataset_selection(dataset: str) -> dg.AssetSelection:
    """The dataset's metric assets and its source's contract check."""
    return dg.AssetSelection.assets(
        *METRIC_ASSETS_BY_DATASET[dataset]
    ) | dg.AssetSelection.checks_for_assets(DATASET_SOURCES[dataset])


DATASET_JOBS: dict[str, dg.UnresolvedAssetJobDefinition] = {
    dataset: dg.define_asset_job(
        f"{dataset}_job",
        selection=dataset_selection(dataset),
        description=f"Check silver_{dataset}'s contract, then materialize its metrics.",
        # Steps run one after another anyway; one process saves a Python start per step.
        executor_def=dg.in_process_executor,
        op_retry_policy=STEP_RETRY_POLICY,
        run_tags=RUN_RETRY_TAGS,
    )
    for dataset in DATASET_SOURCES
}

OBSERVE_JOBS: dict[str, dg.UnresolvedAssetJobDefinition] = {
    dataset: dg.define_asset_job(
        f"observe_{dataset}_job",
        selection=dg.AssetSelection.assets(source).without_checks(),
        description=f"Observe {source}: record each anchor partition's data version.",
    )
    for dataset, source in DATASET_SOURCES.items()
}
