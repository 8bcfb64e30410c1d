"""The ``silver-assets`` command line: demo lake, materializations, queries, benchmark."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from silver_assets.settings import PROJECT_ROOT, Settings

app = typer.Typer(
    help="silver-assets: Dagster snapshots of Silver option, macro and GPR metrics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lake_app = typer.Typer(help="Build a demo Silver lake.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

DATASETS = ("options", "macro", "gpr")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{flag} expects a date as YYYY-MM-DD, got {value!r}")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        _fail(str(exc))


def _instance():
    import dagster as dg

    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


@lake_app.command("generate")
def lake_generate(
    root: Annotated[Path | None, typer.Option(help="Lake root (default SILVER_LAKE_ROOT)")] = None,
    days: Annotated[int, typer.Option(min=1, help="Trading days to generate")] = 21,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes")] = 7,
    tickers: Annotated[list[str] | None, typer.Option(help="Tickers (repeat the flag)")] = None,
    end_date: Annotated[str | None, typer.Option(help="Last day (default 2026-04-30)")] = None,
    state_path: Annotated[
        Path | None, typer.Option(help="State file to write (default SILVER_STATE_PATH)")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Generate a SYNTHETIC demo lake (real GPR and macro reference figures where they exist)."""
    from silver_assets.lake import generator

    settings = _settings()
    options = {}
    if tickers:
        options["tickers"] = tuple(tickers)
    end = _parse_date(end_date, "--end-date")
    if end is not None:
        options["end_date"] = end
    try:
        summary = generator.generate_lake(
            root or settings.lake_root,
            days=days,
            seed=seed,
            state_path=state_path or settings.state_path,
            progress=progress,
            **options,
        )
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(
        f"synthetic lake: {summary.root} | {len(summary.trading_days)} trading days "
        f"{summary.trading_days[0]}..{summary.trading_days[-1]} | {summary.option_files} option "
        f"files, {summary.option_rows:,} contracts | {summary.bytes_written / 1e6:.1f} MB | "
        f"{summary.seconds:.1f}s"
    )


def _keys_for(
    dataset: str, settings: Settings, anchor: date | None, start: date | None, end: date | None
) -> list[str]:
    from silver_assets.partitions import anchor_keys, lake_dates

    if anchor is not None:
        return anchor_keys(dataset, settings, anchor=anchor)
    if start is not None and end is not None:
        lo = start.replace(day=1) if dataset == "gpr" else start
        keys = [d.isoformat() for d in lake_dates(dataset, settings) if lo <= d <= end]
        if not keys:
            _fail(f"the lake has no {dataset} dates between {start} and {end}")
        return keys
    return anchor_keys(dataset, settings)


@app.command()
def materialize(
    anchor: Annotated[str | None, typer.Option(help="One anchor date YYYY-MM-DD")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First anchor date")] = None,
    to: Annotated[str | None, typer.Option(help="Last anchor date")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every lake date up to the state file's anchors")
    ] = False,
    dataset: Annotated[
        list[str] | None, typer.Option(help="Only these datasets: options, macro, gpr")
    ] = None,
) -> None:
    """Materialize the metric snapshots on the instance in DAGSTER_HOME.

    Without flags the state file's anchors are materialized. Each dataset runs as one
    single-run backfill; the exit code is 1 when a run or a contract check fails.
    """
    from silver_assets.automation.runs import run_dataset
    from silver_assets.definitions import defs
    from silver_assets.partitions import anchor_keys

    chosen = [a for a in (anchor is not None, from_ or to, all_) if a]
    if len(chosen) > 1:
        _fail("use only one of --anchor, --from/--to and --all")
    if bool(from_) != bool(to):
        _fail("--from and --to go together")
    unknown = sorted(set(dataset or ()) - set(DATASETS))
    if unknown:
        _fail(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    settings = _settings()
    one = _parse_date(anchor, "--anchor")
    start, end = _parse_date(from_, "--from"), _parse_date(to, "--to")
    if start and end and start > end:
        _fail(f"--from {start} is after --to {end}")
    instance = _instance()
    failed = False
    for name in dataset or DATASETS:
        if all_:
            keys = anchor_keys(name, settings, history=True)
        else:
            keys = _keys_for(name, settings, one, start, end)
        began = time.perf_counter()
        typer.echo(f"[{name}] materializing {len(keys)} anchor(s) {keys[0]}..{keys[-1]} ...")
        run = run_dataset(defs, instance, name, keys)
        status = "ok" if run.success else "FAILED"
        checks = f" failed checks: {', '.join(run.failed_checks)}" if run.failed_checks else ""
        typer.echo(
            f"[{name}] {status} in {time.perf_counter() - began:.1f}s run {run.run_id}{checks}"
        )
        failed |= not run.success
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
