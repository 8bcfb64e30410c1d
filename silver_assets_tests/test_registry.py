"""The registry: every spec consistent, and the tables derived from it the ones the code had."""

from __future__ import annotations

from datetime import date

import pytest

from silver_assets import registry
from silver_assets.anchors import STATE_KEYS
from silver_assets.automation.freshness import COMPLETION_ASSET
from silver_assets.automation.jobs import DATASET_SOURCES
from silver_assets.checks import contracts
from silver_assets.metrics import sql
from silver_assets.metrics.code_versions import code_version
from silver_assets.metrics.compute import CARRIED_INPUTS, FAMILY_INPUTS, OPTION_FAMILIES
from silver_assets.metrics.families import BUILDERS, FAMILY_DATASET
from silver_assets.partitions import PARTITIONS_BY_DATASET
from silver_assets.query.catalogue import CATALOGUE, FAMILIES
from silver_assets.query.models import SOURCES
from silver_assets.sources.assets import SOURCES as SOURCE_ASSETS

DATASETS = registry.DATASETS.values()
SPECS = registry.FAMILIES.values()


@pytest.mark.parametrize("attribute", ["state_key", "partitions_name", "source_asset"])
def test_dataset_attributes_are_unique(attribute):
    values = [getattr(d, attribute) for d in DATASETS]
    assert len(set(values)) == len(values)


def test_each_family_has_a_known_dataset_and_daily_inputs():
    for family in SPECS:
        assert family.dataset in registry.DATASETS, family.name
        assert set(family.daily_inputs) <= set(sql.DAILY_QUERIES), family.name
        assert family.carried_input is None or family.carried_input in family.daily_inputs
        assert family.description


def test_each_dataset_is_completed_by_one_of_its_families():
    for dataset in DATASETS:
        assert registry.FAMILIES[dataset.completion_family].dataset == dataset.name


def test_each_family_has_a_builder_code_version_and_catalogue_entries():
    catalogued = {metric.family for metric in CATALOGUE}
    for family in SPECS:
        assert family.name in BUILDERS
        assert code_version(family.name) is not None
        assert family.name in catalogued
    assert set(BUILDERS) == set(registry.FAMILIES)


def test_contracts_and_sources_cover_every_dataset():
    assert set(contracts.DATASETS) == set(registry.DATASETS)
    for dataset in DATASETS:
        assert SOURCE_ASSETS[dataset.name].key.to_user_string() == dataset.source_asset
        assert PARTITIONS_BY_DATASET[dataset.name].name == dataset.partitions_name


def test_derived_tables_equal_the_ones_written_by_hand_before():
    assert SOURCES == ("options", "macro", "gpr")
    assert STATE_KEYS == {
        "options": "options_daily",
        "macro": "macro_trading_daily",
        "gpr": "gpr_monthly",
    }
    assert DATASET_SOURCES == {
        "options": "silver_options",
        "macro": "silver_macro",
        "gpr": "silver_gpr",
    }
    assert COMPLETION_ASSET == {
        "options": "options_analysis",
        "macro": "macro_analysis",
        "gpr": "geopolitical_analysis",
    }
    assert {d: p.name for d, p in PARTITIONS_BY_DATASET.items()} == {
        "options": "options_anchor_dates",
        "macro": "macro_anchor_dates",
        "gpr": "gpr_anchor_months",
    }
    assert FAMILIES == (
        "put_call_ratio",
        "options_analysis",
        "liquidity_analysis",
        "pricing_spread",
        "macro_analysis",
        "geopolitical_analysis",
    )
    assert FAMILY_DATASET == {
        "put_call_ratio": "options",
        "options_analysis": "options",
        "liquidity_analysis": "options",
        "pricing_spread": "options",
        "macro_analysis": "macro",
        "geopolitical_analysis": "gpr",
    }
    assert FAMILIES[:4] == OPTION_FAMILIES
    assert FAMILY_INPUTS == {
        "put_call_ratio": ("put_call_ratio_daily",),
        "options_analysis": ("atm_iv_daily", "iv_skew_daily"),
        "liquidity_analysis": ("liquidity_daily",),
        "pricing_spread": ("pricing_daily",),
    }
    assert CARRIED_INPUTS == {
        "put_call_ratio": ("put_call_ratio_daily", {}),
        "liquidity_analysis": ("liquidity_daily", {}),
        "pricing_spread": ("pricing_daily", {}),
        "options_analysis": (
            "iv_skew_daily",
            {"skew_date": "snapshot_date", "latest_iv_skew": "iv_skew"},
        ),
    }


@pytest.mark.parametrize(
    ("dataset", "day", "key"),
    [
        ("options", date(2026, 4, 29), date(2026, 4, 29)),
        ("macro", date(2026, 4, 29), date(2026, 4, 29)),
        ("gpr", date(2026, 4, 29), date(2026, 4, 1)),
        ("gpr", date(2026, 4, 1), date(2026, 4, 1)),
    ],
)
def test_anchor_key_is_the_first_of_the_month_only_for_monthly_datasets(dataset, day, key):
    assert registry.anchor_key(dataset, day) == key


def test_an_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown dataset 'bonds'"):
        registry.dataset("bonds")
