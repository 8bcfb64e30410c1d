"""The SQL retrieval audit log of docs/queries.md: one pipe-separated ``KEY=value`` line per event.

Lines go to ``<audit_root>/Parquet_Query/<YYYY-MM-DD>/sql_retrieval_audit.log``. Writing is
best-effort: an unwritable log is reported through Python logging and never breaks the caller.
A query writes about thirty events; inside :meth:`AuditLog.batched` they are appended in one
write when the batch ends, each line still stamped with the time of its event.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

EVENTS = frozenset(
    {
        "SCHEMA_CHECK",
        "SQL_RANGE",
        "START_QUERY",
        "FUZZY_MATCH",
        "UNSUPPORTED_METRICS",
        "TICKER_CAP",
        "STALE_SNAPSHOT",
        "EXECUTION_ERROR",
        "FINISH_QUERY",
        "ANCHOR_FALLBACK",
    }
)

_log = logging.getLogger(__name__)
_lock = threading.Lock()
# Every character ``str.splitlines`` breaks a line at, which a value must not carry into its line.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _render(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_render(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    text = "" if value is None else str(value)
    # Keep one event per line and the field separator unambiguous.
    return _LINE_BREAKS.sub(" ", text).replace("|", "/")


def format_line(event: str, fields: Mapping[str, Any], now: datetime | None = None) -> str:
    """One audit line: ``ts=... | event=EVENT | key=value | ...``."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    stamp = (now or datetime.now()).isoformat(timespec="milliseconds")
    parts = [f"ts={stamp}", f"event={event}"]
    parts += [f"{key}={_render(value)}" for key, value in fields.items()]
    return " | ".join(parts)


def parse_line(line: str) -> dict[str, str]:
    """Inverse of :func:`format_line`, for tests and tools that read the log."""
    return dict(part.split("=", 1) for part in line.rstrip("\n").split(" | "))


class AuditLog:
    """Appends audit lines under a configurable root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._pending: list[tuple[date, str]] | None = None

    def path_for(self, day: date) -> Path:
        return self.root / "Parquet_Query" / day.isoformat() / "sql_retrieval_audit.log"

    def write(self, event: str, **fields: Any) -> None:
        now = datetime.now()
        line = format_line(event, fields, now)
        if self._pending is not None:
            self._pending.append((now.date(), line))
        else:
            self._append(self.path_for(now.date()), [line])

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Hold the lines written inside and append them together at the end, even on error."""
        if self._pending is not None:  # already batching: the outer batch writes them
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            by_day: dict[date, list[str]] = {}
            for day, line in pending:
                by_day.setdefault(day, []).append(line)
            for day, lines in by_day.items():
                self._append(self.path_for(day), lines)

    def _append(self, path: Path, lines: list[str]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _lock, path.open("a", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in lines))
        except OSError as exc:
            _log.warning("audit log %s is not writable (%s); events were: %s", path, exc, lines)

    def read(self, day: date | None = None) -> list[dict[str, str]]:
        path = self.path_for(day or date.today())
        if not path.exists():
            return []
        return [parse_line(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
