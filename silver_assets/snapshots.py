"""Materialized snapshots: one Parquet file per asset and partition, on disk or in object storage.

DuckDB admits one writer process and no reader beside it, so snapshots are plain Parquet files
instead of a database. On disk a run writes ``<root>/<asset>/<partition>.parquet`` to a temporary
file, fsyncs it, renames it into place (atomic on one filesystem) and fsyncs the folder
(:func:`~silver_assets.durable.write_atomically`). A reader therefore sees either the previous
complete snapshot or the new complete one, never half of one, and is never locked out; a
snapshot that was written survives a crash.

Object storage (an ``s3://`` root, :class:`ObjectSnapshotStore`) has no rename, and a Parquet
reader fetches a file in several ranged GETs (footer, then column chunks), so an object
overwritten in place could be read half old, half new. There a partition's rows go whole to a new
content-addressed object ``<asset>/objects/<partition>/<sha256>.parquet`` that is never changed
afterwards, and then one small pointer object ``<asset>/<partition>.json`` naming it is written
in a single PUT: readers resolve a partition through its pointer, so they see the old snapshot
or the new one, never a mix. After the switch, objects of the partition other than the new one
and the one just replaced are deleted (a reader that resolved the old pointer can still finish).

Every row carries its provenance: asset, partition, run id and the source data version.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from silver_assets import storage
from silver_assets.storage import Location

PROVENANCE_COLUMNS = ("asset_key", "partition_key", "run_id", "source_data_version")
FEW_FILES = 8
# Partitions written at once by write_many: each write mostly waits on its two fsyncs.
WRITE_THREADS = 4

_database: duckdb.DuckDBPyConnection | None = None
_database_lock = threading.Lock()


def _stamped(asset: str, partition: str, table: pa.Table, run_id: str) -> bytes:
    """The Parquet bytes of a partition's rows with asset, partition and run id on every row."""
    if "source_data_version" not in table.column_names:
        raise ValueError(f"{asset}/{partition}: rows lack a source_data_version column")
    n = table.num_rows
    for name, value in (("asset_key", asset), ("partition_key", partition), ("run_id", run_id)):
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, pa.array([value] * n, pa.string()))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _reader() -> duckdb.DuckDBPyConnection:
    """A cursor on one shared in-memory DuckDB: opening a database costs ~10 ms, a cursor ~0."""
    global _database
    with _database_lock:
        if _database is None:
            _database = duckdb.connect(":memory:")
        return _database.cursor()


class SnapshotStore:
    """Reads and writes partition snapshots under ``root``, a local folder.

    ``SnapshotStore(root)`` with an ``s3://`` root gives an :class:`ObjectSnapshotStore`.
    ``durable=False`` skips the fsyncs (the write benchmark's baseline); never in the pipeline.
    """

    def __new__(cls, root: Location | str, durable: bool = True) -> SnapshotStore:
        remote = cls is SnapshotStore and storage.is_remote(storage.location(root))
        return super().__new__(ObjectSnapshotStore if remote else cls)

    def __init__(self, root: Location | str, durable: bool = True) -> None:
        self.root = storage.location(root)
        self.durable = durable

    def path(self, asset: str, partition: str) -> Location:
        """Where a partition is published: the file itself (its pointer on object storage)."""
        return self.root / asset / f"{partition}.parquet"

    def write(self, asset: str, partition: str, table: pa.Table, run_id: str) -> Location:
        """Write one partition atomically and durably, stamping provenance on every row.

        ``table`` must already hold ``source_data_version`` (the version of the input it was
        computed from); asset, partition and run id are added here.
        """
        return self._publish(asset, partition, _stamped(asset, partition, table, run_id))

    def write_many(
        self, asset: str, tables: Mapping[str, pa.Table], run_id: str
    ) -> dict[str, Location]:
        """Write several partitions of ``asset`` (``{partition: rows}``), each as :meth:`write`.

        Each partition is still replaced atomically and durably on its own. The Parquet bytes
        are made here, one partition after another; only the writes go to threads, because a
        small snapshot's write mostly waits for its fsyncs (one at a time, a 100-ticker
        backfill's 2,300 files wait about 15 s). The first failure is raised once every write
        has ended: the partitions written stay whole.
        """
        data = {key: _stamped(asset, key, table, run_id) for key, table in tables.items()}
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            futures = {key: pool.submit(self._publish, asset, key, d) for key, d in data.items()}
        return {key: future.result() for key, future in futures.items()}

    def _publish(self, asset: str, partition: str, data: bytes) -> Location:
        return storage.write_whole(
            self.path(asset, partition), lambda handle: handle.write(data), durable=self.durable
        )

    def partitions(self, asset: str) -> list[str]:
        """Materialized partition keys of ``asset``, ascending."""
        folder = self.root / asset
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.parquet"))

    def resolve(self, asset: str, partition: str) -> Location | None:
        """The Parquet file or object holding a partition's rows, or None if not materialized."""
        path = self.path(asset, partition)
        return path if path.exists() else None

    def read(self, asset: str, partition: str) -> pa.Table | None:
        located = self.resolve(asset, partition)
        return storage.read_table(located) if located is not None else None

    def latest_before(self, asset: str, day: date) -> str | None:
        """The newest materialized partition key of ``asset`` dated before ``day``."""
        earlier = [key for key in self.partitions(asset) if key < day.isoformat()]
        return earlier[-1] if earlier else None

    def read_between(self, asset: str, start: date, end: date) -> pa.Table | None:
        """All rows of the partitions dated in ``[start, end]``, or None when there are none."""
        lo, hi = start.isoformat(), end.isoformat()
        keys = [key for key in self.partitions(asset) if lo <= key <= hi]
        located = self._resolve_all(asset, keys)
        if not located:
            return None
        table = self._read_all(located)
        return table if table.num_rows else None

    def _resolve_all(self, asset: str, keys: list[str]) -> list[Location]:
        """The files of the materialized partitions ``keys``."""
        return [self.path(asset, key) for key in keys]

    def _read_all(self, located: list[Location]) -> pa.Table:
        """The rows of several snapshot files, columns matched by name."""
        if len(located) <= FEW_FILES:
            # A query costs ~5 ms of planning; a few small files are quicker read directly.
            return pa.concat_tables(storage.read_tables(located), promote_options="permissive")
        # DuckDB's multi-file reader opens a year of small daily files ~5x faster than a
        # loop of pyarrow reads (see the README's Performance section).
        with _reader() as con:
            return con.sql(
                "SELECT * FROM read_parquet($paths, union_by_name = true)",
                params={"paths": [str(place) for place in located]},
            ).to_arrow_table()


class ObjectSnapshotStore(SnapshotStore):
    """Snapshots in object storage: immutable content-addressed objects behind pointer objects."""

    root: UPath  # SnapshotStore.__new__ gives this class for s3:// roots only

    def path(self, asset: str, partition: str) -> UPath:
        return self.root / asset / f"{partition}.json"

    def _objects(self, asset: str, partition: str) -> UPath:
        return self.root / asset / "objects" / partition

    def _publish(self, asset: str, partition: str, data: bytes) -> Location:
        name = f"{hashlib.sha256(data).hexdigest()[:32]}.parquet"
        target = self._objects(asset, partition) / name
        storage.write_whole(target, lambda handle: handle.write(data))
        previous = self.resolve(asset, partition)
        self._switch(asset, partition, name)
        if previous is not None and previous.name != name:
            keep = {name, previous.name}
            for stale in self._objects(asset, partition).iterdir():
                if stale.name not in keep:
                    stale.unlink(missing_ok=True)
        return target

    def _switch(self, asset: str, partition: str, name: str) -> None:
        """Point readers at object ``name``: one small PUT, after the object is whole."""
        text = json.dumps({"object": f"objects/{partition}/{name}"})
        storage.write_whole(self.path(asset, partition), lambda h: h.write(text.encode("utf-8")))

    def partitions(self, asset: str) -> list[str]:
        return sorted(p.stem for p in (self.root / asset).glob("*.json"))

    def resolve(self, asset: str, partition: str) -> Location | None:
        try:
            pointer = json.loads(self.path(asset, partition).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        located: Location = self.root / asset / pointer["object"]
        return located

    def _resolve_all(self, asset: str, keys: list[str]) -> list[Location]:
        # Pointers and objects are fetched concurrently: one round trip each, not one per file.
        pointers = [self.path(asset, key) for key in keys]
        texts = self.root.fs.cat([pointer.path for pointer in pointers], on_error="omit")
        return [
            self.root / asset / json.loads(texts[pointer.path])["object"]
            for pointer in pointers
            if pointer.path in texts
        ]

    def _read_all(self, located: list[Location]) -> pa.Table:
        return pa.concat_tables(storage.read_tables(located), promote_options="permissive")
