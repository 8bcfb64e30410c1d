"""Where the lake, the snapshots and the state file live: a local folder or an ``s3://`` URL.

A location is a :class:`pathlib.Path` for a local path, so everything on one machine works as it
always did, or a universal-pathlib ``UPath`` over s3fs for ``s3://bucket/prefix`` on any
S3-compatible store. Both speak the pathlib API (``/``, ``exists``, ``iterdir``, ``glob``,
``read_text``), so lake listings and the state file need no branches; the few operations pathlib
lacks are here: Parquet reads, the paths DuckDB reads, change stamps and whole-object writes.

s3fs goes through botocore, which honours ``AWS_ENDPOINT_URL`` (any S3-compatible store),
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and
``AWS_DEFAULT_REGION`` like every AWS client. Listings are never cached: another process (a run
worker) may have written since. DuckDB reads objects through the same s3fs filesystem,
registered on its connection; its httpfs extension (downloaded at run time) is never used.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from typing_extensions import TypeIs
from upath import UPath

from silver_assets.durable import write_atomically

OBJECT_STORE_SCHEME = "s3"

Location = Path | UPath
# The end of a Parquet object fetched for its footer: a footer (schema, key-value metadata and
# row-group statistics) of the lake's files is a few KB.
FOOTER_BYTES = 64 * 1024
_Footer = TypeVar("_Footer")
_REGISTERING = threading.Lock()


def location(raw: str | os.PathLike[str] | Location, base: Path | None = None) -> Location:
    """A local path (relative ones resolve against ``base``) or an ``s3://bucket/prefix`` URL."""
    if is_remote(raw):
        return raw
    text = str(raw)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme != OBJECT_STORE_SCHEME:
            raise ValueError(f"{text!r}: locations are local paths or s3://bucket/prefix URLs")
        if not rest.split("/", 1)[0]:
            raise ValueError(f"{text!r} names no bucket; expected s3://bucket/prefix")
        return UPath(text.rstrip("/"), use_listings_cache=False)
    path = Path(text).expanduser()
    return path if path.is_absolute() or base is None else base / path


def is_remote(place: object) -> TypeIs[UPath]:
    """True for an object-storage location."""
    return isinstance(place, UPath) and place.protocol not in ("", "file", "local")


def read_table(place: Location | str) -> pa.Table:
    """One Parquet file or object as an Arrow table."""
    place = location(place)
    if is_remote(place):
        # An open object rather than a path: pyarrow would first ask whether it is a folder.
        with place.fs.open(place.path, "rb") as handle:
            return pq.read_table(handle)
    return pq.read_table(place)


def read_tables(places: Sequence[Location]) -> list[pa.Table]:
    """Several small Parquet files or objects; objects are fetched concurrently, one GET each."""
    remote = [place for place in places if is_remote(place)]
    fetched = remote[0].fs.cat([place.path for place in remote]) if remote else {}
    return [
        pq.read_table(pa.BufferReader(fetched[place.path]))
        if is_remote(place)
        else pq.read_table(place)
        for place in places
    ]


def _from_footer(place: Location | str, read: Callable[[Any], _Footer]) -> _Footer:
    place = location(place)
    if is_remote(place):
        with place.fs.open(place.path, "rb") as handle:
            return read(handle)
    return read(place)


def read_schema(place: Location | str) -> pa.Schema:
    """The schema (with key-value metadata) of one Parquet file or object, from its footer."""
    return _from_footer(place, pq.read_schema)


def read_metadata(place: Location | str) -> pq.FileMetaData:
    """The footer of one Parquet file or object: its schema and row count among others."""
    return _from_footer(place, pq.read_metadata)


def read_schemas(places: Sequence[Location | str]) -> list[pa.Schema]:
    """The schemas of several files; on S3 their tails are fetched concurrently, one GET each."""
    places = [location(place) for place in places]
    remote = [place for place in places if is_remote(place)]
    tails = (
        remote[0].fs.cat_ranges([p.path for p in remote], [-FOOTER_BYTES] * len(remote), None)
        if remote
        else []
    )
    by_path = dict(zip((place.path for place in remote), tails, strict=True))
    return [
        _schema_of_tail(place, by_path[place.path]) if is_remote(place) else read_schema(place)
        for place in places
    ]


def _schema_of_tail(place: Location, tail: bytes) -> pa.Schema:
    try:  # the tail is the whole footer unless the footer is larger than FOOTER_BYTES
        return pq.read_schema(pa.BufferReader(tail))
    except pa.ArrowInvalid:
        return read_schema(place)


def stamp(place: Location | str) -> str:
    """What changes when a file is rewritten: size and mtime locally, size and ETag on S3.

    Raises ``FileNotFoundError`` when there is nothing at ``place``.
    """
    place = location(place)
    if is_remote(place):
        info = place.fs.info(place.path)
        return f"{info['size']}|{info.get('ETag') or info.get('LastModified')}"
    stat = Path(place).stat()
    return f"{stat.st_size}|{stat.st_mtime_ns}"


def duckdb_paths(con: duckdb.DuckDBPyConnection, places: Iterable[Location | str]) -> list[str]:
    """The strings DuckDB reads ``places`` by, registering the object store on ``con`` if needed."""
    places = [location(place) for place in places]
    for place in places:
        if is_remote(place):
            # A registration belongs to the database, which cursors in threads share: check and
            # register as one step, or a second registration raises.
            with _REGISTERING:
                if not con.filesystem_is_registered(OBJECT_STORE_SCHEME):
                    con.register_filesystem(place.fs)
            break
    return [str(place) for place in places]


def write_whole(
    target: Location, write: Callable[[BinaryIO], object], durable: bool = True
) -> Location:
    """Write ``target`` so that readers see the old content or the new, never part of it.

    Locally: a temporary file, fsync and rename (:func:`~silver_assets.durable.write_atomically`).
    On S3: the bytes are buffered and sent in one PUT, which the store makes visible whole.
    """
    if not is_remote(target):
        return write_atomically(Path(target), write, durable=durable)
    buffer = io.BytesIO()
    write(buffer)
    target.fs.pipe_file(target.path, buffer.getvalue())
    return target


def subfolders(place: Location) -> list[str]:
    """Names of the folders directly under ``place`` (none when it does not exist); one listing."""
    if is_remote(place):
        try:
            entries = place.fs.ls(place.path, detail=True)
        except FileNotFoundError:
            return []
        return [
            entry["name"].rstrip("/").rsplit("/", 1)[-1]
            for entry in entries
            if entry["type"] == "directory"
        ]
    if not Path(place).is_dir():
        return []
    return [child.name for child in Path(place).iterdir() if child.is_dir()]
