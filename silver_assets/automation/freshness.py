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


def reach_days(dataset: str, settings: Settings) -> int:
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
    changed = set()
    if previous is not None:
        changed = {d for d in now.keys() | previous.keys() if now.get(d) != previous.get(d)}
    known = set(registered)
    # Lake dates the state skipped over since the newest registered one come along, so the
    # daily series (IV rank, latest-as-of) has no holes the raw lake does not have.
    newest = max(known, default=anchor_key)
    gap = {d for d in now if newest < d < anchor_key} if dataset != "gpr" else set()
    new_keys = tuple(sorted((gap | {anchor_key}) - known))
    reach = timedelta(days=reach_days(dataset, settings))
    affected = {
        key
        for key in known
        for day in changed
        if date.fromisoformat(day) <= date.fromisoformat(key) <= date.fromisoformat(day) + reach
    }
    stale = affected | set(new_keys) | ({anchor_key} - materialized)
    return RefreshPlan(
        dataset=dataset,
        anchor_key=anchor_key,
        new_keys=new_keys,
        changed_dates=tuple(sorted(changed)),
        stale_keys=tuple(sorted(k for k in stale if k <= anchor_key)),
        versions=now,
    )


def contiguous_groups(order: Sequence[str], keys: Sequence[str]) -> list[tuple[str, str]]:
    """Split ``keys`` into runs that are contiguous in Dagster's key ``order``: (first, last).

    A range run covers every key between its ends, so only contiguous stale keys share a run.
    """
    position = {key: i for i, key in enumerate(order)}
    ranked = sorted((position[k], k) for k in keys if k in position)
    groups: list[list[str]] = []
    previous = None
    for index, key in ranked:
        if previous is not None and index == previous + 1:
            groups[-1].append(key)
        else:
            groups.append([key])
        previous = index
    return [(group[0], group[-1]) for group in groups]
