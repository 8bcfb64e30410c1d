"""data_status: state anchors against the newest materialized partitions, and data origin."""

from __future__ import annotations

from silver_assets.lake import files
from silver_assets.query.data_status import data_status


def test_fully_materialized_lake_is_fresh_and_synthetic(materialized) -> None:
    status = {d.dataset: d for d in data_status(materialized.settings).datasets}
    last_day = files.options_dates(materialized.settings.lake_root)[-1].isoformat()
    options = status["options"]
    assert options.state_anchor == last_day
    assert options.anchor_fallback is None
    assert not options.stale
    assert {f.family: f.newest_partition for f in options.families} == {
        "put_call_ratio": last_day,
        "options_analysis": last_day,
        "liquidity_analysis": last_day,
        "pricing_spread": last_day,
    }
    assert {f.data_origin for f in options.families} == {"synthetic"}
    (gpr,) = status["gpr"].families
    assert (gpr.newest_partition, gpr.data_origin) == (status["gpr"].state_anchor, "mixed")


def test_no_snapshots_is_stale_with_no_origin(materialized, tmp_path) -> None:
    empty = materialized.settings.replace(snapshot_root=tmp_path / "none")
    for dataset in data_status(empty).datasets:
        assert dataset.stale
        assert all(f.newest_partition is None and f.data_origin is None for f in dataset.families)
