"""The blocking contract checks inside the dataset jobs: a failure keeps every snapshot as it was.

Options are covered through the real CLI (``test_materialize_contracts_e2e``); here macro and GPR
run in process on an ephemeral instance.
"""

from __future__ import annotations

import hashlib

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets.automation.runs import run_dataset
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets_tests.conftest import build_lake


def _hashes(root) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.parquet")}


@pytest.mark.parametrize(
    ("dataset", "keys", "rule"),
    [
        ("macro", None, "one_row_per_symbol_observation_date_retrieval_date"),
        ("gpr", ["2026-03-01", "2026-04-01"], "one_row_per_month"),
    ],
)
def test_duplicated_rows_block_the_metrics_and_keep_snapshots(tmp_path, dataset, keys, rule):
    settings = build_lake(tmp_path, days=3)
    keys = keys or [d.isoformat() for d in files.macro_dates(settings.lake_root)]
    instance, defs = dg.DagsterInstance.ephemeral(), build_defs(settings)
    assert run_dataset(defs, instance, dataset, keys).success
    before = _hashes(settings.snapshot_root)
    if dataset == "macro":
        victim = files.macro_files(settings.lake_root, files.macro_dates(settings.lake_root)[0])[0]
    else:
        victim = files.gpr_file(settings.lake_root)
    table = pq.read_table(victim)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), victim)
    run = run_dataset(defs, instance, dataset, keys)
    assert not run.success
    (failed,) = run.failed_checks
    assert failed.startswith(f"{dataset}_contract (2 contract failures: {rule} (2 rows in ")
    assert victim.name in failed
    assert _hashes(settings.snapshot_root) == before
