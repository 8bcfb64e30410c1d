"""Adding a family: a test-only spec on an existing daily input materializes like the real ones.

The spec is the only new thing. A real family is declared in ``registry.FAMILIES`` (and gets its
builder, catalogue entries and code version); here the fixture adds it to the tables the modules
derived from the registry at import, which is what declaring it there would have done.
"""

from __future__ import annotations

import dagster as dg
import pytest

from silver_assets import registry
from silver_assets.metrics import compute, families
from silver_assets.metrics.assets import (
    OPTION_FAMILY_ASSETS,
    option_family_asset,
    options_daily_scan,
)
from silver_assets.partitions import anchor_keys, register_partitions
from silver_assets.resources import default_resources
from silver_assets.snapshots import PROVENANCE_COLUMNS, SnapshotStore
from silver_assets_tests.conftest import build_lake

# The whole of the new family: its spec (its SQL is put_call_ratio's latest-as-of).
PCR_COPY = registry.Family(
    "put_call_ratio_copy",
    "options",
    "Test only: the latest daily put/call ratio, under another name.",
    daily_inputs=("put_call_ratio_daily",),
    carried_input="put_call_ratio_daily",
)


@pytest.fixture
def pcr_copy(monkeypatch) -> registry.Family:
    monkeypatch.setitem(registry.FAMILIES, PCR_COPY.name, PCR_COPY)
    monkeypatch.setitem(compute.FAMILY_INPUTS, PCR_COPY.name, PCR_COPY.daily_inputs)
    monkeypatch.setitem(compute.CARRIED_INPUTS, PCR_COPY.name, (PCR_COPY.carried_input, {}))
    monkeypatch.setitem(families.BUILDERS, PCR_COPY.name, families.put_call_ratio)
    return PCR_COPY


def _values(table):
    return table.drop_columns([c for c in PROVENANCE_COLUMNS if c in table.column_names])


def test_a_family_declared_by_its_spec_materializes(tmp_path, pcr_copy):
    settings = build_lake(tmp_path, days=4)
    instance = dg.DagsterInstance.ephemeral()
    (key,) = anchor_keys("options", settings)
    register_partitions(instance, "options", [key])
    asset = option_family_asset(pcr_copy)
    assert asset.asset_deps[asset.key] == {dg.AssetKey("put_call_ratio_daily")}
    (put_call_ratio,) = [a for a in OPTION_FAMILY_ASSETS if a.key.path == ["put_call_ratio"]]
    defs = dg.Definitions(
        assets=[options_daily_scan, put_call_ratio, asset], resources=default_resources(settings)
    )
    result = dg.materialize(
        [options_daily_scan, put_call_ratio, asset],
        instance=instance,
        partition_key=key,
        resources=default_resources(settings),
    )
    assert result.success
    assert defs.resolve_assets_def(asset.key).descriptions_by_key[asset.key] == PCR_COPY.description
    store = SnapshotStore(settings.snapshot_root)
    copy, original = store.read(PCR_COPY.name, key), store.read("put_call_ratio", key)
    assert copy.num_rows > 0
    assert (
        _values(copy)
        .drop_columns(["data_origin"])
        .equals(_values(original).drop_columns(["data_origin"]))
    )
