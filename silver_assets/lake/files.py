"""Where the Silver datasets live inside a lake root, and which files belong to which date.

Only directory names are trusted for dates (``options/<YYYY-MM-DD>/``); folders that are not ISO
dates are ignored, so a stray folder never breaks discovery. A lake root is a local folder or an
``s3://`` prefix (:mod:`silver_assets.storage`); the files listed are locations of the same kind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from silver_assets.storage import Location, location, subfolders

OPTIONS_DIR = "options"
MACRO_DIR = "macro"
GPR_FILE = Path("gpr") / "gpr_monthly_enriched.parquet"


def _dated_dirs(root: Location) -> dict[date, Location]:
    found: dict[date, Location] = {}
    for name in subfolders(root):
        try:
            found[date.fromisoformat(name)] = root / name
        except ValueError:
            continue
    return dict(sorted(found.items()))


def options_dates(lake_root: Location) -> list[date]:
    """Snapshot dates that have an options folder, ascending."""
    return list(_dated_dirs(location(lake_root) / OPTIONS_DIR))


def macro_dates(lake_root: Location) -> list[date]:
    """Retrieval dates that have a macro folder, ascending."""
    return list(_dated_dirs(location(lake_root) / MACRO_DIR))


def options_files(lake_root: Location, day: date) -> list[Location]:
    """The options Parquet files of one snapshot date, sorted by name."""
    folder = location(lake_root) / OPTIONS_DIR / day.isoformat()
    return sorted(folder.glob(f"*_options_{day.isoformat()}.parquet"))


def macro_files(lake_root: Location, day: date) -> list[Location]:
    """The macro Parquet files of one retrieval date."""
    folder = location(lake_root) / MACRO_DIR / day.isoformat()
    return sorted(folder.glob(f"macro_snapshot_{day.isoformat()}.parquet"))


def gpr_file(lake_root: Location) -> Location:
    """The single GPR file (rewritten in place by each monthly release)."""
    return location(lake_root) / GPR_FILE


def daily_listing(
    dataset: str,
) -> tuple[Callable[[Location], list[date]], Callable[[Location, date], list[Location]]]:
    """(dates lister, files-of-a-date lister) of a daily dataset: 'options' or 'macro'."""
    if dataset == "options":
        return options_dates, options_files
    if dataset == "macro":
        return macro_dates, macro_files
    raise ValueError(f"daily datasets are 'options' and 'macro', not {dataset!r}")


def files_between(lake_root: Location, dataset: str, start: date, end: date) -> list[Location]:
    """Every file of a daily dataset whose folder date lies in ``[start, end]``."""
    dates, lister = daily_listing(dataset)
    return [
        path for day in dates(lake_root) if start <= day <= end for path in lister(lake_root, day)
    ]
