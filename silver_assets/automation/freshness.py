"""Which anchor partitions are stale, from the state file and the lake's data versions.

Pure planning, no Dagster: the freshness sensor calls :func:`plan_refresh` once per dataset and
turns the plan into partition registrations, observations and run requests. A partition is stale
when it is the state's anchor (or a lake date the state skipped on the way to it) and has no
snapshot yet, or when a file it reads has changed since the last evaluation. A rewritten day
makes stale the anchors from that day to the end of its reach: the IV-rank lookback for options,
a week of retrievals for macro, the month itself for GPR.

The versions last seen are kept in the sensor's cursor in a bounded form (:func:`compact_versions`):
exact versions for the most recent ``RECENT_DATES`` dates, where new days and rewrites happen, and
one digest of all older ones. When that digest moves, an old day was rewritten, and the days that
changed are found by comparing the lake with the versions Dagster recorded for the source.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from silver_assets.anchors import resolve_anchor
from silver_assets.partitions import missing_lookback, no_lake_data
from silver_assets.registry import DATASETS
from silver_assets.settings import Settings
from silver_assets.sources import versions

# The family snapshot that completes a dataset's run: its presence means "materialized".
COMPLETION_ASSET = {d.name: d.completion_family for d in DATASETS.values()}
MACRO_REACH_DAYS = 7
RECENT_DATES = 31

# The version Dagster recorded for each given partition of a dataset's source (None: none yet).
RecordedVersions = Callable[[Iterable[str]], Mapping[str, str | None]]


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


def digest(versions: Mapping[str, str]) -> str:
    """A short digest of ``{date: version}``, stable across processes."""
    return hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:12]


def range_version(versions: Mapping[str, str], first: str, last: str) -> str:
    """The data version of the partitions from ``first`` to ``last``: what a run of them reads."""
    return digest({day: v for day, v in versions.items() if first <= day <= last})


def refresh_version(
    dataset: str, settings: Settings, versions: Mapping[str, str], first: str, last: str
) -> str:
    """The data version of what a refresh of ``first..last`` reads: its days and their reach."""
    reads_from = date.fromisoformat(first) - timedelta(days=affected_days(dataset, settings))
    return range_version(versions, reads_from.isoformat(), last)


def compact_versions(versions: Mapping[str, str]) -> dict[str, Any]:
    """Versions as the cursor keeps them: the recent dates exactly, the older ones as a digest."""
    dates = sorted(versions)
    recent, older = dates[-RECENT_DATES:], dates[:-RECENT_DATES]
    entry: dict[str, Any] = {"recent": {day: versions[day] for day in recent}}
    if older:
        entry["older"] = {
            "through": older[-1],
            "count": len(older),
            "digest": digest({day: versions[day] for day in older}),
        }
    return entry


def changed_dates(
    now: Mapping[str, str],
    previous: Mapping[str, Any],
    registered: Iterable[str],
    recorded: RecordedVersions,
) -> set[str]:
    """Dates whose version differs from ``previous`` (a :func:`compact_versions` entry).

    Recent dates compare exactly. Older ones are compared only when their digest moved, and then
    each registered partition against the version Dagster recorded for it: a partition with no
    recorded version counts as changed, so a rewrite is never missed.
    """
    recent, older = previous["recent"], previous.get("older")
    through = older["through"] if older else ""
    changed = {d for d in now.keys() | recent.keys() if d > through and now.get(d) != recent.get(d)}
    if older:
        now_older = {day: v for day, v in now.items() if day <= through}
        if digest(now_older) != older["digest"]:
            candidates = [key for key in registered if key <= through]
            changed |= {d for d, v in recorded(candidates).items() if v != now_older.get(d)}
    return changed


def plan_refresh(
    dataset: str,
    settings: Settings,
    registered: Sequence[str],
    materialized: set[str],
    previous: Mapping[str, Any] | None,
    recorded: RecordedVersions,
) -> RefreshPlan:
    """Plan one dataset's refresh against the cursor's ``previous`` versions.

    ``previous`` is None on the first evaluation (a baseline).
    """
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
        changed = changed_dates(now, previous, registered, recorded)
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
