"""The Dagster code location: loads every domain's definitions and applies shared policy."""

from __future__ import annotations

import dagster as dg

from silver_assets.automation.freshness_policies import SNAPSHOT_FRESHNESS
from silver_assets.automation.jobs import DATASET_JOBS, OBSERVE_JOBS
from silver_assets.automation.schedules import JOBS as CHECK_JOBS
from silver_assets.automation.schedules import SCHEDULES
from silver_assets.automation.sensors import build_sensors, standing_answers_sensor
from silver_assets.checks.assets import CONTRACT_CHECKS
from silver_assets.metrics.assets import METRIC_ASSETS, METRIC_ASSETS_BY_DATASET
from silver_assets.metrics.code_versions import code_version
from silver_assets.query.assets import (
    standing_answers,
    standing_answers_job,
)
from silver_assets.query.resource import SilverQueryResource
from silver_assets.resources import default_resources
from silver_assets.settings import Settings
from silver_assets.sources.assets import DATASET_TAG, SOURCES

OWNERS = ["team:silver-assets"]
_DATASET_OF = {
    key.to_user_string(): dataset
    for dataset, assets in METRIC_ASSETS_BY_DATASET.items()
    for asset in assets
    for key in asset.keys
}


def catalog_entry(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Kinds, owners, tags, code version and freshness policy of every computed asset."""
    name = spec.key.to_user_string()
    if name in _DATASET_OF:
        kinds, tags = {"duckdb", "parquet"}, {DATASET_TAG: _DATASET_OF[name]}
        spec = dg.apply_freshness_policy(spec, SNAPSHOT_FRESHNESS[_DATASET_OF[name]])
    else:  # the standing answers: one JSON file
        kinds, tags = {"json"}, {}
    version = code_version(name)
    spec = spec.merge_attributes(kinds=kinds, owners=OWNERS, tags=tags)
    return spec.replace_attributes(code_version=version) if version else spec


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """All definitions, wired to ``settings`` (by default read from the environment)."""
    settings = settings or Settings.from_env()
    query = SilverQueryResource.from_settings(settings)
    return dg.Definitions(
        assets=[
            *SOURCES.values(),
            *dg.map_asset_specs(catalog_entry, [*METRIC_ASSETS, standing_answers]),
        ],
        asset_checks=CONTRACT_CHECKS,
        jobs=[*DATASET_JOBS.values(), *OBSERVE_JOBS.values(), *CHECK_JOBS, standing_answers_job],
        schedules=SCHEDULES,
        sensors=[*build_sensors(settings), standing_answers_sensor],
        resources={**default_resources(settings), "silver_query": query},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location: loaded (and the environment read) when Dagster asks, not at import."""
    return build_defs()
