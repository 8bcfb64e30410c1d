"""Which anchor partitions are stale, from the state file and the lake's data versions.

Pure planning, no Dagster: the freshness sensor calls :func:`plan_refresh` once per dataset and
turns the plan into partition registrations, observations and run requests. A partition is stale
when it is the state's anchor (or a lake date the state skipped on the way to it) and has no
snapshot yet, or when a file it reads has changed since the last evaluation. A rewritten day
makes stale the anchors from that day to the end of its reach: the IV-rank lookback for options,
a week of retrievals for macro, the month itself for GPR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from silver_assets.anchors import resolve_anchor
from silver_assets.partitions import missing_lookback, no_lake_data
from silver_assets.settings import Settings
from silver_assets.sources import versions

# The family snapshot that completes a dataset's run: its presence means "materialized".
COMPLETION_ASSET = {
    "options": "options_analysis",
    "macro": "macro_analysis",
    "gpr": "geopolitical_analysis",
}
MACRO_REACH_DAYS = 7


class StateUnavailable(ValueError):
    """The state file cannot give this dataset's anchor; nothing should be scheduled from it."""


@dataclass(frozen=True)
class RefreshPlan:
    dataset: str
    anchor_key: str
    new_keys: tuple[str, ...]
    changed_dates: tuple[str, ...]
    stale_keys: tuple[str, ...]
    versions: dict[str, str]


def current_versions(dataset: str, settings: Settings) -> dict[str, str]:
    if dataset == "gpr":
        return versions.gpr_month_versions(settings.lake_root)
    return versions.daily_versions(settings.lake_root, dataset)


def affected_days(dataset: str, settings: Settings) -> int:
    if dataset == "options":
        return settings.iv_rank_lookback_days
    return MACRO_REACH_DAYS if dataset == "macro" else 0


def plan_refresh(
    dataset: str,
    settings: Settings,
    registered: Sequence[str],
    materialized: set[str],
    previous: Mapping[str, str] | None,
) -> RefreshPlan:
    """Plan one dataset's refresh. ``previous`` is None on the first evaluation (a baseline)."""
    anchor = resolve_anchor(dataset, settings.state_path)
    if anchor.is_fallback:
        raise StateUnavailable(f"{dataset}: {anchor.fallback_reason}")
    anchor_key = anchor.date.isoformat()
    now = current_versions(dataset, settings)
    if anchor_key not in now:  # the state is ahead of the lake: nothing to run for it yet
        lake = sorted(date.fromisoformat(day) for day in now)
        raise StateUnavailable(no_lake_data(dataset, f"the state says {anchor_key}", lake))
    changed = set()
    if previous is not None:
        changed = {d for d in now.keys() | previous.keys() if now.get(d) != previous.get(d)}
    known = set(registered)
    # Option days in the anchor's lookback that were never scanned (skipped by the state, or
    # arrived late) come along, so the IV-rank series has no holes the lake does not have.
    history = set(missing_lookback(settings, anchor.date)) if dataset == "options" else set()
    new_keys = tuple(sorted((history | {anchor_key}) - known))
    reach = timedelta(days=affected_days(dataset, settings))
    affected = {
        key
        for key in known
        for day in changed
        if date.fromisoformat(day) <= date.fromisoformat(key) <= date.fromisoformat(day) + reach
    }
    stale = affected | history | ({anchor_key} - materialized)
    return RefreshPlan(
        dataset=dataset,
        anchor_key=anchor_key,
        new_keys=new_keys,
        changed_dates=tuple(sorted(changed)),
        stale_keys=tuple(sorted(k for k in stale if k <= anchor_key)),
        versions=now,
    )
