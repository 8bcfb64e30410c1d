"""Per-partition truth in the UI, read back through the instance's event log.

After a ranged single-run backfill, each partition's materialization must carry that partition's
own values, lineage anchors, row count and plotted numbers (the snapshot file of that partition),
and the asset's latest materialization must be the newest anchor.
"""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pytest

from silver_assets.metrics import sql
from silver_assets.metrics.families import BUILDERS
from silver_assets.metrics.plots import answer_numbers, row_numbers
from silver_assets.snapshots import SnapshotStore

FAMILIES = tuple(BUILDERS)
EVERYTHING = frozenset({"GPR Threats", "GPR Acts"})


def _materializations(instance: dg.DagsterInstance, asset: str) -> dict[str, list]:
    """Every stored materialization of ``asset``, by partition."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records
    found: dict[str, list] = {}
    for record in records:
        found.setdefault(record.partition_key, []).append(record.asset_materialization.metadata)
    return found


def _numbers(metadata) -> dict[str, float]:
    return {
        key: value.value
        for key, value in metadata.items()
        if ("/" in key and not key.startswith("dagster/")) or key.startswith("gpr_")
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_each_partition_shows_its_own_values_anchors_and_rows(materialized, family):
    store = SnapshotStore(materialized.settings.snapshot_root)
    by_partition = _materializations(materialized.instance, family)
    partitions = store.partitions(family)
    assert len(partitions) > 1
    assert set(by_partition) == set(partitions)
    # The newest anchor is materialized twice (its range, then alone); each names only itself.
    assert max(len(events) for events in by_partition.values()) <= 2
    for key, metadata in ((k, m) for k in partitions for m in by_partition[k]):
        rows = store.read(family, key).to_pylist()
        answers = [BUILDERS[family](row, row.get("symbol") or "", EVERYTHING) for row in rows]
        shown = {r.data["ticker"]: r.data for r in metadata["values"].value.records}
        assert metadata["dagster/row_count"].value == len(rows), key
        assert set(shown) == {a.ticker or "-" for a in answers}, key
        for answer in answers:
            assert shown[answer.ticker or "-"]["lineage_anchors"] == ", ".join(answer.anchors)
        expected = {}
        for answer, row in zip(answers, rows, strict=True):
            expected.update(answer_numbers(answer, row))
        assert expected, key
        assert _numbers(metadata) == pytest.approx(expected), key


def test_numeric_metadata_names_tickers_and_values(materialized):
    store = SnapshotStore(materialized.settings.snapshot_root)
    newest = store.partitions("options_analysis")[-1]
    metadata = _materializations(materialized.instance, "options_analysis")[newest][0]
    spy = next(
        r for r in store.read("options_analysis", newest).to_pylist() if r["symbol"] == "SPY"
    )
    assert metadata["SPY/latest_atm_iv"].value == pytest.approx(spy["latest_atm_iv"])
    assert isinstance(metadata["SPY/latest_atm_iv"], dg.FloatMetadataValue)
    gpr_key = store.partitions("geopolitical_analysis")[-1]
    gpr = _materializations(materialized.instance, "geopolitical_analysis")[gpr_key][0]
    (row,) = store.read("geopolitical_analysis", gpr_key).to_pylist()
    assert gpr["gpr_index_level"].value == row["gpr"]
    assert gpr["gpr_percentile"].value == row["gpr_percentile"]  # the raw number, not "97.58%"
    assert "history" not in metadata


@pytest.mark.parametrize("asset", sorted(sql.DAILY_QUERIES))
def test_each_daily_scan_partition_shows_its_own_rows(materialized, asset):
    store = SnapshotStore(materialized.settings.snapshot_root)
    by_partition = _materializations(materialized.instance, asset)
    assert set(by_partition) == set(store.partitions(asset))
    for key, metadata in ((k, m) for k, events in by_partition.items() for m in events):
        table = store.read(asset, key)
        numeric = [
            f.name
            for f in table.schema
            if pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
        ]
        assert metadata["dagster/row_count"].value == table.num_rows, key
        assert _numbers(metadata) == pytest.approx(row_numbers(table.to_pylist(), numeric)), key


@pytest.mark.parametrize("asset", [*FAMILIES, *sorted(sql.DAILY_QUERIES)])
def test_latest_materialization_is_the_newest_anchor(materialized, asset):
    event = materialized.instance.get_latest_materialization_event(dg.AssetKey(asset))
    newest = SnapshotStore(materialized.settings.snapshot_root).partitions(asset)[-1]
    assert event.asset_materialization.partition == newest
