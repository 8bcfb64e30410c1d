"""Snapshot freshness in Dagster's own terms: the freshness policy of each dataset's assets.

``definitions.catalog_entry`` applies it to every metric asset.

Dagster's freshness daemon (started by ``dagster dev`` and ``dagster-daemon run``) evaluates the
policies and the catalog marks an asset WARN or FAIL when its latest snapshot is older than the
window. Daily datasets get a new snapshot each trading day (and the daily schedule rewrites the
anchor's), so a long weekend still passes; GPR is monthly. The alert sensor keeps its own alert
for a state anchor that waited too long for its snapshot.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from silver_assets.registry import DATASETS

DAILY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=4), warn_window=timedelta(hours=30)
)
MONTHLY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=45), warn_window=timedelta(days=35)
)
SNAPSHOT_FRESHNESS: dict[str, dg.FreshnessPolicy] = {
    d.name: MONTHLY if d.monthly else DAILY for d in DATASETS.values()
}
