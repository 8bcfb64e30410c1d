"""Snapshot files: atomic replacement, provenance on every row, and partition lookups."""

from __future__ import annotations

import os
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets import snapshots
from silver_assets.snapshots import PROVENANCE_COLUMNS, SnapshotStore


def rows(value: float, n: int = 3) -> pa.Table:
    return pa.table(
        {"symbol": ["SPY"] * n, "value": [value] * n, "source_data_version": ["v1"] * n}
    )


def leftovers(store: SnapshotStore, asset: str) -> list[str]:
    return sorted(p.name for p in (store.root / asset).iterdir() if not p.name.endswith("parquet"))


def test_write_stamps_provenance_on_every_row_and_replaces_stale_stamps(tmp_path):
    store = SnapshotStore(tmp_path)
    table = rows(1.0).append_column("run_id", pa.array(["old-run"] * 3))
    path = store.write("pricing_spread", "2026-04-24", table, "run-1")
    assert path == tmp_path / "pricing_spread" / "2026-04-24.parquet"
    back = store.read("pricing_spread", "2026-04-24")
    assert (
        back.select(list(PROVENANCE_COLUMNS)).to_pylist()
        == [
            {
                "asset_key": "pricing_spread",
                "partition_key": "2026-04-24",
                "run_id": "run-1",
                "source_data_version": "v1",
            }
        ]
        * 3
    )
    assert back["value"].to_pylist() == [1.0] * 3


def test_rows_without_a_source_data_version_are_refused(tmp_path):
    with pytest.raises(ValueError, match="pricing_spread/2026-04-24: rows lack"):
        SnapshotStore(tmp_path).write("pricing_spread", "2026-04-24", pa.table({"x": [1]}), "r")
    assert not (tmp_path / "pricing_spread" / "2026-04-24.parquet").exists()


def test_a_crash_before_the_rename_leaves_the_old_snapshot_whole(tmp_path, monkeypatch):
    store = SnapshotStore(tmp_path)
    store.write("pricing_spread", "2026-04-24", rows(1.0), "run-1")

    def crash(src, dst):
        raise OSError("disk gone between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        store.write("pricing_spread", "2026-04-24", rows(2.0, n=5), "run-2")
    old = store.read("pricing_spread", "2026-04-24")
    assert old["value"].to_pylist() == [1.0] * 3
    assert set(old["run_id"].to_pylist()) == {"run-1"}
    assert leftovers(store, "pricing_spread") == []  # no temporary file survives


def test_a_writer_failing_half_way_never_touches_the_target(tmp_path, monkeypatch):
    store = SnapshotStore(tmp_path)
    store.write("pricing_spread", "2026-04-24", rows(1.0), "run-1")
    real_write = pq.write_table

    def half_write(table, where, *args, **kwargs):
        where.write(b"PAR1 half a file")  # the durable writer hands over its open temp file
        raise KeyboardInterrupt  # not even an Exception: the temp file must still go

    monkeypatch.setattr(snapshots.pq, "write_table", half_write)
    with pytest.raises(KeyboardInterrupt):
        store.write("pricing_spread", "2026-04-24", rows(2.0), "run-2")
    monkeypatch.setattr(snapshots.pq, "write_table", real_write)
    assert store.read("pricing_spread", "2026-04-24")["value"].to_pylist() == [1.0] * 3
    assert leftovers(store, "pricing_spread") == []
    assert store.partitions("pricing_spread") == ["2026-04-24"]


def test_partition_lookups(tmp_path):
    store = SnapshotStore(tmp_path)
    assert store.partitions("pricing_spread") == []
    assert store.read("pricing_spread", "2026-04-01") is None
    assert store.read_between("pricing_spread", date(2026, 4, 1), date(2026, 4, 30)) is None
    for day in ("2026-04-01", "2026-04-02", "2026-04-06"):
        store.write("pricing_spread", day, rows(float(day[-1])), f"run-{day}")
    assert store.partitions("pricing_spread") == ["2026-04-01", "2026-04-02", "2026-04-06"]
    assert store.latest_before("pricing_spread", date(2026, 4, 6)) == "2026-04-02"
    assert store.latest_before("pricing_spread", date(2026, 4, 7)) == "2026-04-06"
    assert store.latest_before("pricing_spread", date(2026, 4, 1)) is None
    between = store.read_between("pricing_spread", date(2026, 4, 2), date(2026, 4, 6))
    assert sorted(set(between["partition_key"].to_pylist())) == ["2026-04-02", "2026-04-06"]
    assert between.num_rows == 6
    assert store.read_between("pricing_spread", date(2026, 4, 3), date(2026, 4, 5)) is None


def test_many_partitions_are_read_through_duckdb_with_the_same_rows(tmp_path):
    store = SnapshotStore(tmp_path)
    days = [date(2026, 3, day).isoformat() for day in range(1, snapshots.FEW_FILES + 4)]
    for day in days:
        store.write("pricing_spread", day, rows(1.5, n=2), f"run-{day}")
    table = store.read_between("pricing_spread", date(2026, 3, 2), date(2026, 3, 31))
    assert table.num_rows == 2 * (len(days) - 1)
    assert sorted(set(table["partition_key"].to_pylist())) == days[1:]
    assert set(table.column_names) >= {"symbol", "value", *PROVENANCE_COLUMNS}


def test_write_many_stamps_each_partition_with_its_own_provenance(tmp_path):
    store = SnapshotStore(tmp_path)
    store.write("pricing_spread", "2026-04-01", rows(0.5), "run-0")
    days = ["2026-04-01", "2026-04-02", "2026-04-03"]
    written = store.write_many(
        "pricing_spread",
        {day: rows(float(day[-1]), n=i + 1) for i, day in enumerate(days)},
        "run-1",
    )
    assert written == {day: store.path("pricing_spread", day) for day in days}
    for i, day in enumerate(days):
        back = store.read("pricing_spread", day)
        assert back["value"].to_pylist() == [float(day[-1])] * (i + 1)  # the old rows replaced
        pairs = zip(back["partition_key"].to_pylist(), back["run_id"].to_pylist(), strict=True)
        assert set(pairs) == {(day, "run-1")}


def test_write_many_refuses_rows_without_a_version_before_writing_any(tmp_path):
    store = SnapshotStore(tmp_path)
    store.write("pricing_spread", "2026-04-01", rows(0.5), "run-0")
    tables = {"2026-04-01": rows(1.0), "2026-04-02": pa.table({"x": [1]}), "2026-04-03": rows(3.0)}
    with pytest.raises(ValueError, match="pricing_spread/2026-04-02: rows lack"):
        store.write_many("pricing_spread", tables, "run-1")
    assert store.partitions("pricing_spread") == ["2026-04-01"]
    assert store.read("pricing_spread", "2026-04-01")["value"].to_pylist() == [0.5] * 3


def test_write_many_raises_a_failed_write_and_keeps_the_other_partitions_whole(
    tmp_path, monkeypatch
):
    store = SnapshotStore(tmp_path)
    store.write("pricing_spread", "2026-04-02", rows(0.5), "run-0")
    real_replace = os.replace

    def refuse_one(src, dst):
        if str(dst).endswith("2026-04-02.parquet"):
            raise OSError("disk gone for one file")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_one)
    tables = {day: rows(float(day[-1])) for day in ("2026-04-01", "2026-04-02", "2026-04-03")}
    with pytest.raises(OSError, match="disk gone for one file"):
        store.write_many("pricing_spread", tables, "run-1")
    assert store.partitions("pricing_spread") == ["2026-04-01", "2026-04-02", "2026-04-03"]
    assert store.read("pricing_spread", "2026-04-02")["value"].to_pylist() == [0.5] * 3
    assert store.read("pricing_spread", "2026-04-03")["value"].to_pylist() == [3.0] * 3
    assert leftovers(store, "pricing_spread") == []
