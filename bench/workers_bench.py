"""Backfill time with parallel run workers, on SQLite and on PostgreSQL, in one run.

    python bench/workers_bench.py --lake /tmp/deploy252 [--workers 1 2] [--repeat 3]

The lake folder holds ``silver/`` and ``state.json``, e.g. from
``silver-assets lake generate --days 252 --root /tmp/deploy252/silver
--state-path /tmp/deploy252/state.json --no-progress``. Each timing is the wall clock of
``silver-assets materialize --all --workers K`` (every dataset, every anchor) into an empty
snapshot folder and a fresh instance: the embedded-SQLite ``dagster_home/dagster.yaml``, or
``deploy/dagster.yaml`` on a fresh database of a throwaway PostgreSQL server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the throwaway server helper lives with the tests

from silver_assets_tests.deploy.postgres import throwaway_postgres  # noqa: E402

INSTANCES = {
    "sqlite": ROOT / "dagster_home" / "dagster.yaml",
    "postgres": ROOT / "deploy" / "dagster.yaml",
}


def backfill_seconds(lake: Path, workers: int, instance_yaml: Path, pg_url: str | None) -> float:
    """One ``materialize --all --workers K`` into fresh snapshots and a fresh instance."""
    work = Path(tempfile.mkdtemp(prefix="workers-bench-"))
    try:
        home = work / "dagster_home"
        home.mkdir()
        shutil.copy(instance_yaml, home / "dagster.yaml")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SILVER_LAKE_ROOT": str(lake / "silver"),
            "SILVER_STATE_PATH": str(lake / "state.json"),
            "SILVER_SNAPSHOT_ROOT": str(work / "snapshots"),
            "SILVER_AUDIT_ROOT": str(work / "logs"),
        }
        if pg_url:
            env["DAGSTER_PG_URL"] = pg_url
        command = [str(Path(sys.executable).parent / "silver-assets"), "materialize", "--all"]
        began = time.perf_counter()
        done = subprocess.run(
            [*command, "--workers", str(workers)], env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - began
        if done.returncode:
            raise RuntimeError(f"materialize failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True, help="folder with silver/, state.json")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing (median)")
    args = parser.parse_args()
    if not (args.lake / "silver").is_dir() or not (args.lake / "state.json").is_file():
        parser.error(f"{args.lake} needs silver/ and state.json (see the docstring)")
    times: dict[tuple[str, int], list[float]] = {}
    with throwaway_postgres() as server:
        databases = iter(range(1_000))
        for _ in range(args.repeat):  # interleaved, so load drifts hit every cell alike
            for backend, instance_yaml in INSTANCES.items():
                for workers in args.workers:
                    url = (
                        server.create_database(f"bench_{next(databases)}")
                        if backend == "postgres"
                        else None
                    )
                    seconds = backfill_seconds(args.lake, workers, instance_yaml, url)
                    times.setdefault((backend, workers), []).append(seconds)
                    print(f"  {backend} --workers {workers}: {seconds:.1f}s", flush=True)
    print(f"\nbackfill of every anchor, median of {args.repeat} (s)")
    print("| instance | " + " | ".join(f"--workers {w}" for w in args.workers) + " |")
    print("|---|" + "---|" * len(args.workers))
    for backend in INSTANCES:
        cells = " | ".join(f"{statistics.median(times[(backend, w)]):.1f}" for w in args.workers)
        print(f"| {backend} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
