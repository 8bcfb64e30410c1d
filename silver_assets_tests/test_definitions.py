"""The code location loads, and Dagster's own validator accepts workspace.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from silver_assets.definitions import build_defs
from silver_assets.settings import PROJECT_ROOT
from silver_assets_tests.conftest import make_settings

EXPECTED_ASSETS = {
    "silver_options",
    "silver_macro",
    "silver_gpr",
    "put_call_ratio_daily",
    "atm_iv_daily",
    "iv_skew_daily",
    "liquidity_daily",
    "pricing_daily",
    "put_call_ratio",
    "options_analysis",
    "liquidity_analysis",
    "pricing_spread",
    "macro_analysis",
    "geopolitical_analysis",
}


def test_all_definitions_load(tmp_path):
    defs = build_defs(make_settings(tmp_path))
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    checks = {key.name for key in graph.asset_check_keys}
    assert {"options_contract", "macro_contract", "gpr_contract"} <= checks
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert jobs >= {
        "options_job",
        "macro_job",
        "gpr_job",
        "observe_options_job",
        "observe_macro_job",
        "observe_gpr_job",
        "contract_checks_job",
        "standing_answers_job",
    }
    assert isinstance(defs.resources["silver_query"], dg.ConfigurableResource)


def test_dagster_validates_workspace(tmp_path):
    env = {**os.environ, **make_settings(tmp_path).environment(), "DAGSTER_HOME": str(tmp_path)}
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr
