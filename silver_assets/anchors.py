"""Anchor dates from ``collect_data_state.json`` (docs/lake.md, "Freshness state").

Each dataset's anchor is the date of its key in ``last_run_keys``; a monthly key (``YYYY-MM``)
means the first of that month. A missing or unreadable file or key falls back to today's date and
says why, so callers can log the fallback; it never raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from silver_assets.registry import DATASETS
from silver_assets.storage import Location, location, write_whole

STATE_KEYS: dict[str, str] = {d.name: d.state_key for d in DATASETS.values()}


@dataclass(frozen=True)
class Anchor:
    """A dataset's anchor date and, when it is a fallback, the reason."""

    dataset: str
    date: date
    fallback_reason: str | None = None

    @property
    def is_fallback(self) -> bool:
        return self.fallback_reason is not None


def parse_state_key(raw: object) -> date:
    """Parse a state value: ``YYYY-MM-DD`` or ``YYYY-MM`` (first of the month)."""
    if not isinstance(raw, str):
        raise ValueError(f"expected a date string, got {type(raw).__name__}")
    text = raw.strip()
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{raw!r} is neither YYYY-MM-DD nor YYYY-MM")


def read_state(path: Location) -> dict[str, object]:
    """Return ``last_run_keys`` of the state file; raise ``ValueError`` naming the problem."""
    try:
        payload = json.loads(location(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"state file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"state file {path} is unreadable: {exc}") from exc
    keys = payload.get("last_run_keys") if isinstance(payload, dict) else None
    if not isinstance(keys, dict):
        raise ValueError(f"state file {path} has no 'last_run_keys' object")
    return keys


def resolve_anchor(dataset: str, state_path: Location, today: date | None = None) -> Anchor:
    """The anchor of ``dataset`` ('options', 'macro' or 'gpr'), falling back to today."""
    if dataset not in STATE_KEYS:
        raise KeyError(f"unknown dataset {dataset!r}; expected one of {sorted(STATE_KEYS)}")
    today = today or date.today()
    key = STATE_KEYS[dataset]
    try:
        keys = read_state(state_path)
        if key not in keys:
            raise ValueError(f"state file {state_path} has no key {key!r}")
        anchor = parse_state_key(keys[key])
    except ValueError as exc:
        fallback = DATASETS[dataset].anchor_key(today)
        return Anchor(dataset, fallback, f"{exc}; falling back to today ({today.isoformat()})")
    return Anchor(dataset, DATASETS[dataset].anchor_key(anchor))


def resolve_anchors(state_path: Location, today: date | None = None) -> dict[str, Anchor]:
    """Anchors of every dataset."""
    return {name: resolve_anchor(name, state_path, today) for name in STATE_KEYS}


def write_state(path: Location, last_run_keys: dict[str, str]) -> None:
    """Merge ``last_run_keys`` into the state file atomically, keeping other jobs' keys."""
    try:
        current = read_state(path)
    except ValueError:
        current = {}
    merged = {**current, **last_run_keys}
    payload = {"last_run_keys": merged, "updated_at": datetime.now().isoformat(timespec="seconds")}
    text = json.dumps(payload, indent=2, sort_keys=True)
    write_whole(location(path), lambda handle: handle.write(text.encode("utf-8")))
