"""Snapshot freshness in Dagster's own terms: a freshness policy on every metric asset.

Dagster's freshness daemon (started by ``dagster dev`` and ``dagster-daemon run``) evaluates the
policies and the catalog marks an asset WARN or FAIL when its latest snapshot is older than the
window. Daily datasets get a new snapshot each trading day (and the daily schedule rewrites the
anchor's), so a long weekend still passes; GPR is monthly. The alert sensor keeps its own alert
for a state anchor that waited too long for its snapshot.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from silver_assets.metrics.assets import METRIC_ASSETS_BY_DATASET

DAILY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=4), warn_window=timedelta(hours=30)
)
SNAPSHOT_FRESHNESS: dict[str, dg.FreshnessPolicy] = {
    "options": DAILY,
    "macro": DAILY,
    "gpr": dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=45), warn_window=timedelta(days=35)
    ),
}


def metric_assets_with_freshness() -> list[dg.AssetsDefinition]:
    """Every metric asset, carrying its dataset's freshness policy."""
    return [
        mapped
        for dataset, assets in METRIC_ASSETS_BY_DATASET.items()
        for mapped in dg.map_asset_specs(
            lambda spec, policy=SNAPSHOT_FRESHNESS[dataset]: dg.apply_freshness_policy(
                spec, policy
            ),
            assets,
        )
    ]
