"""The SQL retrieval audit log of docs/queries.md: one pipe-separated ``KEY=value`` line per event.

Lines go to ``<audit_root>/Parquet_Query/<YYYY-MM-DD>/sql_retrieval_audit.log``. Writing is
best-effort: an unwritable log is reported through Python logging and never breaks the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
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


def _render(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_render(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    text = "" if value is None else str(value)
    # Keep one event per line and the field separator unambiguous.
    return text.replace("\n", " ").replace("|", "/")


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

    def path_for(self, day: date) -> Path:
        return self.root / "Parquet_Query" / day.isoformat() / "sql_retrieval_audit.log"

    def write(self, event: str, **fields: Any) -> None:
        now = datetime.now()
        line = format_line(event, fields, now)
        path = self.path_for(now.date())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _lock, path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            _log.warning("audit log %s is not writable (%s); event was: %s", path, exc, line)

    def read(self, day: date | None = None) -> list[dict[str, str]]:
        path = self.path_for(day or date.today())
        if not path.exists():
            return []
        return [parse_line(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
