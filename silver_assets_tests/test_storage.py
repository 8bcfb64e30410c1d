"""Locations on disk and on S3 (moto's S3 server on 127.0.0.1): listing, versions, state file,
and the object-storage snapshot store with its pointer switch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from silver_assets import storage
from silver_assets.anchors import read_state, resolve_anchors, write_state
from silver_assets.lake import files
from silver_assets.lake.generator import generate_lake
from silver_assets.lake.origin import lake_origin
from silver_assets.snapshots import FEW_FILES, ObjectSnapshotStore, SnapshotStore
from silver_assets.sources import versions
from silver_assets_tests.s3 import new_bucket, upload


def test_location_keeps_local_paths_and_reads_s3_urls(tmp_path):
    assert storage.location("data/silver", base=tmp_path) == tmp_path / "data" / "silver"
    assert storage.location(tmp_path / "x") == tmp_path / "x"
    assert not storage.is_remote(storage.location(tmp_path))
    remote = storage.location("s3://bucket/some/prefix/")
    assert storage.is_remote(remote)
    assert str(remote) == "s3://bucket/some/prefix"
    assert str(remote / "options" / "2026-04-30") == "s3://bucket/some/prefix/options/2026-04-30"
    assert storage.location(remote) is remote


@pytest.mark.parametrize(
    ("raw", "message"),
    [("gs://bucket/x", "s3://bucket/prefix"), ("s3:///x", "names no bucket")],
)
def test_location_rejects_what_it_cannot_read(raw, message):
    with pytest.raises(ValueError, match=message):
        storage.location(raw)


def test_the_demo_generator_refuses_an_s3_lake():
    with pytest.raises(ValueError, match="generate it in a folder"):
        generate_lake(storage.location("s3://bucket/silver"), days=2, progress=False)


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    generate_lake(root / "silver", days=3, seed=5, tickers=("SPY", "QQQ"), progress=False)
    return root / "silver"


def test_s3_lake_lists_and_versions_like_the_local_one(s3_env, small_lake):
    lake = new_bucket() / "silver"
    upload(small_lake, lake)
    for dataset in ("options", "macro"):
        dates, lister = files.daily_listing(dataset)
        assert dates(lake) == dates(small_lake)
        assert len(dates(lake)) == 3
        for day in dates(lake):
            assert [p.name for p in lister(lake, day)] == [p.name for p in lister(small_lake, day)]
        # Different change stamps (ETags, not mtimes), the same dates.
        assert versions.daily_versions(lake, dataset).keys() == (
            versions.daily_versions(small_lake, dataset).keys()
        )
    assert versions.gpr_month_versions(lake) == versions.gpr_month_versions(small_lake)
    assert lake_origin(files.files_between(lake, "options", date(2000, 1, 1), date.today())) == (
        "synthetic"
    )


def test_s3_version_of_a_day_changes_when_a_file_is_replaced(s3_env, small_lake):
    lake = new_bucket() / "silver"
    upload(small_lake, lake)
    day = files.options_dates(lake)[-1]
    before = versions.version_of_day(lake, "options", day)
    assert versions.version_of_day(lake, "options", day) == before
    target = files.options_files(lake, day)[0]
    storage.write_whole(target, lambda handle: handle.write(b"not the same bytes"))
    assert versions.version_of_day(lake, "options", day) != before
    target.unlink()
    assert versions.version_of_day(lake, "options", day) not in (before, versions.EMPTY_VERSION)


def test_state_file_on_s3(s3_env):
    state = new_bucket() / "state" / "collect_data_state.json"
    with pytest.raises(ValueError, match="does not exist"):
        read_state(state)
    write_state(state, {"options_daily": "2026-04-30"})
    write_state(state, {"gpr_monthly": "2026-04"})
    assert read_state(state) == {"options_daily": "2026-04-30", "gpr_monthly": "2026-04"}
    anchors = resolve_anchors(state, today=date(2026, 5, 2))
    assert anchors["options"].date == date(2026, 4, 30)
    assert not anchors["options"].is_fallback


def _rows(tag: str, n: int = 2) -> pa.Table:
    return pa.table({"symbol": [f"S{i}" for i in range(n)], "source_data_version": [tag] * n})


def test_object_store_reads_like_the_local_store(s3_env, tmp_path):
    remote, local = SnapshotStore(new_bucket() / "snapshots"), SnapshotStore(tmp_path)
    assert isinstance(remote, ObjectSnapshotStore)
    assert type(local) is SnapshotStore
    days = [date(2026, 4, day) for day in range(1, FEW_FILES + 4)]  # both read paths
    for store in (remote, local):
        assert store.partitions("fam") == []
        assert store.read("fam", "2026-04-01") is None
        for day in days:
            store.write("fam", day.isoformat(), _rows(day.isoformat()), run_id="r1")
    assert remote.partitions("fam") == local.partitions("fam") == [d.isoformat() for d in days]
    assert remote.read("fam", "2026-04-02") == local.read("fam", "2026-04-02")
    assert remote.latest_before("fam", date(2026, 4, 3)) == "2026-04-02"
    for end in (days[2], days[-1]):  # a few files (pyarrow), many files (DuckDB)
        assert remote.read_between("fam", days[0], end) == local.read_between("fam", days[0], end)


def test_reader_during_a_rewrite_sees_the_old_snapshot_then_the_new(s3_env, monkeypatch):
    store = SnapshotStore(new_bucket() / "snapshots")
    store.write("fam", "2026-04-30", _rows("v1"), run_id="run-1")
    seen_between: list[pa.Table] = []
    switch = ObjectSnapshotStore._switch

    def read_then_switch(self, asset, partition, name):
        # The new object is whole and listed, the pointer not yet moved: a reader now.
        assert len(list(store._objects(asset, partition).iterdir())) == 2
        seen_between.append(store.read(asset, partition))
        switch(self, asset, partition, name)

    monkeypatch.setattr(ObjectSnapshotStore, "_switch", read_then_switch)
    store.write("fam", "2026-04-30", _rows("v2"), run_id="run-2")
    assert set(seen_between[0].column("run_id").to_pylist()) == {"run-1"}
    assert set(store.read("fam", "2026-04-30").column("run_id").to_pylist()) == {"run-2"}


def test_old_objects_are_deleted_after_the_switch_but_the_previous_one(s3_env):
    store = SnapshotStore(new_bucket() / "snapshots")
    written = [store.write("fam", "2026-04-30", _rows(f"v{i}"), run_id=f"r{i}") for i in range(3)]
    kept = sorted(p.name for p in store._objects("fam", "2026-04-30").iterdir())
    assert kept == sorted(p.name for p in written[1:])
    assert store.resolve("fam", "2026-04-30") == written[-1]


def test_object_store_reads_partitions_whose_columns_differ(s3_env):
    store = SnapshotStore(new_bucket() / "snapshots")
    store.write("fam", "2026-04-01", _rows("v1"), run_id="r1")
    grown = _rows("v2").append_column("extra", pa.array([1.0, 2.0]))
    store.write("fam", "2026-04-02", grown, run_id="r1")
    table = store.read_between("fam", date(2026, 4, 1), date(2026, 4, 2))
    assert table.column("extra").to_pylist() == [None, None, 1.0, 2.0]


def test_a_stale_object_deleted_by_a_concurrent_writer_does_not_fail_the_write(s3_env, monkeypatch):
    store = SnapshotStore(new_bucket() / "snapshots")
    oldest = store.write("fam", "2026-04-30", _rows("v0"), run_id="r0")
    store.write("fam", "2026-04-30", _rows("v1"), run_id="r1")
    folder = store._objects("fam", "2026-04-30")
    iterdir = type(folder).iterdir

    def listed_then_deleted_elsewhere(self):
        # Another writer of the partition removes the stale object after this one listed it.
        listed = list(iterdir(self))
        oldest.unlink()
        return iter(listed)

    monkeypatch.setattr(type(folder), "iterdir", listed_then_deleted_elsewhere)
    written = store.write("fam", "2026-04-30", _rows("v2"), run_id="r2")
    assert store.resolve("fam", "2026-04-30") == written


def test_write_many_on_s3_publishes_every_partition_behind_its_pointer(s3_env):
    store = SnapshotStore(new_bucket() / "snapshots")
    days = [date(2026, 4, day).isoformat() for day in range(1, 6)]
    store.write_many("fam", {day: _rows(day) for day in days}, run_id="r1")
    store.write_many("fam", {day: _rows(day) for day in days[:2]}, run_id="r2")
    assert store.partitions("fam") == days
    for day in days:
        back = store.read("fam", day)
        assert set(back["partition_key"].to_pylist()) == {day}
        assert set(back["run_id"].to_pylist()) == {"r2" if day in days[:2] else "r1"}
