"""The ``dg`` CLI loads the code location that pyproject's ``[tool.dg]`` names."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from silver_assets.definitions import build_defs
from silver_assets_tests.conftest import BIN, make_settings, run_command


def _dg(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **make_settings(tmp_path).environment(),
        "DAGSTER_HOME": str(tmp_path),
        # dg warns unless the project's virtualenv is the active one.
        "VIRTUAL_ENV": str(BIN.parent),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return run_command("dg", *args, env=env, timeout=300)


def test_dg_check_defs_passes(tmp_path):
    result = _dg(tmp_path, "check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr
    assert "mismatch" not in result.stdout + result.stderr  # the project's venv is the active one


def test_dg_list_defs_shows_the_code_location(tmp_path):
    result = _dg(tmp_path, "list", "defs", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    defs = build_defs(make_settings(tmp_path))
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {asset["asset_key"] for asset in listed["assets"]} == expected
    assert {r["name"] for r in listed["resources"]} == {"silver", "duckdb", "silver_query"}
    assert {s["name"] for s in listed["sensors"]} >= {"silver_freshness_sensor"}
