"""Golden answers: the full query payload for a fixed SYNTHETIC demo lake, pinned as JSON.

The lake (seed, days, tickers) and the requests are fixed here; every value, lineage anchor,
status field and citation of each answer is kept in a reviewed ``<case>.json`` file beside this
module. Only what is truly non-deterministic is normalised: the run id of each citation (checked
to be a real run of the instance that wrote the snapshot), the latency, and the version of a
day's option or macro files (a digest of file sizes and modification times), which is replaced by
the dataset and day whose files it is the version of. GPR versions digest row content and stay.

Compare, or rewrite after reviewing the printed unified diff:

    python3 dev.py golden            # exit 1 and print the diff when an answer changed
    python3 dev.py golden --update   # rewrite the files, printing the same diff
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from silver_assets.lake.generator import generate_lake
from silver_assets.query.answer import answer_query
from silver_assets.settings import Settings
from silver_assets.sources import versions

GOLDEN_DIR = Path(__file__).resolve().parent
GOLDEN_SEED = 11
# 30 sessions (2026-03-19 .. 2026-04-30) span 43 calendar days: longer than the lookback below,
# so the IV rank of the last anchors ranks a window that the lake outlasts.
GOLDEN_DAYS = 30
GOLDEN_LOOKBACK_DAYS = 20
GOLDEN_TICKERS = ("SPY", "QQQ", "IWM", "GLD", "SLV")
# One or more surface names per family: every value of all six families is asked for.
GOLDEN_METRICS = (
    "Put/Call Ratio",
    "Implied Volatility",
    "IV Skew",
    "Options Liquidity",
    "Options Pricing / Spread",
    "Macro Trend",
    "GPR Index",
    "GPR Threats",
    "GPR Acts",
    "GPR Country-level",
)
# Case name -> as_of. 2026-04-25 is a Saturday: the options and macro answers must come from
# the window end (Friday 2026-04-24), the GPR answer from April's row.
GOLDEN_CASES: dict[str, str] = {
    "as_of_2026-04-30_thursday": "2026-04-30",
    "as_of_2026-04-25_saturday": "2026-04-25",
}
RUN_ID = "<run_id: a successful run of the instance>"
LATENCY = "<latency_ms>"


def build_golden_lake(root: Path) -> Settings:
    """Write the golden lake under ``root``; settings whose every location is under it."""
    from silver_assets.settings import PROJECT_ROOT

    settings = Settings(
        lake_root=root / "silver",
        state_path=root / "state" / "collect_data_state.json",
        snapshot_root=root / "snapshots",
        audit_root=root / "logs",
        config_dir=PROJECT_ROOT / "config",
        iv_rank_lookback_days=GOLDEN_LOOKBACK_DAYS,
    )
    generate_lake(
        settings.lake_root,
        days=GOLDEN_DAYS,
        seed=GOLDEN_SEED,
        tickers=GOLDEN_TICKERS,
        state_path=settings.state_path,
        progress=False,
    )
    return settings


def materialize_golden(settings: Settings, instance: dg.DagsterInstance) -> None:
    """Materialize every anchor of the three datasets, as the pipeline's runs do."""
    from silver_assets.automation.runs import run_dataset
    from silver_assets.definitions import build_defs
    from silver_assets.partitions import anchor_keys

    defs = build_defs(settings)
    for dataset in ("options", "macro", "gpr"):
        run = run_dataset(defs, instance, dataset, anchor_keys(dataset, settings, history=True))
        if not run.success:
            raise RuntimeError(f"golden lake: the {dataset} run failed: {run}")


def golden_request() -> dict[str, Any]:
    return {"tickers": list(GOLDEN_TICKERS), "metrics": list(GOLDEN_METRICS)}


def daily_version_names(settings: Settings) -> dict[str, str]:
    """``{version: "<dataset files of day>"}`` for every day of the daily datasets."""
    return {
        version: f"<{dataset} files of {day}>"
        for dataset in ("options", "macro")
        for day, version in versions.daily_versions(settings.lake_root, dataset).items()
    }


def normalise(
    payload: dict[str, Any],
    is_run_id: Callable[[str], bool],
    version_names: dict[str, str],
) -> dict[str, Any]:
    """``payload`` with run ids, daily file versions and latency replaced by placeholders.

    Raises ``AssertionError`` when a citation's run id is not a run that ``is_run_id`` knows.
    """
    out = copy.deepcopy(payload)
    for key, entry in out["citation_contract"].items():
        assert is_run_id(entry["run_id"]), f"{key}: run_id {entry['run_id']!r} is no run"
        entry["run_id"] = RUN_ID
        version = entry["source_data_version"]
        entry["source_data_version"] = version_names.get(version, version)
    assert isinstance(out.pop("latency_ms"), float)
    out["latency_ms"] = LATENCY
    return out


def golden_payloads(settings: Settings, instance: dg.DagsterInstance) -> dict[str, dict]:
    """The normalised payload of every golden case, by case name."""

    def is_successful_run(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status == dg.DagsterRunStatus.SUCCESS

    names = daily_version_names(settings)
    return {
        name: normalise(
            answer_query(settings, golden_request(), as_of=as_of), is_successful_run, names
        )
        for name, as_of in GOLDEN_CASES.items()
    }


def render(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"


def golden_path(case: str) -> Path:
    return GOLDEN_DIR / f"{case}.json"


def diff(case: str, payload: dict[str, Any]) -> str:
    """Unified diff from the stored golden answer of ``case`` to ``payload`` ('' when equal)."""
    path = golden_path(case)
    old = path.read_text() if path.exists() else ""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            render(payload).splitlines(keepends=True),
            fromfile=f"golden/{case}.json (stored)",
            tofile=f"golden/{case}.json (computed)",
        )
    )
