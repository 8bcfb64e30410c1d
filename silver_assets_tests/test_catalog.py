"""The asset catalog as people see it: one reviewed snapshot of every asset's shape.

A change to a key, group, dependency, kind, owner, tag, partitioning or check shows up as a
snapshot diff (`pytest --snapshot-update` rewrites it after review). Code versions are pinned
separately: they are digests of the SQL, so what is asserted is that they move with it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest

from silver_assets.definitions import build_defs
from silver_assets.metrics import code_versions, sql
from silver_assets.settings import PROJECT_ROOT
from silver_assets_tests.conftest import make_settings


def _catalog(defs: dg.Definitions) -> dict[str, dict[str, object]]:
    graph = defs.resolve_asset_graph()
    entries = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        entries[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "tags": {k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")},
            "partitions": getattr(node.partitions_def, "name", None),
            "checks": sorted(check.name for check in node.check_keys),
            "has_code_version": node.code_version is not None,
            "description": node.description,
        }
    return entries


def test_catalog_matches_the_reviewed_snapshot(tmp_path, snapshot):
    assert _catalog(build_defs(make_settings(tmp_path))) == snapshot


def test_code_version_moves_with_the_family_sql(monkeypatch):
    before = {name: code_versions.code_version(name) for name in ("pricing_daily", "atm_iv_daily")}
    changed = sql.DAILY_QUERIES["pricing_daily"].replace(
        "quote_contracts > 0", "quote_contracts > 1"
    )
    assert changed != sql.DAILY_QUERIES["pricing_daily"]
    monkeypatch.setitem(sql.DAILY_QUERIES, "pricing_daily", changed)
    assert code_versions.code_version("pricing_daily") != before["pricing_daily"]
    assert code_versions.code_version("atm_iv_daily") == before["atm_iv_daily"]
    # The shared aggregation feeds every daily asset: changing it moves them all.
    shared = sql.DAILY_INPUTS_SQL.replace("avg(bid)", "max(bid)")
    assert shared != sql.DAILY_INPUTS_SQL
    monkeypatch.setattr(sql, "DAILY_INPUTS_SQL", shared)
    assert code_versions.code_version("atm_iv_daily") != before["atm_iv_daily"]


@pytest.mark.parametrize("module", ["silver_assets.definitions", "silver_assets.cli"])
def test_loading_the_code_is_quiet_even_with_warnings_as_errors(module, tmp_path):
    # Beta/preview notices of the pinned Dagster are filtered by the package itself, so
    # `dagster dev` and the CLI print none; any other warning fails this.
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
