"""Per dataset: the state anchor, the newest materialized partition of each family, whether the
snapshots lag the anchor, and where their numbers come from. Read from the state file and the
snapshot store only."""

from __future__ import annotations

from pydantic import BaseModel, Field

from silver_assets.anchors import STATE_KEYS, resolve_anchor
from silver_assets.metrics.families import FAMILY_DATASET
from silver_assets.query.answer import load_snapshot
from silver_assets.query.payload import LeanSchemaModel
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore


class FamilyStatus(BaseModel):
    """One family's newest snapshot."""

    family: str
    newest_partition: str | None
    stale: bool = Field(description="no partition materialized at the state anchor yet")
    data_origin: str | None


class DatasetStatus(BaseModel):
    """One Silver dataset: its state anchor and its families' snapshots."""

    dataset: str
    state_anchor: str
    anchor_fallback: str | None = Field(
        description="why the anchor fell back to today (state file missing or unreadable)"
    )
    stale: bool = Field(description="any family stale")
    families: list[FamilyStatus]


class DataStatus(LeanSchemaModel):
    """Every dataset's status."""

    datasets: list[DatasetStatus]


def data_status(settings: Settings) -> DataStatus:
    """Status of every dataset, from the state file and the snapshot store."""
    store = SnapshotStore(settings.snapshot_root)
    datasets = []
    for dataset in STATE_KEYS:
        anchor = resolve_anchor(dataset, settings.state_path)
        families = []
        for family in (f for f, d in FAMILY_DATASET.items() if d == dataset):
            partitions = store.partitions(family)
            newest = partitions[-1] if partitions else None
            families.append(
                FamilyStatus(
                    family=family,
                    newest_partition=newest,
                    stale=newest is None or newest < anchor.date.isoformat(),
                    data_origin=load_snapshot(store, family, newest).origin if newest else None,
                )
            )
        datasets.append(
            DatasetStatus(
                dataset=dataset,
                state_anchor=anchor.date.isoformat(),
                anchor_fallback=anchor.fallback_reason,
                stale=any(f.stale for f in families),
                families=families,
            )
        )
    return DataStatus(datasets=datasets)
