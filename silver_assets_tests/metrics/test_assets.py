"""Asset tests through Dagster: backfills, point-in-time answers, differential, blocking checks."""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta

import dagster as dg
import pyarrow.parquet as pq
import pytest

from silver_assets.audit import AuditLog
from silver_assets.automation.runs import run_dataset
from silver_assets.definitions import build_defs
from silver_assets.lake import files
from silver_assets.metrics import sql
from silver_assets.metrics.compute import direct_family_tables
from silver_assets.metrics.materialize import daily_scan
from silver_assets.registry import DATASETS, families_of
from silver_assets.snapshots import PROVENANCE_COLUMNS, SnapshotStore
from silver_assets_tests.conftest import DEMO_DAYS, build_lake, materialize_all

FAMILIES = {d: tuple(f.name for f in families_of(d)) for d in DATASETS}
# data_origin records which lake files a snapshot came from; the query-time path has no snapshot.
NOT_VALUES = {*PROVENANCE_COLUMNS, "data_origin"}


def _without_provenance(value):
    # The IV-rank window nests daily rows, whose provenance is not a value either.
    if isinstance(value, list):
        return [{k: v for k, v in e.items() if k not in NOT_VALUES} for e in value]
    return value


def _rows(table, drop=NOT_VALUES):
    rows = [
        {k: _without_provenance(v) for k, v in row.items() if k not in drop}
        for row in table.to_pylist()
    ]
    return sorted(rows, key=lambda r: (str(r.get("anchor_date")), str(r.get("symbol"))))


def _same(left, right):
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            x, y = a[key], b[key]
            if isinstance(x, float) and isinstance(y, float):
                assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, abs=1e-12), key
            else:
                assert x == y, (key, x, y)


def test_every_partition_is_written_with_provenance(materialized):
    store = SnapshotStore(materialized.settings.snapshot_root)
    options_days = files.options_dates(materialized.settings.lake_root)
    assert len(options_days) == DEMO_DAYS
    for family in FAMILIES["options"]:
        assert store.partitions(family) == [d.isoformat() for d in options_days]
    table = store.read("put_call_ratio", options_days[-1].isoformat())
    assert sorted(table["symbol"].to_pylist()) == ["GLD", "IWM", "QQQ", "SPY"]
    for column in PROVENANCE_COLUMNS:
        assert None not in table[column].to_pylist(), column
    assert set(table["run_id"].to_pylist()) == {materialized.runs["options"].run_ids[-1]}
    assert set(table["partition_key"].to_pylist()) == {options_days[-1].isoformat()}


def test_materialized_values_equal_query_time_computation(materialized):
    """Differential: every anchor and ticker, snapshot == the original query-time design."""
    settings, store = materialized.settings, SnapshotStore(materialized.settings.snapshot_root)
    for anchor in files.options_dates(settings.lake_root):
        con = sql.connect()
        direct = direct_family_tables(
            con, settings, [*FAMILIES["options"], *FAMILIES["macro"]], anchor
        )
        for family, table in direct.items():
            stored = store.read(family, anchor.isoformat())
            assert stored.num_rows == table.num_rows > 0, (family, anchor)
            _same(_rows(stored), _rows(table))


def test_gpr_real_april_2026(materialized):
    table = SnapshotStore(materialized.settings.snapshot_root).read(
        "geopolitical_analysis", "2026-04-01"
    )
    (row,) = table.to_pylist()
    assert (row["gpr"], row["gpr_percentile"], row["gpr_mom_pct"] <= 0) == (230.77, 97.58, True)


def test_single_run_backfill_equals_per_date_runs(materialized, tmp_path):
    """The same anchors materialized one run per date give the same snapshots."""
    settings = materialized.settings
    # Every date, one run each: the IV rank of a late anchor needs the earlier daily ATM rows.
    days = files.options_dates(settings.lake_root)
    per_date = type(settings)(**{**settings.__dict__, "snapshot_root": tmp_path / "snap"})
    defs, instance = build_defs(per_date), dg.DagsterInstance.ephemeral()
    for day in days:
        for dataset in ("options", "macro"):
            assert run_dataset(defs, instance, dataset, [day.isoformat()]).success
    backfilled = SnapshotStore(settings.snapshot_root)
    separately = SnapshotStore(per_date.snapshot_root)
    # Per-date runs after the first carry each family forward from the previous snapshot.
    for family in (*FAMILIES["options"], *FAMILIES["macro"]):
        for day in days:
            _same(
                _rows(separately.read(family, day.isoformat())),
                _rows(backfilled.read(family, day.isoformat())),
            )


def test_old_anchor_is_point_in_time(tmp_path):
    """Re-materializing an old anchor after newer files arrive reproduces its answer."""
    settings = build_lake(tmp_path, days=6)
    instance = dg.DagsterInstance.ephemeral()
    assert all(r.success for r in materialize_all(settings, instance).values())
    store = SnapshotStore(settings.snapshot_root)
    days = files.options_dates(settings.lake_root)
    old = days[2].isoformat()
    before = {f: _rows(store.read(f, old), NOT_VALUES) for f in FAMILIES["options"]}
    # A newer day arrives with different numbers: copy the last day forward and double volumes.
    newer = days[-1] + timedelta(days=3)
    for path in files.options_files(settings.lake_root, days[-1]):
        table = pq.read_table(path)
        table = table.set_column(
            table.schema.get_field_index("volume"), "volume", pq.read_table(path)["volume"]
        )
        target = settings.lake_root / "options" / newer.isoformat()
        target.mkdir(parents=True, exist_ok=True)
        name = path.name.replace(days[-1].isoformat(), newer.isoformat())
        pq.write_table(
            table.set_column(0, "snapshot_date", [[newer.isoformat()] * table.num_rows]),
            target / name,
        )
    defs = build_defs(settings)
    assert run_dataset(defs, instance, "options", [newer.isoformat()]).success
    assert run_dataset(defs, instance, "options", [old]).success
    after = {f: _rows(store.read(f, old), NOT_VALUES) for f in FAMILIES["options"]}
    assert after == before
    # and the new anchor really did see the new day
    assert store.read("put_call_ratio", newer.isoformat())["snapshot_date"].to_pylist()[0] == newer


def test_failed_blocking_check_blocks_metrics(tmp_path):
    settings = build_lake(tmp_path, days=3)
    day = files.options_dates(settings.lake_root)[-1]
    victim = files.options_files(settings.lake_root, day)[0]
    victim.write_bytes(b"this is not parquet")
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", [day.isoformat()])
    assert not run.success
    (failed,) = run.failed_checks
    assert failed.startswith("options_contract (unreadable Parquet")
    assert victim.name in failed
    assert (
        not SnapshotStore(settings.snapshot_root).path("put_call_ratio", day.isoformat()).exists()
    )
    events = AuditLog(settings.audit_root).read()
    check = [e for e in events if e["event"] == "SCHEMA_CHECK"][-1]
    assert check["status"] == "READ_FAILED"
    assert victim.name in check["message"]


def test_check_metadata_shows_failures_and_samples(tmp_path):
    settings = build_lake(tmp_path, days=2)
    day = files.options_dates(settings.lake_root)[-1]
    path = files.options_files(settings.lake_root, day)[0]
    table = pq.read_table(path)
    index = table.schema.get_field_index("spread_pct")
    pq.write_table(table.set_column(index, "spread_pct", [[0.01] * table.num_rows]), path)
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", [day.isoformat()])
    assert not run.success
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("silver_options"), "options_contract")]
    )[dg.AssetCheckKey(dg.AssetKey("silver_options"), "options_contract")]
    evaluation = record.event.dagster_event.event_specific_data
    assert not evaluation.passed
    assert evaluation.metadata["failure_count"].value > 0
    assert evaluation.metadata["sample_failures"].value


def test_missing_lake_root_is_a_check_failure_not_a_crash(tmp_path):
    settings = build_lake(tmp_path, days=2)
    shutil.rmtree(settings.lake_root)
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", [date(2026, 4, 30).isoformat()])
    assert not run.success
    assert run.failed_checks == (
        "options_contract (options: anchor 2026-04-30, but the lake has no options data for it "
        "(the lake holds none at all))",
    )


def test_anchor_first_then_history_gives_the_query_time_answer(tmp_path):
    """An anchor materialized alone takes its lookback along; history registered later runs
    in date order (partitions added out of order get one run per contiguous group)."""
    settings = build_lake(tmp_path, days=6)
    instance, defs = dg.DagsterInstance.ephemeral(), build_defs(settings)
    days = files.options_dates(settings.lake_root)
    alone = run_dataset(defs, instance, "options", [days[-1].isoformat()])
    assert alone.success
    assert len(alone.run_ids) == 2
    table = SnapshotStore(settings.snapshot_root).read("options_analysis", days[-1].isoformat())
    assert set(table["rank_days"].to_pylist()) == {6}  # the whole lake, not one day
    everything = run_dataset(defs, instance, "options", [d.isoformat() for d in days])
    assert everything.success
    direct = direct_family_tables(sql.connect(), settings, ["options_analysis"], days[-1])
    stored = SnapshotStore(settings.snapshot_root).read("options_analysis", days[-1].isoformat())
    _same(_rows(stored), _rows(direct["options_analysis"]))


def test_a_day_without_rows_keeps_later_snapshots_readable(tmp_path):
    settings = build_lake(tmp_path, days=3)
    instance, defs = dg.DagsterInstance.ephemeral(), build_defs(settings)
    days = files.options_dates(settings.lake_root)
    assert run_dataset(defs, instance, "options", [days[0].isoformat()]).success
    for path in files.options_files(settings.lake_root, days[1]):  # a day with empty files
        pq.write_table(pq.read_table(path).slice(0, 0), path)
    for day in days[1:]:
        assert run_dataset(defs, instance, "options", [day.isoformat()]).success
    store = SnapshotStore(settings.snapshot_root)
    for day in days:
        table = store.read("liquidity_analysis", day.isoformat())
        assert table.num_rows == 4
        assert table.column_names.count("market_impact_risk") == 1


def test_unreadable_older_day_in_a_range_is_named(tmp_path):
    settings = build_lake(tmp_path, days=8)
    days = files.options_dates(settings.lake_root)
    victim = files.options_files(settings.lake_root, days[0])[0]
    good = pq.read_table(victim)
    data = bytearray(victim.read_bytes())
    data[200:4000] = b"\x00" * 3800  # corrupt data pages, keep the footer
    victim.write_bytes(bytes(data))
    assert pq.read_schema(victim).names == good.column_names
    instance = dg.DagsterInstance.ephemeral()
    run = run_dataset(build_defs(settings), instance, "options", [d.isoformat() for d in days])
    assert not run.success  # the contract check reads every row of the range
    (failed,) = run.failed_checks
    assert "unreadable Parquet rows" in failed
    assert victim.name in failed
    assert not SnapshotStore(settings.snapshot_root).partitions("put_call_ratio")
    # Outside a run (the benchmark calls the scan directly) the scan names the file itself.
    with pytest.raises(ValueError, match=f"unreadable option files: {victim.name}"):
        daily_scan(sql.connect(), settings, days, "direct")
