"""Publishing the dashboard's snapshots to S3, so the dashboard needs no volume shared with the run pod.

Each table's local snapshot (written atomically by `warehouse.db.export_snapshot`) is uploaded with one PUT
to `<uri>/<table>.parquet`. A PUT replaces an object atomically: a reader downloads the old object or the new
one, never half of one, so the hand-over keeps the local snapshot's guarantee. Credentials come from boto3's
default chain (environment variables, IRSA), never from the config, and never appear in an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from pipelines.storage import is_transient, split_s3

ATTEMPTS = 4
BACKOFF_S = 0.5  # doubled after each transient failure: 0.5, 1, 2 s


class PublishError(Exception):
    """A snapshot could not be uploaded; names the table and bucket/key, never credentials."""


def object_url(uri: str, table: str) -> str:
    return f"{uri.rstrip('/')}/{table}.parquet"


@lru_cache(maxsize=8)
def s3_client(endpoint_url: str | None = None, region: str | None = None):
    """One client per endpoint for the process (clients are thread-safe); retries are ours (`upload_snapshot`),
    so a dead endpoint fails after a known number of attempts."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120),
    )


def upload_snapshot(
    path: str | Path,
    uri: str,
    table: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    attempts: int = ATTEMPTS,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Upload one snapshot file to `<uri>/<table>.parquet`; transient errors (connection, 5xx, throttling) are
    retried with doubling backoff, anything else fails at once. Returns the object's s3:// URL."""
    url = object_url(uri, table)
    bucket, key = split_s3(url)
    client = s3_client(endpoint_url, region)
    for attempt in range(1, attempts + 1):
        try:
            with open(path, "rb") as body:
                client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/vnd.apache.parquet")
            return url
        except Exception as exc:
            if attempt < attempts and is_transient(exc):
                sleep(backoff_s * 2 ** (attempt - 1))
                continue
            tried = f" after {attempt} attempts" if attempt > 1 else ""
            # botocore's messages name the operation, bucket and status, never the credentials.
            raise PublishError(f"cannot publish snapshot {table} to s3://{bucket}/{key}{tried}: "
                               f"{type(exc).__name__}: {exc}") from exc
    raise AssertionError("unreachable")  # pragma: no cover
