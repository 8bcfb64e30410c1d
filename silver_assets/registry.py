"""The Silver datasets and the metric families, declared once.

Every table that used to list datasets or families by hand (CLI choices, partitions, sources,
jobs, sensors, contract checks, routing, the bench) derives from :data:`DATASETS` and
:data:`FAMILIES`. Adding a family is one :class:`Family` here, plus its SQL, its builder in
:mod:`silver_assets.metrics.families`, its catalogue entries and its tests. Pure: no Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True)
class Dataset:
    """A Silver dataset: where its anchor comes from and how its partitions are keyed."""

    name: str
    # Its key in the state file's ``last_run_keys`` (docs/lake.md, "Freshness state").
    state_key: str
    partitions_name: str
    source_asset: str
    # The family whose snapshot completes a dataset run: its presence means "materialized".
    completion_family: str
    # Monthly datasets are keyed by the first of the month (GPR).
    monthly: bool = False
    # Whether its families answer per ticker (GPR answers once, under ticker "").
    per_ticker: bool = True

    def anchor_key(self, day: date) -> date:
        """The partition date of ``day``: the first of its month for a monthly dataset."""
        return day.replace(day=1) if self.monthly else day


@dataclass(frozen=True)
class Family:
    """A metric family: the dataset it is computed from and the daily assets it reads."""

    name: str
    dataset: str
    description: str
    # The daily (options scan) assets it reads; empty for families read from the raw lake.
    daily_inputs: tuple[str, ...] = ()
    # A latest-only daily input carried forward from the family's own previous snapshot, and
    # the renames under which that snapshot stores the input's columns.
    carried_input: str | None = None
    carried_renames: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "options",
            state_key="options_daily",
            partitions_name="options_anchor_dates",
            source_asset="silver_options",
            completion_family="options_analysis",
        ),
        Dataset(
            "macro",
            state_key="macro_trading_daily",
            partitions_name="macro_anchor_dates",
            source_asset="silver_macro",
            completion_family="macro_analysis",
        ),
        Dataset(
            "gpr",
            state_key="gpr_monthly",
            partitions_name="gpr_anchor_months",
            source_asset="silver_gpr",
            completion_family="geopolitical_analysis",
            monthly=True,
            per_ticker=False,
        ),
    )
}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "put_call_ratio",
            "options",
            "Latest daily put/call ratio at or before the anchor (docs/metrics.md).",
            daily_inputs=("put_call_ratio_daily",),
            carried_input="put_call_ratio_daily",
        ),
        Family(
            "options_analysis",
            "options",
            "ATM IV and its rank over IV_RANK_LOOKBACK_DAYS, and the latest OTM IV skew "
            "(docs/metrics.md).",
            daily_inputs=("atm_iv_daily", "iv_skew_daily"),
            carried_input="iv_skew_daily",
            carried_renames=MappingProxyType(
                {"skew_date": "snapshot_date", "latest_iv_skew": "iv_skew"}
            ),
        ),
        Family(
            "liquidity_analysis",
            "options",
            "Latest chain volume, open interest, liquid spread and count, market-impact risk.",
            daily_inputs=("liquidity_daily",),
            carried_input="liquidity_daily",
        ),
        Family(
            "pricing_spread",
            "options",
            "Latest liquid DTE 7-45 average quotes and underlying price.",
            daily_inputs=("pricing_daily",),
            carried_input="pricing_daily",
        ),
        Family(
            "macro_analysis",
            "macro",
            "Latest macro row per series at or before the anchor (ETF aliasing at query).",
        ),
        Family(
            "geopolitical_analysis",
            "gpr",
            "Latest monthly GPR level, percentile and trend at or before the anchor month.",
        ),
    )
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)


def dataset(name: str) -> Dataset:
    """The dataset called ``name``; ``ValueError`` naming the known ones otherwise."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[name]


def families_of(dataset_name: str) -> tuple[Family, ...]:
    """The families computed from ``dataset_name``, in declaration order."""
    return tuple(f for f in FAMILIES.values() if f.dataset == dataset_name)


def anchor_key(dataset_name: str, day: date) -> date:
    """The partition date of ``day`` in ``dataset_name`` (GPR: the first of its month)."""
    return dataset(dataset_name).anchor_key(day)
