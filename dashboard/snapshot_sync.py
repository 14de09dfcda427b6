"""Keeping a local copy of the snapshots a run published to S3 (`publish.uri`), for a dashboard with no volume
shared with the run pod.

Every pass lists `<uri>/*.parquet` and downloads only the objects whose ETag changed since the last pass, each
into a temp file in the cache folder that then replaces the old copy (os.replace). The data layer
(dashboard/data/snapshots.py) pins a snapshot by descriptor and keys its cache on the file's inode, size and
mtime, so a replaced file is read afresh and a query under way finishes on the version it opened. A failed pass
is logged and changes nothing it did not finish: the last good files keep serving.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.storage import split_s3

DEFAULT_INTERVAL_S = 60.0
# Only plain table names: a key cannot name a path outside the cache folder.
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.parquet$")


def _stderr(message: str) -> None:
    print(f"[aispend] {message}", file=sys.stderr, flush=True)


@dataclass
class SyncResult:
    downloaded: list[str] = field(default_factory=list)  # file names replaced in the cache
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _client(endpoint_url: str | None, region: str | None):
    """Two attempts per call: the next pass is the real retry, and a dead endpoint must not hold a pass long."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


class SnapshotSync:
    """Mirror `<uri>/<table>.parquet` objects into `cache_dir`, once (`sync_once`) or every N seconds (`start`)."""

    def __init__(self, uri: str, cache_dir: str | Path, *, endpoint_url: str | None = None,
                 region: str | None = None, log: Callable[[str], None] = _stderr):
        self.uri = uri.rstrip("/")
        self.bucket, prefix = split_s3(self.uri)
        self.prefix = f"{prefix}/" if prefix else ""
        self.cache_dir = Path(cache_dir)
        self._client = _client(endpoint_url, region)
        self._etags: dict[str, str] = {}  # file name -> ETag of the copy in the cache
        self._log = log
        self._last_errors: list[str] = []  # a dead endpoint is reported once, not every pass
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _listing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix,
                                                                      Delimiter="/")
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix):]
                if _SNAPSHOT_NAME.match(name):
                    found[name] = item.get("ETag", "")
        return found

    def _download(self, name: str) -> str:
        """Fetch one object into a temp file beside its target, then swap it in; returns the fetched ETag."""
        response = self._client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.cache_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response["Body"].iter_chunks(1 << 20):
                    out.write(chunk)
            os.replace(tmp, self.cache_dir / name)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return response.get("ETag", "")

    def sync_once(self) -> SyncResult:
        """One pass; never raises for S3 or file errors (they are logged and returned)."""
        result = SyncResult()
        where = f"s3://{self.bucket}/{self.prefix}"
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            listing = self._listing()
        except Exception as exc:  # botocore's messages name the endpoint and status, never the credentials
            result.errors.append(f"cannot list {where}: {type(exc).__name__}: {exc}")
        else:
            for name, etag in sorted(listing.items()):
                if etag and self._etags.get(name) == etag and (self.cache_dir / name).is_file():
                    result.unchanged.append(name)
                    continue
                try:
                    self._etags[name] = self._download(name)
                    result.downloaded.append(name)
                except Exception as exc:
                    result.errors.append(f"cannot download {where}{name}: {type(exc).__name__}: {exc}")
        if result.errors != self._last_errors:
            for error in result.errors:
                self._log(f"snapshot sync: {error} (the last good copy keeps serving)")
            if not result.errors:
                self._log(f"snapshot sync from {where} works again ({len(result.downloaded)} files updated)")
        self._last_errors = result.errors
        return result

    def start(self, interval_s: float = DEFAULT_INTERVAL_S) -> threading.Thread:
        """Sync every `interval_s` seconds in a daemon thread until `stop()`."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.sync_once()

        self._thread = threading.Thread(target=loop, name="aispend-snapshot-sync", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
