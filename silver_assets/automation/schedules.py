"""Schedules: a daily safety net for each dataset, and a checks-only run of the contracts.

The freshness sensor does the real work; the daily schedules re-request the state's anchor in
case a sensor tick was missed (a run of an up-to-date partition rewrites the same snapshot).
"""

import dagster as dg

from silver_assets.anchors import resolve_anchor
from silver_assets.automation.jobs import DATASET_JOBS, DATASET_SOURCES
from silver_assets.partitions import (
    MissingLakeData,
    contiguous_groups,
    range_tags,
    register_partitions,
    require_lake_dates,
    with_lookback,
)
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource

contract_checks_job = dg.define_asset_job(
    "contract_checks_job",
    selection=dg.AssetSelection.checks_for_assets(*DATASET_SOURCES.values()),
    description="Only the contract checks of the Silver sources, for the state's anchors.",
)

contract_checks_schedule = dg.ScheduleDefinition(
    name="contract_checks_schedule",
    job=contract_checks_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: validate the state anchors' files; failures raise alerts.",
)


def _daily_schedule(dataset: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{dataset}_daily_schedule",
        job=DATASET_JOBS[dataset],
        cron_schedule="30 6 * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Daily safety net: materialize the state's {dataset} anchor.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, silver: SilverLakeResource):
        anchor = resolve_anchor(dataset, silver.settings.state_path)
        if anchor.is_fallback:
            return dg.SkipReason(f"{dataset}: {anchor.fallback_reason}")
        try:
            require_lake_dates(dataset, silver.settings, [anchor.date])
        except MissingLakeData as exc:
            return dg.SkipReason(str(exc))
        keys = with_lookback(dataset, silver.settings, [anchor.date.isoformat()])
        register_partitions(context.instance, dataset, keys)
        order = context.instance.get_dynamic_partitions(DATASETS[dataset].partitions_name)
        day = context.scheduled_execution_time.date().isoformat()
        return [
            dg.RunRequest(run_key=f"{dataset}:{first}:{last}:{day}", tags=range_tags(first, last))
            for first, last in contiguous_groups(order, keys)
        ]

    return _schedule


SCHEDULES = [contract_checks_schedule, *(_daily_schedule(d) for d in DATASET_SOURCES)]
JOBS = [contract_checks_job]
