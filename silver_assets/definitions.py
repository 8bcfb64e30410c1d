"""The Dagster code location: loads every domain's definitions and applies shared policy."""

from __future__ import annotations

import dagster as dg

from silver_assets.automation.freshness_policies import metric_assets_with_freshness
from silver_assets.automation.jobs import DATASET_JOBS, OBSERVE_JOBS
from silver_assets.automation.schedules import JOBS as CHECK_JOBS
from silver_assets.automation.schedules import SCHEDULES
from silver_assets.automation.sensors import build_sensors
from silver_assets.checks.assets import CONTRACT_CHECKS
from silver_assets.query.assets import (
    standing_answers,
    standing_answers_job,
    standing_answers_sensor,
)
from silver_assets.query.resource import SilverQueryResource
from silver_assets.resources import default_resources
from silver_assets.settings import Settings
from silver_assets.sources.assets import SOURCES


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """All definitions, wired to ``settings`` (by default read from the environment)."""
    settings = settings or Settings.from_env()
    query = SilverQueryResource(
        snapshot_root=str(settings.snapshot_root),
        state_path=str(settings.state_path),
        audit_root=str(settings.audit_root),
        max_tickers=settings.max_tickers,
    )
    return dg.Definitions(
        assets=[*SOURCES.values(), *metric_assets_with_freshness(), standing_answers],
        asset_checks=CONTRACT_CHECKS,
        jobs=[*DATASET_JOBS.values(), *OBSERVE_JOBS.values(), *CHECK_JOBS, standing_answers_job],
        schedules=SCHEDULES,
        sensors=[*build_sensors(settings), standing_answers_sensor],
        resources={**default_resources(settings), "silver_query": query},
    )


defs = build_defs()
