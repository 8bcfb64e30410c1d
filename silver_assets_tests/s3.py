"""A real S3 endpoint for the object-storage tests: moto's S3 server on 127.0.0.1.

moto is a pip dependency (the dev extra), so these tests never skip. The server runs in a thread
of the test process on a free port, one per session; the standard AWS variables point every
client at it (this process's s3fs, and the CLI subprocesses, which inherit the environment).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from s3fs import S3FileSystem
from upath import UPath

from silver_assets.settings import Settings


@contextmanager
def moto_s3() -> Iterator[dict[str, str]]:
    """Start the server; yield the AWS environment that reaches it, set in ``os.environ``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # fsspec caches filesystems by their arguments, not by the endpoint they read from the
    # environment: one built in an earlier session in this process (mutmut runs pytest several
    # times in one process) would still call that session's stopped server.
    S3FileSystem.clear_instance_cache()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "moto-test-key",
        "AWS_SECRET_ACCESS_KEY": "moto-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            patch.delenv("AWS_PROFILE", raising=False)
            yield env
    finally:
        server.stop()


def new_bucket(prefix: str = "silver") -> UPath:
    """A fresh, empty bucket (unique per call), as an ``s3://`` location."""
    bucket = UPath(f"s3://{prefix}-{uuid.uuid4().hex[:12]}", use_listings_cache=False)
    bucket.fs.mkdir(bucket.path)
    return bucket


def upload(local: Path, target: UPath) -> None:
    """Copy a local folder's tree (or one file) to ``target``."""
    if local.is_dir():
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            target.fs.put_file(str(path), f"{target.path}/{path.relative_to(local).as_posix()}")
    else:
        target.fs.put_file(str(local), target.path)


def on_s3(local: Settings, bucket: UPath, audit_root: Path) -> Settings:
    """``local`` with its lake and state file uploaded to ``bucket``, every root there but the
    audit log (always local)."""
    upload(Path(local.lake_root), bucket / "silver")
    upload(Path(local.state_path), bucket / "state" / "collect_data_state.json")
    return Settings(
        lake_root=bucket / "silver",
        state_path=bucket / "state" / "collect_data_state.json",
        snapshot_root=bucket / "snapshots",
        audit_root=audit_root,
        config_dir=local.config_dir,
        max_tickers=local.max_tickers,
        iv_rank_lookback_days=local.iv_rank_lookback_days,
    )
