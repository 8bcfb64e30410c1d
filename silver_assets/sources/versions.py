"""Data versions of the Silver datasets, per anchor date, computed without Dagster.

A daily dataset's version for a date is a digest of the names, sizes and modification times of
that date's files (sizes and ETags on object storage), so it changes exactly when a file of that
day is written, replaced or removed, and reading it costs one ``stat`` (``HEAD``) per file. The
GPR file is rewritten in place with revisions of past months, so each month's version is a
digest of that month's row: a release that revises March changes March's version and leaves the
others alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

import pyarrow.compute as pc

from silver_assets import storage
from silver_assets.lake import files
from silver_assets.registry import DATASETS
from silver_assets.storage import Location

EMPTY_VERSION = "no-files"


def fingerprint(paths: Iterable[Location]) -> str:
    """Digest of (name, :func:`~silver_assets.storage.stamp`) of each file; ``EMPTY_VERSION``
    when there are none."""
    digest = hashlib.sha256()
    count = 0
    for path in sorted(storage.location(p) for p in paths):
        digest.update(f"{path.name}|{storage.stamp(path)}\n".encode())
        count += 1
    return digest.hexdigest()[:16] if count else EMPTY_VERSION


def daily_versions(lake_root: Location, dataset: str) -> dict[str, str]:
    """``{YYYY-MM-DD: version}`` for every dated folder of ``dataset`` ('options' or 'macro')."""
    dates, _ = files.daily_listing(dataset)
    return {day.isoformat(): version_of_day(lake_root, dataset, day) for day in dates(lake_root)}


def gpr_month_versions(lake_root: Location) -> dict[str, str]:
    """``{YYYY-MM-01: version}`` from the content of each monthly GPR row.

    Raises ``ValueError`` naming the file when it is unreadable or has no ``date`` column.
    """
    path = files.gpr_file(lake_root)
    if not path.exists():
        return {}
    try:
        table = storage.read_table(path)
        months = pc.cast(table.column("date"), "date32").to_pylist()
    except (OSError, KeyError, ValueError) as exc:  # pyarrow's errors subclass these
        raise ValueError(f"GPR file {path} is unreadable: {exc}") from exc
    rows = table.drop_columns(["date"]).to_pylist()
    versions: dict[str, str] = {}
    for month, row in zip(months, rows, strict=True):
        if month is None:
            continue
        text = "|".join(f"{key}={row[key]!r}" for key in sorted(row))
        month_key = DATASETS["gpr"].anchor_key(month).isoformat()
        versions[month_key] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return versions


def version_of_day(lake_root: Location, dataset: str, day: date) -> str:
    """The version of one date of a daily dataset."""
    _, lister = files.daily_listing(dataset)
    return fingerprint(lister(lake_root, day))
