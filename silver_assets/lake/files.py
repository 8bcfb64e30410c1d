"""Where the Silver datasets live inside a lake root, and which files belong to which date.

Only directory names are trusted for dates (``options/<YYYY-MM-DD>/``); folders that are not ISO
dates are ignored, so a stray folder never breaks discovery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

OPTIONS_DIR = "options"
MACRO_DIR = "macro"
GPR_FILE = Path("gpr") / "gpr_monthly_enriched.parquet"


def _dated_dirs(root: Path) -> dict[date, Path]:
    if not root.is_dir():
        return {}
    found: dict[date, Path] = {}
    for child in root.iterdir():
        if not child.is_dir():
            continue
        try:
            found[date.fromisoformat(child.name)] = child
        except ValueError:
            continue
    return dict(sorted(found.items()))


def options_dates(lake_root: Path) -> list[date]:
    """Snapshot dates that have an options folder, ascending."""
    return list(_dated_dirs(Path(lake_root) / OPTIONS_DIR))


def macro_dates(lake_root: Path) -> list[date]:
    """Retrieval dates that have a macro folder, ascending."""
    return list(_dated_dirs(Path(lake_root) / MACRO_DIR))


def options_files(lake_root: Path, day: date) -> list[Path]:
    """The options Parquet files of one snapshot date, sorted by name."""
    folder = Path(lake_root) / OPTIONS_DIR / day.isoformat()
    return sorted(folder.glob(f"*_options_{day.isoformat()}.parquet"))


def macro_files(lake_root: Path, day: date) -> list[Path]:
    """The macro Parquet files of one retrieval date."""
    folder = Path(lake_root) / MACRO_DIR / day.isoformat()
    return sorted(folder.glob(f"macro_snapshot_{day.isoformat()}.parquet"))


def gpr_file(lake_root: Path) -> Path:
    """The single GPR file (rewritten in place by each monthly release)."""
    return Path(lake_root) / GPR_FILE


def daily_listing(
    dataset: str,
) -> tuple[Callable[[Path], list[date]], Callable[[Path, date], list[Path]]]:
    """(dates lister, files-of-a-date lister) of a daily dataset: 'options' or 'macro'."""
    if dataset == "options":
        return options_dates, options_files
    if dataset == "macro":
        return macro_dates, macro_files
    raise ValueError(f"daily datasets are 'options' and 'macro', not {dataset!r}")


def files_between(lake_root: Path, dataset: str, start: date, end: date) -> list[Path]:
    """Every file of a daily dataset whose folder date lies in ``[start, end]``."""
    dates, lister = daily_listing(dataset)
    return [
        path for day in dates(lake_root) if start <= day <= end for path in lister(lake_root, day)
    ]
