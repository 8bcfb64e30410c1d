"""A failed contract or an anchor without lake data never touches a good snapshot (real CLI).

One SYNTHETIC 12-day, 4-ticker lake is materialized once through ``silver-assets materialize
--all``; every snapshot file is hashed. Each test then breaks the lake (or the state file) in one
way, runs the command again, and restores what it broke: the command must exit non-zero naming
the file (or the anchor) and the rule, and the snapshots must be byte-for-byte what they were.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from silver_assets.lake import files
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.conftest import build_lake

CLI = str(Path(sys.executable).parent / "silver-assets")
pytestmark = pytest.mark.e2e

OPTION_ASSETS = (
    "put_call_ratio_daily",
    "atm_iv_daily",
    "iv_skew_daily",
    "liquidity_daily",
    "pricing_daily",
    "put_call_ratio",
    "options_analysis",
    "liquidity_analysis",
    "pricing_spread",
)


def _materialize(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "materialize", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _hashes(settings: Settings, assets: tuple[str, ...] | None = None) -> dict[str, str]:
    root = settings.snapshot_root
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.parquet"))
        if assets is None or path.parent.name in assets
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> tuple[Settings, dict[str, str]]:
    root = tmp_path_factory.mktemp("trust")
    settings = build_lake(root)
    env = {**os.environ, **settings.environment(), "DAGSTER_HOME": str(root / "dagster_home")}
    first = _materialize(env, "--all")
    assert first.returncode == 0, first.stdout + first.stderr
    return settings, env


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> bytes:
    """Rewrite ``path`` through ``change``; return its original bytes."""
    original = path.read_bytes()
    pq.write_table(change(pq.read_table(path)), path)
    return original


def _set(table: pa.Table, name: str, values) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, pa.array(values))


def _doubled(table: pa.Table) -> pa.Table:
    return pa.concat_tables([table, table])


def _spread_as_fractions(table: pa.Table) -> pa.Table:
    return _set(table, "spread_pct", pc.divide(table.column("spread_pct"), 100.0).combine_chunks())


def _no_liquid_iv(table: pa.Table) -> pa.Table:
    iv = table.column("implied_volatility").to_numpy().copy()
    iv[table.column("is_liquid").to_numpy(zero_copy_only=False)] = np.nan
    return _set(table, "implied_volatility", iv)


@pytest.mark.parametrize(
    ("change", "day_index", "rule"),
    [
        (_doubled, -1, "one_row_per_snapshot_date_symbol_contract_symbol"),
        (_spread_as_fractions, 2, "spread_pct_equals_100x_spread_ratio"),
        (_no_liquid_iv, 3, "liquid_implied_volatility_not_all_missing"),
    ],
    ids=["duplicated-rows", "older-day-spread-pct-as-fractions", "day-without-liquid-iv"],
)
def test_failed_contract_exits_non_zero_and_keeps_snapshots(lake, change, day_index, rule):
    settings, env = lake
    before = _hashes(settings, OPTION_ASSETS)
    day = files.options_dates(settings.lake_root)[day_index]
    victim = files.options_files(settings.lake_root, day)[0]
    original = _rewrite(victim, change)
    try:
        result = _materialize(env, "--all")
    finally:
        victim.write_bytes(original)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "[options] FAILED" in result.stdout
    (failed,) = [line for line in result.stdout.splitlines() if "failed checks" in line]
    assert "options_contract" in failed
    assert rule in failed
    assert victim.name in failed
    assert _hashes(settings, OPTION_ASSETS) == before


def _write_state(settings: Settings, text: str) -> bytes:
    original = settings.state_path.read_bytes()
    settings.state_path.write_text(text, encoding="utf-8")
    return original


@pytest.mark.parametrize(
    ("state", "anchors"),
    [
        (
            '{"last_run_keys": {"options_daily": "2099-01-05", '
            '"macro_trading_daily": "2099-01-05", "gpr_monthly": "2099-01"}}',
            {"options": "2099-01-05", "macro": "2099-01-05", "gpr": "2099-01-01"},
        ),
        ("{ this is not json", None),
    ],
    ids=["state-in-2099", "garbage-state"],
)
def test_anchor_without_lake_data_fails_and_writes_nothing(lake, state, anchors):
    settings, env = lake
    before = _hashes(settings)
    original = _write_state(settings, state)
    try:
        result = _materialize(env, "--all")
    finally:
        settings.state_path.write_bytes(original)
    assert result.returncode == 1, result.stdout + result.stderr
    ends = {"options": "2026-04-30", "macro": "2026-04-30", "gpr": "2026-04-01"}
    for dataset, last in ends.items():
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith(f"[{dataset}] FAILED")]
        if anchors is not None:
            assert f"the state says {anchors[dataset]}" in line
        assert f"the lake's {dataset} data ends at {last}" in line
        assert "nothing written" in line
    assert _hashes(settings) == before


def test_explicit_anchor_without_lake_data_fails(lake):
    settings, env = lake
    before = _hashes(settings)
    result = _materialize(env, "--anchor", "2026-05-04", "--dataset", "macro")
    assert result.returncode == 1
    assert "macro: anchor 2026-05-04, but the lake has no macro data for it" in result.stderr
    assert _hashes(settings) == before
