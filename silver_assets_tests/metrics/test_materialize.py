"""Chunked materialization: any chunk size gives the same snapshots and the same answers."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from silver_assets.lake import files
from silver_assets.lake.origin import MIXED, SYNTHETIC, UNKNOWN, UNMARKED, recorded_origin
from silver_assets.metrics import materialize, sql
from silver_assets.metrics.compute import OPTION_FAMILIES
from silver_assets.query.answer import answer_query
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore
from silver_assets_tests.conftest import build_lake

REQUEST = {
    "tickers": ["SPY", "QQQ", "GLD"],
    "metrics": ["Put/Call Ratio", "IV Skew", "Options Liquidity", "Options Pricing / Spread"],
    "time_window": "past_week",
}


def _backfill(settings: Settings, folder: str, scan_days: int, family_days: int, monkeypatch):
    settings = settings.replace(snapshot_root=settings.snapshot_root / folder)
    monkeypatch.setattr(materialize, "SCAN_CHUNK_DAYS", scan_days)
    monkeypatch.setattr(materialize, "FAMILY_CHUNK_DAYS", family_days)
    days = files.options_dates(settings.lake_root)
    con = sql.connect(threads=1, memory_limit="512MB")
    materialize.daily_scan(con, settings, days, "run-" + folder)
    for family in OPTION_FAMILIES:
        materialize.option_family_partitions(con, settings, family, days, "run-" + folder)
    con.close()
    return settings


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Settings:
    return build_lake(tmp_path_factory.mktemp("chunks"), days=9, iv_rank_lookback_days=5)


def test_chunked_and_unchunked_backfills_write_identical_snapshots(lake, monkeypatch):
    whole = _backfill(lake, "whole", scan_days=1000, family_days=1000, monkeypatch=monkeypatch)
    chunked = _backfill(lake, "chunked", scan_days=2, family_days=3, monkeypatch=monkeypatch)
    left, right = SnapshotStore(whole.snapshot_root), SnapshotStore(chunked.snapshot_root)
    assets = sorted(p.name for p in Path(whole.snapshot_root).iterdir())
    assert assets == sorted(p.name for p in Path(chunked.snapshot_root).iterdir())
    assert set(OPTION_FAMILIES) <= set(assets)
    for asset in assets:
        keys = left.partitions(asset)
        assert keys == right.partitions(asset)
        assert len(keys) == 9
        for key in keys:
            a, b = left.read(asset, key), right.read(asset, key)
            assert a.drop_columns(["run_id"]).equals(b.drop_columns(["run_id"])), (asset, key)

    # Point-in-time answers (values and lineage anchors) agree for every anchor.
    for day in files.options_dates(lake.lake_root):
        answers = [answer_query(s, REQUEST, as_of=day) for s in (whole, chunked)]
        assert answers[0]["values"] == answers[1]["values"], day
        assert answers[0]["lineage_anchors"] == answers[1]["lineage_anchors"], day


def test_families_take_the_origin_their_stored_daily_rows_record(tmp_path, monkeypatch):
    """Families read no lake footer: an unmarked lake's origin reaches them through the daily
    rows, and through the IV-rank window a one-anchor chunk carries from the anchor before."""
    lake = build_lake(tmp_path, days=4, iv_rank_lookback_days=5)
    for path in Path(lake.lake_root, "options").rglob("*.parquet"):
        pq.write_table(pq.read_table(path).replace_schema_metadata(None), path)
    settings = _backfill(lake, "unmarked", 1000, 1, monkeypatch=monkeypatch)
    store = SnapshotStore(settings.snapshot_root)
    for family in OPTION_FAMILIES:
        for key in store.partitions(family):
            table = store.read(family, key)
            assert table.num_rows, (family, key)
            assert set(table["data_origin"].to_pylist()) == {UNMARKED}, (family, key)


def test_recorded_origin_combines_the_rows_of_every_table() -> None:
    def rows(*origins):
        return pa.table({"data_origin": pa.array(origins, pa.string())})

    assert recorded_origin([rows(SYNTHETIC, SYNTHETIC), rows(SYNTHETIC)]) == SYNTHETIC
    assert recorded_origin([rows(SYNTHETIC), rows(UNMARKED)]) == MIXED
    assert recorded_origin([rows(), pa.table({"x": pa.array([], pa.int8())})]) == UNKNOWN
    assert recorded_origin([rows(SYNTHETIC), pa.table({"x": [1]})]) == UNKNOWN
    assert recorded_origin([rows(SYNTHETIC, None)]) == UNKNOWN


@pytest.mark.parametrize(
    ("tickers", "anchors"), [(0, 21), (1, 21), (5, 21), (23, 21), (24, 20), (100, 5), (501, 1)]
)
def test_iv_rank_chunks_stay_within_the_anchor_ticker_budget(tickers, anchors) -> None:
    assert materialize.family_chunk_days("options_analysis", tickers) == anchors
    # The other families carry no year-long window: their chunks stay 21 anchors.
    assert materialize.family_chunk_days("put_call_ratio", tickers) == 21
