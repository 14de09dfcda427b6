"""Where source files live: a local folder or glob, or an S3 prefix (AWS, MinIO, R2 or any S3 endpoint).

Readers never open files themselves when the pipeline runs: ingest lists objects here, fetches their bytes,
and hands the bytes to the reader. So the same reader serves local exports and buckets, and the checksum in
ingest_log is of exactly the bytes that were parsed.
"""

from __future__ import annotations

import fnmatch
import glob as globlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipelines.errors import SourceError, TransientError


_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
                    "InternalError", "ServiceUnavailable", "503", "500", "502", "504"}


def is_transient(exc: BaseException) -> bool:
    """botocore's connection errors and timeouts, and S3 answers with a 5xx status or a throttling code."""
    try:
        from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        meta = exc.response.get("ResponseMetadata", {})
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return int(meta.get("HTTPStatusCode") or 0) >= 500 or code in _TRANSIENT_CODES
    return False


def _s3_error(location: str, what: str, exc: Exception) -> SourceError:
    kind = TransientError if is_transient(exc) else SourceError
    return kind(location, f"{what}: {exc}")


@dataclass(frozen=True)
class StoredObject:
    location: str  # absolute local path, or s3://bucket/key
    size: int
    etag: str | None = None  # S3's ETag: lets an unchanged object be skipped without downloading it
    mtime_ns: int | None = None  # a local file's modification time: with its size, its version (pipelines/ingest.py)


class Storage(Protocol):
    def list(self, target: str, pattern: str | None = None) -> list[StoredObject]: ...

    def read(self, location: str) -> bytes: ...


def split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url}")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"s3 URL without a bucket: {url}")
    return bucket, key


class LocalStorage:
    """A file, a folder (read recursively), or a glob (`**` allowed)."""

    def list(self, target: str, pattern: str | None = None) -> list[StoredObject]:
        p = Path(target)
        if p.is_dir():
            found = [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
        else:
            found = [Path(f) for f in globlib.glob(target, recursive=True) if Path(f).is_file()]
        if pattern:
            found = [f for f in found if fnmatch.fnmatch(f.name, pattern) or fnmatch.fnmatch(str(f), pattern)]
        stats = [(f, f.stat()) for f in sorted(found)]
        return [StoredObject(str(f), st.st_size, mtime_ns=st.st_mtime_ns) for f, st in stats]

    def read(self, location: str) -> bytes:
        try:
            return Path(location).read_bytes()
        except OSError as exc:
            raise SourceError(location, f"cannot read file: {exc.strerror or exc}") from exc


class S3Storage:
    """boto3 against any S3 endpoint. Credentials come from boto3's default chain (environment variables,
    shared config, instance role), never from aispend's config."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    @property
    def client(self):
        return self._client

    def list(self, target: str, pattern: str | None = None) -> list[StoredObject]:
        bucket, prefix = split_s3(target)
        found = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if key.endswith("/"):
                        continue
                    if pattern and not (fnmatch.fnmatch(key.rsplit("/", 1)[-1], pattern) or fnmatch.fnmatch(key, pattern)):
                        continue
                    found.append(StoredObject(f"s3://{bucket}/{key}", item["Size"], item.get("ETag", "").strip('"')))
        except Exception as exc:  # botocore errors name the bucket and the reason, never the credentials
            raise _s3_error(target, "cannot list S3 prefix", exc) from exc
        return sorted(found, key=lambda o: o.location)

    def read(self, location: str) -> bytes:
        bucket, key = split_s3(location)
        try:
            return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise _s3_error(location, "cannot read S3 object", exc) from exc


def storage_for(target: str, endpoint_url: str | None = None, region: str | None = None) -> Storage:
    return S3Storage(endpoint_url, region) if target.startswith("s3://") else LocalStorage()
