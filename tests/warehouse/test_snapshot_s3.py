"""Snapshots published to S3 by a run, and the dashboard's sync of them, against a real S3 endpoint (moto).

The expected figures come from plain DuckDB SQL over the warehouse tables; the published objects are read
back with plain DuckDB SQL over the downloaded bytes, not through the code under test.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import date

import duckdb
import pytest

from dashboard import data
from dashboard.snapshot_sync import SnapshotSync
from pipelines.plan import run_in_process
from pipelines.snapshots import publish
from pipelines.cli import start_snapshot_sync
from pipelines.config import PublishConfig, load_config
from pipelines.demo import generate_demo
from warehouse.db import SNAPSHOT_TABLES, connect_writer
from warehouse.publish_s3 import PublishError, upload_snapshot

BUCKET = "aispend-marts"
PREFIX = "prod/snapshots"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parquet_bytes(tmp_path, name: str, rows: int) -> bytes:
    path = tmp_path / f"{name}-{rows}.parquet"
    duckdb.sql(f"COPY (SELECT range AS n FROM range({rows})) TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


def count_gets(sync: SnapshotSync) -> list[str]:
    """Every GetObject the sync's client sends, by key."""
    keys: list[str] = []
    sync._client.meta.events.register("before-call.s3.GetObject", lambda params, **_: keys.append(params["url_path"]))
    return keys


@pytest.fixture
def published(s3, tmp_path):
    """A small demo pipeline run whose config publishes to the moto bucket."""
    s3.client.create_bucket(Bucket=BUCKET)
    config = load_config(generate_demo(tmp_path / "demo", days=7, events_target=1500, end_date=date(2026, 11, 15)))
    config = config.model_copy(update={"publish": PublishConfig(uri=f"s3://{BUCKET}/{PREFIX}/",
                                                                endpoint_url=s3.endpoint_url, region=s3.region)})
    run_in_process(config)
    return config


def test_a_run_publishes_every_snapshot_and_sync_mirrors_them(s3, published, tmp_path):
    config = published
    keys = {o["Key"] for o in s3.client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]}
    assert keys == {f"{PREFIX}/{t}.parquet" for t in SNAPSHOT_TABLES}

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    con = connect_writer(config.warehouse_path)
    try:
        for table in SNAPSHOT_TABLES:
            got = downloads / f"{table}.parquet"
            got.write_bytes(s3.client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{table}.parquet")["Body"].read())
            in_s3 = duckdb.sql(f"SELECT count(*) FROM read_parquet('{got}')").fetchone()[0]
            assert in_s3 == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table
        expected = con.execute("SELECT count(*), round(sum(billed_cost_usd), 6) FROM allocated_cost").fetchone()
    finally:
        con.close()
    assert expected[0] > 0
    got = duckdb.sql(f"SELECT count(*), round(sum(billed_cost_usd), 6) FROM read_parquet('{downloads}/allocated_cost.parquet')")
    assert got.fetchone() == expected

    cache = tmp_path / "cache"
    sync = SnapshotSync(f"s3://{BUCKET}/{PREFIX}", cache, endpoint_url=s3.endpoint_url, region=s3.region)
    gets = count_gets(sync)
    first = sync.sync_once()
    assert first.ok and sorted(first.downloaded) == sorted(f"{t}.parquet" for t in SNAPSHOT_TABLES)
    assert len(gets) == len(SNAPSHOT_TABLES)
    for table in SNAPSHOT_TABLES:
        assert (cache / f"{table}.parquet").read_bytes() == (downloads / f"{table}.parquet").read_bytes()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp file left behind
    # The dashboard's data layer reads the cache folder like a local snapshot folder.
    assert data.day_range(cache) == data.day_range(config.snapshot_path) is not None

    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()}
    second = sync.sync_once()
    assert second.ok and second.downloaded == [] and len(second.unchanged) == len(SNAPSHOT_TABLES)
    assert len(gets) == len(SNAPSHOT_TABLES)  # no GET for an unchanged object
    assert stamps == {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()}

    # Re-publish allocated_cost with fewer rows: the next pass replaces that file (a new inode) and reads it afresh.
    con = connect_writer(config.warehouse_path)
    try:
        con.execute("DELETE FROM allocated_cost WHERE rowid % 2 = 0")
        remaining = con.execute("SELECT count(*) FROM allocated_cost").fetchone()[0]
        publish(con, config, "allocated_cost")
    finally:
        con.close()
    assert 0 < remaining < expected[0]
    third = sync.sync_once()
    assert third.ok and "allocated_cost.parquet" in third.downloaded
    assert set(third.downloaded) <= {"allocated_cost.parquet", "ingest_log.parquet"}
    assert (cache / "allocated_cost.parquet").stat().st_ino != stamps["allocated_cost.parquet"][0]
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{cache}/allocated_cost.parquet')").fetchone()[0] == remaining


def test_sync_against_a_dead_endpoint_keeps_the_last_files(s3, tmp_path):
    s3.put(BUCKET, f"{PREFIX}/usage_daily.parquet", parquet_bytes(tmp_path, "a", 3))
    s3.put(BUCKET, f"{PREFIX}/notes.txt", b"not a snapshot")
    s3.put(BUCKET, f"{PREFIX}/older/usage_daily.parquet", b"a deeper prefix")
    cache = tmp_path / "cache"
    good = SnapshotSync(f"s3://{BUCKET}/{PREFIX}", cache, endpoint_url=s3.endpoint_url, region=s3.region)
    assert good.sync_once().downloaded == ["usage_daily.parquet"]
    assert sorted(p.name for p in cache.iterdir()) == ["usage_daily.parquet"]
    before = (cache / "usage_daily.parquet").read_bytes(), (cache / "usage_daily.parquet").stat().st_mtime_ns

    logged: list[str] = []
    dead_url = f"http://127.0.0.1:{unused_port()}"
    dead = SnapshotSync(f"s3://{BUCKET}/{PREFIX}", cache, endpoint_url=dead_url, region=s3.region, log=logged.append)
    began = time.monotonic()
    result = dead.sync_once()
    assert time.monotonic() - began < 10
    assert not result.ok and result.downloaded == []
    assert len(logged) == 1 and f"s3://{BUCKET}/{PREFIX}/" in logged[0] and "last good copy" in logged[0]
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in logged[0]
    after = (cache / "usage_daily.parquet").read_bytes(), (cache / "usage_daily.parquet").stat().st_mtime_ns
    assert after == before
    assert not dead.sync_once().ok and len(logged) == 1  # the same failure again is not logged again


def test_the_dashboard_sync_thread_picks_up_a_republished_object(s3, tmp_path):
    config = load_config(_config_file(tmp_path, s3.endpoint_url))
    key = f"{PREFIX}/usage_daily.parquet"
    s3.put(BUCKET, key, parquet_bytes(tmp_path, "a", 3))
    sync = start_snapshot_sync(config, f"s3://{BUCKET}/{PREFIX}", 0.2, str(tmp_path / "cache"))
    target = sync.cache_dir / "usage_daily.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0] == 3
    s3.put(BUCKET, key, parquet_bytes(tmp_path, "b", 5))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if duckdb.sql(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0] == 5:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the sync thread did not pick up the re-published object within 5 s")
    sync.stop()


def _config_file(tmp_path, endpoint_url: str):
    path = tmp_path / "aispend.yaml"
    path.write_text(f"warehouse: wh/aispend.duckdb\npublish:\n  uri: s3://{BUCKET}/{PREFIX}\n"
                    f"  endpoint_url: {endpoint_url}\n  region: us-east-1\n")
    return path


def test_upload_retries_transient_errors_then_names_table_and_key(tmp_path, s3):
    snapshot = tmp_path / "spend_daily.parquet"
    snapshot.write_bytes(parquet_bytes(tmp_path, "s", 2))
    waits: list[float] = []
    with pytest.raises(PublishError) as refused:
        upload_snapshot(snapshot, f"s3://{BUCKET}/{PREFIX}", "spend_daily",
                        endpoint_url=f"http://127.0.0.1:{unused_port()}", region="us-east-1",
                        attempts=3, sleep=waits.append)
    assert waits == [0.5, 1.0]
    message = str(refused.value)
    assert f"spend_daily to s3://{BUCKET}/{PREFIX}/spend_daily.parquet after 3 attempts" in message
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in message

    # A missing bucket is not transient: one attempt, no wait.
    waits.clear()
    with pytest.raises(PublishError, match=f"s3://{BUCKET}/{PREFIX}/spend_daily.parquet: .*NoSuchBucket"):
        upload_snapshot(snapshot, f"s3://{BUCKET}/{PREFIX}", "spend_daily", endpoint_url=s3.endpoint_url,
                        region="us-east-1", sleep=waits.append)
    assert waits == []


def test_publish_block_is_strict(tmp_path):
    path = tmp_path / "aispend.yaml"
    path.write_text("publish:\n  uri: s3://bucket/prefix\n  access_key: nope\n")
    with pytest.raises(Exception, match="access_key"):
        load_config(path)
    path.write_text("publish:\n  uri: /local/folder\n")
    with pytest.raises(Exception, match="uri"):
        load_config(path)
