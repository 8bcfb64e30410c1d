"""The origin a set of lake files declares, read by pyarrow or by DuckDB: the same answer."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets.lake.origin import MIXED, SYNTHETIC, SYNTHETIC_KEY, UNMARKED, lake_origin


@pytest.fixture
def lake_files(tmp_path):
    """One file per declared origin: ``true``, ``mixed``, an unknown value, and none at all."""
    made = {}
    for name, value in (("synthetic", b"true"), ("mixed", b"mixed"), ("odd", b"maybe")):
        made[name] = tmp_path / f"{name}.parquet"
        table = pa.table({"x": [1]}).replace_schema_metadata({SYNTHETIC_KEY: value, b"k": b"v"})
        pq.write_table(table, made[name])
    made["plain"] = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"x": [1]}), made["plain"])
    return made


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["synthetic"], SYNTHETIC),
        (["synthetic", "synthetic"], SYNTHETIC),
        (["mixed"], MIXED),
        (["plain"], UNMARKED),
        (["odd"], UNMARKED),
        (["synthetic", "mixed"], MIXED),
        (["synthetic", "plain"], MIXED),
        (["plain", "odd"], UNMARKED),
    ],
)
def test_duckdb_and_pyarrow_footer_reads_agree(lake_files, names, expected):
    paths = [lake_files[name] for name in names]
    with duckdb.connect() as con:
        assert lake_origin(paths, con) == lake_origin(paths) == expected
