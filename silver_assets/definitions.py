"""The Dagster code location: loads every domain's definitions and applies shared policy."""

from __future__ import annotations

import dagster as dg

from silver_assets.automation.jobs import DATASET_JOBS
from silver_assets.checks.assets import CONTRACT_CHECKS
from silver_assets.metrics.assets import METRIC_ASSETS
from silver_assets.resources import default_resources
from silver_assets.sources.assets import SOURCES

defs = dg.Definitions(
    assets=[*SOURCES.values(), *METRIC_ASSETS],
    asset_checks=CONTRACT_CHECKS,
    jobs=list(DATASET_JOBS.values()),
    resources=default_resources(),
)
