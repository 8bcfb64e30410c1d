"""The daily run at scale, this checkout against another: ``python bench/daily_run.py``.

``bench scale``'s ``daily_run`` phase without its 252-day backfill: on a SYNTHETIC demo lake of
``--tickers`` tickers and a few ``--days``, it backfills every anchor but the newest once (options,
then macro and GPR history) on a persistent SQLite instance. Each repeat then copies that state
and runs the newest anchor of every dataset through Dagster (``benchmark.daily_run``), in a fresh
process of this checkout's Python and, with ``--before PYTHON``, of another checkout's (for
example main's ``.venv/bin/python``), alternating. Prints wall and CPU seconds, their medians
and the load average. ``--profile`` adds one cProfile of this checkout's daily run, summed by
where the time goes.

    python bench/daily_run.py --tickers 100 --days 8 --repeat 3 --before ../main/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from silver_assets.benchmark import history_of_other_datasets, lake_for, options_backfill
from silver_assets.lake.generator import demo_tickers
from silver_assets.settings import PROJECT_ROOT, Settings

# Runs in the measured interpreter: one phase, its wall and CPU seconds. ``daily_run`` is the
# newest anchor of every dataset through Dagster; ``compute`` and ``checks`` are its asset
# functions and its contract checks alone (``benchmark.daily_without_dagster``,
# ``checks.assets.contract_report``).
MEASURE = """
import json, resource, sys, time
from pathlib import Path
import silver_assets
from silver_assets.benchmark import daily_run, daily_without_dagster
from silver_assets.checks.assets import contract_report
from silver_assets.lake import files
from silver_assets.settings import Settings

args = json.loads(sys.argv[1])
settings = Settings(**{k: Path(v) for k, v in args["settings"].items()})
instance = Path(args["instance"])
last = files.options_dates(settings.lake_root)[-1]

def checks():
    for dataset, day in (("options", last), ("macro", last), ("gpr", last.replace(day=1))):
        assert contract_report(dataset, settings, [day]).passed, dataset

phases = {
    "daily_run": lambda: daily_run(settings, instance),
    "compute": lambda: daily_without_dagster(settings, last),
    "checks": checks,
}

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

began, used = time.perf_counter(), cpu()
if args["profile"]:
    import cProfile
    profiler = cProfile.Profile(time.process_time)  # CPU time: steadier on a shared machine
    profiler.runcall(phases[args["phase"]])
    profiler.dump_stats(args["profile"])
else:
    phases[args["phase"]]()
wall, used = time.perf_counter() - began, cpu() - used
print(json.dumps({"wall": wall, "cpu": used, "code": str(Path(silver_assets.__file__).parent)}))
"""

# Where a daily run's time goes: (label, function name, file the function is in).
PROFILE_ROWS: list[tuple[str, str, str]] = [
    ("whole daily run", "daily_run", "benchmark.py"),
    ("Dagster run creation (create_run)", "create_run", "run_domain.py"),
    ("  of which planned events", "_log_asset_planned_events", "run_domain.py"),
    ("every stored event (store_event)", "store_event", "sqlite_event_log.py"),
    ("  of which a new run's SQLite shard (_initdb)", "_initdb", "sqlite_event_log.py"),
    ("SQLAlchemy engines created (create_engine)", "create_engine", "sqlalchemy/engine/create.py"),
    ("runless source observation", "record_observation", "sources/assets.py"),
    ("contract checks (check_dataset)", "check_dataset", "checks/assets.py"),
    ("options daily scan asset", "options_daily_scan", "metrics/assets.py"),
    ("option family assets", "_asset", "metrics/assets.py"),
    ("macro_analysis asset", "macro_analysis", "metrics/assets.py"),
    ("geopolitical_analysis asset", "geopolitical_analysis", "metrics/assets.py"),
    ("snapshot writes", "write", "snapshots.py"),
    ("DuckDB connections (dagster-duckdb)", "get_connection", "dagster_duckdb/resource.py"),
]
SQLITE_ROWS = [
    ("sqlite3 commit", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("sqlite3 close", "<method 'close' of 'sqlite3.Connection' objects>"),
    ("sqlite3 execute", "<method 'execute' of 'sqlite3.Cursor' objects>"),
]


def settings_dict(settings: Settings) -> dict[str, str]:
    return {
        "lake_root": str(settings.lake_root),
        "state_path": str(settings.state_path),
        "snapshot_root": str(settings.snapshot_root),
        "audit_root": str(settings.audit_root),
        "config_dir": str(settings.config_dir),
    }


def with_state(settings: Settings, folder: Path) -> Settings:
    return settings.replace(snapshot_root=folder / "snapshots", audit_root=folder / "logs")


def measure(
    python: str, settings: Settings, base: Path, work: Path, phase: str, profile: str = ""
) -> dict:
    """One ``phase`` run by ``python`` on a fresh copy of the backfilled state."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    # Each checkout configures the instance its own way (``benchmark._scale_instance``).
    (work / "dagster" / "dagster.yaml").unlink(missing_ok=True)
    args = {
        "settings": settings_dict(with_state(settings, work)),
        "instance": str(work / "dagster"),
        "phase": phase,
        "profile": profile,
    }
    # Run outside any checkout: ``-c`` puts the working folder first on ``sys.path``.
    done = subprocess.run(
        [python, "-c", MEASURE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=work,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{python} daily run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile_table(path: str) -> str:
    """Cumulative CPU seconds and calls of the daily run's parts, from a cProfile file."""
    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
    rows = [*PROFILE_ROWS, *((label, name, "~") for label, name in SQLITE_ROWS)]
    lines = ["| part | CPU seconds (cProfile) | calls |", "|---|---|---|"]
    for label, name, where in rows:
        found = [
            (cumulative, calls)
            for (file, _, function), (_, calls, _, cumulative, _) in stats.items()
            if function == name and file.endswith(where)
        ]
        if found:
            seconds, calls = sum(c for c, _ in found), sum(n for _, n in found)
            lines.append(f"| {label} | {seconds:.2f} | {calls} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="the Python of another checkout, to compare against")
    parser.add_argument("--profile", action="store_true", help="profile one daily run too")
    parser.add_argument("--lakes-root", type=Path, default=PROJECT_ROOT / "bench" / "lakes")
    args = parser.parse_args(argv)

    settings = lake_for(args.lakes_root, args.days, 7, demo_tickers(args.tickers), workers=2)
    scratch = Path(tempfile.mkdtemp(prefix="daily-run-", dir=str(settings.lake_root.parent)))
    try:
        base = scratch / "base"
        print(f"backfill of every anchor but the newest into {base} (not timed) ...", flush=True)
        options_backfill(with_state(settings, base), base / "dagster")
        history_of_other_datasets(with_state(settings, base), base / "dagster")
        variants = {
            "daily run, this checkout": (sys.executable, "daily_run"),
            "  its compute alone (no Dagster)": (sys.executable, "compute"),
            "  its contract checks alone": (sys.executable, "checks"),
        }
        if args.before:
            variants = {"daily run, before (--before)": (args.before, "daily_run"), **variants}
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for round_ in range(args.repeat):
            for name, (python, phase) in variants.items():
                runs[name].append(measure(python, settings, base, scratch / "run", phase))
                last = runs[name][-1]
                print(
                    f"  {round_ + 1}: {name.strip()} ({last['code']}): {last['wall']:.2f} s, "
                    f"{last['cpu']:.2f} s CPU",
                    flush=True,
                )
        load = os.getloadavg()
        print(
            f"\nnewest anchor of options, macro and GPR, {args.tickers} tickers x {args.days} days "
            f"(SYNTHETIC), medians of {args.repeat}; load average {load[0]:.1f} {load[1]:.1f} "
            f"{load[2]:.1f} on {os.cpu_count()} cores\n"
        )
        print("| measure | wall (s) | CPU (s) | every run, wall (s) |")
        print("|---|---|---|---|")
        medians = {}
        for name, measured in runs.items():
            walls = [m["wall"] for m in measured]
            medians[name] = (
                statistics.median(walls),
                statistics.median(m["cpu"] for m in measured),
            )
            every = " ".join(f"{w:.2f}" for w in walls)
            print(f"| {name} | {medians[name][0]:.2f} | {medians[name][1]:.2f} | {every} |")
        own = [medians[name] for name in list(variants)[-3:]]
        print(
            f"| Dagster's share (run - compute - checks) | {own[0][0] - own[1][0] - own[2][0]:.2f} "
            f"| {own[0][1] - own[1][1] - own[2][1]:.2f} | |"
        )
        if args.profile:
            path = str(scratch / "daily.prof")
            profiled = measure(sys.executable, settings, base, scratch / "run", "daily_run", path)
            print(
                f"\nprofile of one daily run of this checkout ({profiled['wall']:.2f} s wall, "
                f"{profiled['cpu']:.2f} s CPU with the profiler):\n"
            )
            print(profile_table(path))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
