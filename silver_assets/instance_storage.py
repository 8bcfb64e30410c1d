"""Dagster's SQLite instance storage with one cached engine per database file.

Why: Dagster's SQLite storages (dagster 1.13) build a new SQLAlchemy engine, with ``NullPool``, for
every transaction. Each stored event therefore opens the SQLite file, writes, and closes it, and
closing the last connection of a WAL database checkpoints it to disk. A daily run of the newest
anchor (3 runs, 95 events) opened 516 connections, and storing its events cost more CPU than
computing its metrics.

The storages here keep one engine per database file for the storage's life. Its pool keeps one
idle connection open; any further connection a concurrent thread needs is opened and closed as
Dagster's were (``max_overflow=-1``), so no thread waits for a pooled connection. What still holds:

- Other processes (daemon, webserver, run workers, CLI) share the files as before: SQLite's locks
  and WAL serialize writers, with Dagster's busy timeout. A returned connection is rolled back, so
  each transaction reads what other processes committed.
- A forked child never uses its parent's pooled connections (SQLite forbids that): engines are
  rebuilt in a new process, without closing the parent's.
- The webserver streams a run's events by watching its ``<run_id>.db`` file. Commits to a kept-open
  connection land in the ``-wal`` file, so every run-shard transaction ends with a passive
  checkpoint, which writes them to the ``.db`` file as closing the connection did.
- A long-lived webserver or daemon reads many runs' shards: only the most recent run shards keep
  an engine (and its open files).
- A new run's shard is a copy of an empty shard that Dagster's own code made once per storage,
  linked into place atomically, so two processes never both create it.

``SilverInstance`` (the ``instance_class`` of ``dagster_home/dagster.yaml``) makes this the
default storage of every instance folder holding that file, under the folder itself, in the same
layout as Dagster's. A ``storage:`` block, such as Postgres in ``deploy/dagster.yaml``, still wins.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as db
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

from silver_assets.settings import PROJECT_ROOT

# The project's instance settings, this module's ``SilverInstance`` among them.
PROJECT_INSTANCE_CONFIG = PROJECT_ROOT / "dagster_home" / "dagster.yaml"
# Run shards whose engine stays open in one process; older ones are disposed (closing their files).
RUN_SHARDS_KEPT = 8


class CachedEngines:
    """This process's engines by database URL, the ``keep`` most recently used when bounded."""

    def __init__(self, keep: int | None = None) -> None:
        self._keep = keep
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def get(self, url: str) -> Engine:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections stay the parent's
                for engine in self._engines.values():
                    engine.dispose(close=False)
                self._engines.clear()
                self._pid = os.getpid()
            engine = self._engines.pop(url) if url in self._engines else _engine(url)
            self._engines[url] = engine
            while self._keep is not None and len(self._engines) > self._keep:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    def dispose(self) -> None:
        with self._lock:
            forked = self._pid != os.getpid()  # a child leaves its parent's connections open
            for engine in self._engines.values():
                engine.dispose(close=not forked)
            self._engines.clear()


def _engine(url: str) -> Engine:
    return db.create_engine(
        url,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=-1,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


class _OneCachedEngine:
    """``connect`` and ``dispose`` of a storage of one database file, on one cached engine."""

    _conn_string: str

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines = CachedEngines()
        super().__init__(conn_string, inst_data)  # type: ignore[call-arg]

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _transaction(self._engines.get(self._conn_string)) as conn:
            yield conn

    def dispose(self) -> None:
        self._engines.dispose()
        super().dispose()  # type: ignore[misc]


class CachedSqliteRunStorage(_OneCachedEngine, SqliteRunStorage):
    """Dagster's SQLite run storage (``runs.db``) on one cached engine."""


class CachedSqliteScheduleStorage(_OneCachedEngine, SqliteScheduleStorage):
    """Dagster's SQLite schedule and sensor tick storage on one cached engine."""


class CachedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log (``index.db`` + one file per run), engines cached."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._index_engine = CachedEngines()
        self._run_engines = CachedEngines(keep=RUN_SHARDS_KEPT)
        self._empty_run_shard: bytes | None = None
        super().__init__(base_dir, inst_data)

    def _engine_of(self, shard: str) -> Engine:
        engines = self._index_engine if shard == INDEX_SHARD_NAME else self._run_engines
        return engines.get(self.conn_string_for_shard(shard))

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's, minus the engine per call: the lock serializes this storage's threads,
        # so a run shard's engine is never disposed while one of them uses it.
        with self._db_lock:
            engine = self._engine_of(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:  # into <run_id>.db, where watchers look
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _initdb(self, engine: Engine, for_index_shard: bool = False) -> None:
        # Dagster's creates a new run's shard table by table, each its own synced commit (21),
        # then reads its alembic scripts to stamp it: 0.1 s per run. A copy of an empty shard
        # made that way once is the same file.
        path = engine.url.database
        if for_index_shard or not path or os.path.exists(path) or not self._copy_empty_shard(path):
            super()._initdb(engine, for_index_shard)

    def _copy_empty_shard(self, path: str) -> bool:
        """Whether ``path`` is now an empty run shard (False: another process created it first)."""
        if self._empty_run_shard is None:
            with tempfile.TemporaryDirectory(prefix="silver-empty-shard-") as folder:
                empty = Path(folder) / "empty.db"
                engine = db.create_engine(f"sqlite:///{empty}", poolclass=NullPool)
                super()._initdb(engine)
                engine.dispose()  # the last connection closed: WAL checkpointed and removed
                self._empty_run_shard = empty.read_bytes()
        handle, partial = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
        try:
            os.fchmod(handle, 0o644)  # as SQLite creates it, not mkstemp's owner-only mode
            with os.fdopen(handle, "wb") as out:
                out.write(self._empty_run_shard)
            os.link(partial, path)  # atomic, and never over a shard another process made
        except OSError:  # made by another process, or a filesystem without hard links
            return False
        finally:
            os.unlink(partial)
        return True

    def has_table(self, table_name: str) -> bool:
        # Dagster's builds an engine for this, and asks it for every stored asset event; inside
        # an index transaction, so without the lock.
        with self._engine_of(INDEX_SHARD_NAME).connect() as conn:
            return bool(conn.dialect.has_table(conn, table_name))

    def wipe(self) -> None:
        with self._db_lock:  # wipe deletes the run shards' files: close them first
            self._run_engines.dispose()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()  # first stops the watchers, which would reopen engines
        self._run_engines.dispose()
        self._index_engine.dispose()


class CachedSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite instance storage (same folders and files), its storages' engines cached."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self.base_dir = base_dir
        self._run_storage = CachedSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = CachedSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = CachedSqliteScheduleStorage.from_local(
            _schedule_directory(base_dir)
        )
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()  # the parent's would build Dagster's own

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> CachedSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


class SilverInstance(dg.DagsterInstance):
    """A Dagster instance whose default storage is ``CachedSqliteStorage`` in its own folder."""

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}  # no settings beyond Dagster's own

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        storage = ConfigurableClassData(
            __name__,
            CachedSqliteStorage.__name__,
            json.dumps({"base_dir": base_dir}),  # JSON is YAML
        )
        return {**InstanceRef.config_defaults(base_dir), "storage": storage}


def project_instance_home(folder: Path) -> Path:
    """``folder`` as a DAGSTER_HOME configured like the project's (its ``dagster.yaml`` copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_INSTANCE_CONFIG, folder / "dagster.yaml")
    return folder
