"""Blocking contract checks on the Silver sources, reported in the UI and the audit log.

A check validates the dates of the run it belongs to (its partition or partition range), or the
state file's anchor when it runs alone. Footers and columns are checked for every file of those
dates; pandera validates the rows of the most recent ``ROW_CHECK_DAYS`` of them, which keeps a
year's backfill quick while every daily run still validates its whole day.
"""

from datetime import date

import dagster as dg

from silver_assets.anchors import resolve_anchor
from silver_assets.checks import contracts
from silver_assets.lake import files
from silver_assets.partitions import PARTITIONS_BY_DATASET, keys_of_run
from silver_assets.resources import SilverLakeResource
from silver_assets.sources.assets import SOURCES

ROW_CHECK_DAYS = 5


def run_partition_keys(context: dg.AssetCheckExecutionContext, dataset: str) -> list[str]:
    """The partition keys targeted by the current run."""
    order = context.instance.get_dynamic_partitions(PARTITIONS_BY_DATASET[dataset].name)
    return keys_of_run(context.run.tags, order)


def files_to_check(dataset: str, lake_root, days: list[date]) -> tuple[list, list]:
    """(files whose footers and columns are checked, files whose rows are validated)."""
    if dataset == "gpr":
        path = files.gpr_file(lake_root)
        found = [path] if path.exists() else []
        return found, found
    _, lister = files.daily_listing(dataset)
    all_files = [path for day in sorted(days) for path in lister(lake_root, day)]
    recent = sorted(days)[-ROW_CHECK_DAYS:]
    return all_files, [path for day in recent for path in lister(lake_root, day)]


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
    footer_files, row_files = files_to_check(dataset, settings.lake_root, days)
    report = contracts.validate(dataset, footer_files, row_files)
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
            f"{dataset}: files exist and are readable, required columns are present, and the "
            "pandera schema's types and unit contracts hold (SPEC §2)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, silver: SilverLakeResource):
        return check_dataset(dataset, silver, run_partition_keys(context, dataset))

    return _check


options_contract = _contract_check("options")
macro_contract = _contract_check("macro")
gpr_contract = _contract_check("gpr")

CONTRACT_CHECKS = [options_contract, macro_contract, gpr_contract]
