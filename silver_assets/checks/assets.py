"""Blocking contract checks on the Silver sources, reported in the UI and the audit log.

A check validates the dates of the run it belongs to (its partition or partition range), or the
state file's anchor when it runs alone: every footer, column and row of every file of those
dates. A date the lake holds no files for fails the check, so no empty or borrowed snapshot is
written for it. Option tickers that vanished since the lake date before are warnings.
"""

from datetime import date

import dagster as dg

from silver_assets.anchors import resolve_anchor
from silver_assets.checks import contracts
from silver_assets.lake import files
from silver_assets.partitions import (
    MissingLakeData,
    keys_of_run,
    lake_dates,
    require_lake_dates,
)
from silver_assets.registry import DATASETS
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import Settings
from silver_assets.sources.assets import SOURCES


def run_partition_keys(context: dg.AssetCheckExecutionContext, dataset: str) -> list[str]:
    """The partition keys targeted by the current run."""
    order = context.instance.get_dynamic_partitions(DATASETS[dataset].partitions_name)
    return keys_of_run(context.run.tags, order)


def files_by_day(dataset: str, lake_root, days: list[date]) -> dict[date, list]:
    """The files of each date (GPR: its single file, under the latest month)."""
    if dataset == "gpr":
        path = files.gpr_file(lake_root)
        return {max(days): [path] if path.exists() else []}
    _, lister = files.daily_listing(dataset)
    return {day: lister(lake_root, day) for day in sorted(days)}


def contract_report(dataset: str, settings: Settings, days: list[date]) -> contracts.ContractReport:
    """Validate every file and row of ``dataset`` for ``days``; a date without data fails."""
    try:
        require_lake_dates(dataset, settings, days)
    except MissingLakeData as exc:
        return contracts.ContractReport(dataset=dataset, status="NO_FILES", message=str(exc))
    by_day = files_by_day(dataset, settings.lake_root, days)
    report = contracts.validate(dataset, [path for paths in by_day.values() for path in paths])
    if dataset == "options":
        earlier = [day for day in lake_dates(dataset, settings) if day < min(days)]
        if earlier:  # the lake date before the run's first one, to see what vanished from it
            by_day[earlier[-1]] = files.options_files(settings.lake_root, earlier[-1])
        report.warnings += contracts.vanished_tickers(by_day)
        if report.passed:
            report.message = contracts.ok_message(report)
    return report


def check_dataset(dataset: str, silver: SilverLakeResource, keys: list[str]) -> dg.AssetCheckResult:
    """Validate a dataset for the given partition keys (or its anchor) and report the result."""
    settings = silver.settings
    if keys:
        days = [date.fromisoformat(key) for key in keys]
    else:
        anchor = resolve_anchor(dataset, settings.state_path)
        if anchor.is_fallback:
            silver.audit.write("ANCHOR_FALLBACK", dataset=dataset, reason=anchor.fallback_reason)
        days = [anchor.date]
    report = contract_report(dataset, settings, days)
    silver.audit.write(
        "SCHEMA_CHECK",
        dataset=dataset,
        status=report.status,
        files=report.files_checked,
        rows=report.rows_checked,
        failures=report.failure_count,
        dates=f"{min(days)}..{max(days)}",
        message=report.message,
    )
    warn_only = report.passed and bool(report.warnings)
    return dg.AssetCheckResult(
        passed=report.passed and not warn_only,
        severity=dg.AssetCheckSeverity.WARN if warn_only else dg.AssetCheckSeverity.ERROR,
        description=report.message,
        metadata={
            "status": report.status,
            "dates": dg.MetadataValue.text(f"{min(days)} .. {max(days)} ({len(days)} dates)"),
            "files_checked": report.files_checked,
            "rows_checked": report.rows_checked,
            "failure_count": report.failure_count,
            "failures_by_rule": dg.MetadataValue.json(report.failures_by_rule),
            "sample_failures": dg.MetadataValue.json(report.failure_samples),
            "missing_columns": dg.MetadataValue.json(report.missing_columns),
            "unreadable_files": dg.MetadataValue.json(report.unreadable),
            "warnings": dg.MetadataValue.json(report.warnings),
        },
    )


def _contract_check(dataset: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SOURCES[dataset],
        name=f"{dataset}_contract",
        blocking=True,
        description=(
            f"{dataset}: every date has files, they are readable, required columns are present, "
            "and every row keeps the pandera schema: types, units, one row per key and liquid "
            "IV coverage (docs/contracts.md)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, silver: SilverLakeResource):
        return check_dataset(dataset, silver, run_partition_keys(context, dataset))

    return _check


CONTRACT_CHECKS = [_contract_check(dataset) for dataset in DATASETS]
