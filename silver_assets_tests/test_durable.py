"""Durable atomic writes: fsync the file before the rename and the folder after it."""

from __future__ import annotations

import os
import stat

import pyarrow as pa
import pytest

from silver_assets.anchors import read_state, write_state
from silver_assets.durable import write_atomically
from silver_assets.snapshots import SnapshotStore


@pytest.fixture
def calls(monkeypatch):
    """Record fsyncs (of a file or a directory) and renames, in order."""
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        seen.append(("fsync", kind))
        return real_fsync(fd)

    def replace(src, dst):
        seen.append(("replace", os.path.basename(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def test_snapshot_write_fsyncs_file_then_renames_then_fsyncs_folder(tmp_path, calls):
    table = pa.table({"x": [1, 2], "source_data_version": ["v", "v"]})
    path = SnapshotStore(tmp_path).write("atm_iv_daily", "2026-04-30", table, "run-1")
    assert calls == [("fsync", "file"), ("replace", "2026-04-30.parquet"), ("fsync", "dir")]
    assert SnapshotStore(tmp_path).read("atm_iv_daily", "2026-04-30")["x"].to_pylist() == [1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["2026-04-30.parquet"]  # no temp left


def test_state_file_is_written_durably(tmp_path, calls):
    state = tmp_path / "state" / "collect_data_state.json"
    write_state(state, {"options_daily": "2026-04-30"})
    assert calls == [("fsync", "file"), ("replace", state.name), ("fsync", "dir")]
    assert read_state(state) == {"options_daily": "2026-04-30"}
    assert stat.S_IMODE(state.stat().st_mode) == 0o644


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "answers.json"
    write_atomically(target, lambda handle: handle.write(b"old"))

    def broken(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["answers.json"]


def test_not_durable_skips_the_fsyncs(tmp_path, calls):
    write_atomically(tmp_path / "x.bin", lambda handle: handle.write(b"x"), durable=False)
    assert calls == [("replace", "x.bin")]


def test_write_many_writes_each_partition_durably_and_atomically(tmp_path, calls):
    days = [f"2026-04-{day:02d}" for day in range(1, 8)]
    tables = {day: pa.table({"x": [i], "source_data_version": ["v"]}) for i, day in enumerate(days)}
    SnapshotStore(tmp_path).write_many("atm_iv_daily", tables, "run-1")
    # Written concurrently, so interleaved; each partition still has its file fsync, its
    # rename and a folder fsync.
    assert sorted(name for kind, name in calls if kind == "replace") == [
        f"{d}.parquet" for d in days
    ]
    assert calls.count(("fsync", "file")) == calls.count(("fsync", "dir")) == len(days)
    assert sorted(p.name for p in (tmp_path / "atm_iv_daily").iterdir()) == [
        f"{d}.parquet" for d in days
    ]
