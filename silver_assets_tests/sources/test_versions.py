"""Data versions of the Silver datasets (silver_assets.sources.versions).

The demo lake holds the NYSE sessions 2026-04-29 and 2026-04-30 for SPY and GLD, and the GPR file
from 2020-01 to 2026-04 (76 months). A daily version moves exactly when a file of that day is
written, replaced, added or removed; a GPR month's version moves exactly when that month's row
changes (docs/lake.md: the release that revised 2026-03 from 297.27 to 326.99).
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from silver_assets.lake import files
from silver_assets.lake.generator import generate_lake
from silver_assets.sources import versions

DAY1, DAY2 = date(2026, 4, 29), date(2026, 4, 30)
KEYS = {DAY1.isoformat(), DAY2.isoformat()}


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "silver"
    summary = generate_lake(root, days=2, tickers=("SPY", "GLD"), progress=False)
    assert summary.trading_days == [DAY1, DAY2]
    return root


@pytest.fixture
def lake(demo_lake: Path, tmp_path: Path) -> Path:
    """A private copy of the demo lake (copy2 keeps sizes and modification times)."""
    return Path(shutil.copytree(demo_lake, tmp_path / "silver"))


def _options_file(root: Path, ticker: str, day: date) -> Path:
    return root / "options" / day.isoformat() / f"{ticker}_options_{day.isoformat()}.parquet"


def _bump_mtime(path: Path, seconds: int = 60) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {key for key in before if before[key] != after[key]}


# --- daily datasets -------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["options", "macro"])
def test_one_version_per_dated_folder_stable_across_calls(lake: Path, dataset: str) -> None:
    first = versions.daily_versions(lake, dataset)
    assert set(first) == KEYS
    assert len(set(first.values())) == 2  # two different days, two different versions
    assert versions.EMPTY_VERSION not in first.values()
    # Reading the files does not move their versions.
    for path in files.files_between(lake, dataset, DAY1, DAY2):
        pq.read_table(path)
    assert versions.daily_versions(lake, dataset) == first
    assert versions.version_of_day(lake, dataset, DAY2) == first[DAY2.isoformat()]


def test_a_copied_lake_has_the_same_versions(demo_lake: Path, lake: Path) -> None:
    # Names, sizes and mtimes are preserved by the copy, and the folder is not part of a version.
    assert versions.daily_versions(lake, "options") == versions.daily_versions(demo_lake, "options")


@pytest.mark.parametrize("dataset", ["options", "macro"])
def test_touching_one_days_file_changes_only_that_day(lake: Path, dataset: str) -> None:
    before = versions.daily_versions(lake, dataset)
    _, lister = files.daily_listing(dataset)
    _bump_mtime(lister(lake, DAY1)[0])
    after = versions.daily_versions(lake, dataset)
    assert _changed(before, after) == {DAY1.isoformat()}


def test_rewriting_one_days_content_changes_only_that_day(lake: Path) -> None:
    before = versions.daily_versions(lake, "options")
    macro_before = versions.daily_versions(lake, "macro")
    path = _options_file(lake, "SPY", DAY2)
    stat = path.stat()
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 10), path)  # a corrected, shorter chain
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime
    after = versions.daily_versions(lake, "options")
    assert _changed(before, after) == {DAY2.isoformat()}
    assert versions.daily_versions(lake, "macro") == macro_before


def test_adding_and_removing_a_file_changes_that_day(lake: Path, tmp_path: Path) -> None:
    gld = _options_file(lake, "GLD", DAY1)
    with_gld = versions.daily_versions(lake, "options")
    parked = Path(shutil.move(gld, tmp_path / gld.name))
    without_gld = versions.daily_versions(lake, "options")
    assert _changed(with_gld, without_gld) == {DAY1.isoformat()}
    shutil.copy2(parked, gld)  # the file arrives (back): same name, size and mtime
    assert versions.daily_versions(lake, "options") == with_gld


def test_files_outside_the_naming_pattern_do_not_count(lake: Path) -> None:
    before = versions.daily_versions(lake, "options")
    folder = lake / "options" / DAY1.isoformat()
    (folder / "README.txt").write_text("notes", encoding="utf-8")
    (folder / f".SPY_options_{DAY1.isoformat()}.parquet.123.tmp").write_bytes(b"partial")
    (folder / f"SPY_options_{DAY2.isoformat()}.parquet").write_bytes(b"wrong day")
    (lake / "options" / "not-a-date").mkdir()
    assert versions.daily_versions(lake, "options") == before


def test_a_day_folder_without_files_has_the_empty_version(lake: Path) -> None:
    (lake / "options" / "2026-05-01").mkdir()
    found = versions.daily_versions(lake, "options")
    assert found["2026-05-01"] == versions.EMPTY_VERSION
    assert versions.version_of_day(lake, "options", date(2026, 5, 4)) == versions.EMPTY_VERSION


def test_fingerprint_of_nothing_is_the_empty_version() -> None:
    assert versions.fingerprint([]) == versions.EMPTY_VERSION


@pytest.mark.parametrize("dataset", ["options", "macro"])
def test_empty_or_missing_lake_has_no_versions(tmp_path: Path, dataset: str) -> None:
    assert versions.daily_versions(tmp_path / "missing", dataset) == {}
    (tmp_path / "empty").mkdir()
    assert versions.daily_versions(tmp_path / "empty", dataset) == {}


def test_gpr_is_not_a_daily_dataset(lake: Path) -> None:
    with pytest.raises(ValueError, match="gpr"):
        versions.daily_versions(lake, "gpr")


# --- GPR ------------------------------------------------------------------------------------


def _set_gpr(path: Path, month: date, value: float) -> None:
    """Rewrite the GPR file in place with ``month``'s gpr set to ``value``."""
    table = pq.read_table(path)
    is_month = pc.equal(pc.cast(table.column("date"), pa.date32()), pa.scalar(month, pa.date32()))
    assert pc.sum(pc.cast(is_month, pa.int64())).as_py() == 1
    column = table.schema.get_field_index("gpr")
    revised = pc.if_else(is_month, pa.scalar(value, pa.float64()), table.column("gpr"))
    pq.write_table(table.set_column(column, "gpr", revised), path)


def test_gpr_has_one_version_per_month(lake: Path) -> None:
    found = versions.gpr_month_versions(lake)
    assert len(found) == 76  # 2020-01 .. 2026-04
    assert min(found) == "2020-01-01"
    assert max(found) == "2026-04-01"
    assert all(key.endswith("-01") for key in found)
    assert len(set(found.values())) == 76
    assert versions.gpr_month_versions(lake) == found


def test_gpr_revision_of_one_month_changes_only_that_month(lake: Path) -> None:
    path = files.gpr_file(lake)
    _set_gpr(path, date(2026, 3, 1), 297.27)  # the figure before the release
    before = versions.gpr_month_versions(lake)
    _set_gpr(path, date(2026, 3, 1), 326.99)  # the release revises March
    after = versions.gpr_month_versions(lake)
    assert _changed(before, after) == {"2026-03-01"}


def test_gpr_rewrite_with_the_same_rows_keeps_every_version(lake: Path) -> None:
    path = files.gpr_file(lake)
    before = versions.gpr_month_versions(lake)
    pq.write_table(pq.read_table(path), path)
    _bump_mtime(path)
    assert versions.gpr_month_versions(lake) == before


def test_missing_gpr_file_has_no_versions(tmp_path: Path) -> None:
    assert versions.gpr_month_versions(tmp_path) == {}
