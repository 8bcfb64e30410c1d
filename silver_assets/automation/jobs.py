"""One job per dataset: observe its source, run its contract check, then its metric assets.

A job covers one partitions definition, so options, macro and GPR each get their own; a run for a
partition range is a single-run backfill of every asset in the job.
"""

from __future__ import annotations

import dagster as dg

DATASET_SOURCES = {"options": "silver_options", "macro": "silver_macro", "gpr": "silver_gpr"}


def dataset_selection(dataset: str) -> dg.AssetSelection:
    """The dataset's source, everything downstream of it, and their checks."""
    return dg.AssetSelection.assets(DATASET_SOURCES[dataset]).downstream()


DATASET_JOBS: dict[str, dg.UnresolvedAssetJobDefinition] = {
    dataset: dg.define_asset_job(
        f"{dataset}_job",
        selection=dataset_selection(dataset),
        description=f"Observe silver_{dataset}, check its contract, materialize its metrics.",
    )
    for dataset in DATASET_SOURCES
}
