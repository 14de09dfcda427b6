"""S3 sensors against a real S3 endpoint (moto's server on 127.0.0.1): run keys, cursors, partitions, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

dg = pytest.importorskip("dagster")

from pipelines.config import SourceConfig  # noqa: E402
from pipelines.defs.sensors import LOOKBACK, Cursor, S3Object, build_s3_sensor, new_objects  # noqa: E402

CUR_PREFIX = "cur/acme/metadata"
LOG_PREFIX = "logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"


MONTHLY = dg.MonthlyPartitionsDefinition("2024-01-01")
DAILY = dg.DailyPartitionsDefinition("2024-01-01")


def _source(s3, kind: str, path: str) -> SourceConfig:
    return SourceConfig(name="aws-main", kind=kind, path=path, endpoint_url=s3.endpoint_url, region=s3.region)


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def tick(instance):
    """One sensor evaluation: (run requests, the cursor it returned, the skip message)."""
    def evaluate(sensor, cursor=None):
        result = sensor(dg.build_sensor_context(cursor=cursor, instance=instance))
        if isinstance(result, dg.SkipReason):
            return [], None, result.skip_message
        skip = result.skip_reason.skip_message if result.skip_reason else None
        return list(result.run_requests or []), result.cursor, skip
    return evaluate


def _etag(s3, bucket, key) -> str:
    return s3.client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


def test_cur_manifests_trigger_once_per_new_or_rewritten_manifest(s3, tick):
    s3.put("billing", f"{CUR_PREFIX}/BILLING_PERIOD=2025-07/acme-Manifest.json", b'{"v": 1}')
    s3.put("billing", f"{CUR_PREFIX}/BILLING_PERIOD=2025-08/acme-Manifest.json", b'{"v": 1}')
    s3.put("billing", "cur/acme/data/BILLING_PERIOD=2025-08/acme-00001.csv.gz", b"data")  # not a manifest
    sensor = build_s3_sensor(_source(s3, "aws_cur", "s3://billing/cur/"), "ingest", MONTHLY)

    requests, cursor, _ = tick(sensor)
    july = f"s3://billing/{CUR_PREFIX}/BILLING_PERIOD=2025-07/acme-Manifest.json"
    aug = f"s3://billing/{CUR_PREFIX}/BILLING_PERIOD=2025-08/acme-Manifest.json"
    assert sorted((r.partition_key, r.run_key) for r in requests) == [
        ("2025-07-01", f"{july}#{_etag(s3, 'billing', july[len('s3://billing/'):])}"),
        ("2025-08-01", f"{aug}#{_etag(s3, 'billing', aug[len('s3://billing/'):])}"),
    ]
    assert all(r.tags["aispend/warehouse"] == "writer" for r in requests)

    again, cursor2, skip = tick(sensor, cursor)
    assert again == [] and "nothing new" in skip

    # AWS rewrites August's manifest in place (new content, new ETag): exactly one new run, for August.
    s3.put("billing", f"{CUR_PREFIX}/BILLING_PERIOD=2025-08/acme-Manifest.json", b'{"v": 2}')
    rewritten, cursor3, _ = tick(sensor, cursor2)
    new_etag = _etag(s3, "billing", aug[len("s3://billing/"):])
    assert [(r.partition_key, r.run_key) for r in rewritten] == [("2025-08-01", f"{aug}#{new_etag}")]
    assert rewritten[0].run_key not in {r.run_key for r in requests}
    assert tick(sensor, cursor3)[0] == []


def test_bedrock_logs_request_the_day_of_each_new_object(s3, tick):
    first = f"{LOG_PREFIX}/2025/08/15/14/a.json.gz"
    s3.put("logs", first, b"x")
    s3.put("logs", f"{LOG_PREFIX}/2025/08/16/00/b.json.gz", b"y")
    sensor = build_s3_sensor(_source(s3, "bedrock_invocation_logs", "s3://logs/logs/"), "ingest", DAILY)

    requests, cursor, _ = tick(sensor)
    assert sorted((r.partition_key, r.run_key) for r in requests) == [
        ("2025-08-15", f"s3://logs/{first}"),
        ("2025-08-16", f"s3://logs/{LOG_PREFIX}/2025/08/16/00/b.json.gz"),
    ]
    assert tick(sensor, cursor)[0] == []

    s3.put("logs", f"{LOG_PREFIX}/2025/08/16/01/c.json.gz", b"z")
    new, _, _ = tick(sensor, cursor)
    assert [(r.partition_key, r.run_key) for r in new] == [
        ("2025-08-16", f"s3://logs/{LOG_PREFIX}/2025/08/16/01/c.json.gz")]


def test_unpartitioned_job_gets_one_run_per_tick(s3, tick):
    s3.put("logs", f"{LOG_PREFIX}/2025/08/15/14/a.json.gz", b"x")
    s3.put("logs", f"{LOG_PREFIX}/2025/08/16/00/b.json.gz", b"y")
    sensor = build_s3_sensor(_source(s3, "bedrock_invocation_logs", "s3://logs/logs/"), "ingest")
    requests, _, _ = tick(sensor)
    assert len(requests) == 1 and requests[0].partition_key is None
    assert requests[0].tags["aispend/new_objects"] == "2"


def test_an_s3_error_is_a_skip_with_the_reason_and_no_secret(s3, monkeypatch, tick):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sekrit-value-123")
    sensor = build_s3_sensor(_source(s3, "aws_cur", "s3://no-such-bucket/cur/"), "ingest", MONTHLY)
    requests, cursor, skip = tick(sensor, Cursor(None, {}).dumps())
    assert requests == [] and cursor is None
    assert "no-such-bucket" in skip and "NoSuchBucket" in skip
    assert "sekrit" not in skip


def test_cursor_catches_a_late_object_written_before_the_newest_and_forgets_old_ones():
    t0 = datetime(2025, 8, 15, 12, 0, tzinfo=timezone.utc)
    a = S3Object("s3://b/a", "e1", t0)
    b = S3Object("s3://b/b", "e2", t0 + timedelta(minutes=30))
    fresh, cursor = new_objects([a, b], Cursor.loads(None))
    assert fresh == [a, b]
    assert cursor.newest == b.modified and cursor.seen == {"s3://b/b": "e2"}  # a is older than newest - LOOKBACK
    cursor = Cursor.loads(cursor.dumps())
    late = S3Object("s3://b/late", "e3", b.modified - LOOKBACK / 2)  # upload started before b, listed after it
    stale = S3Object("s3://b/stale", "e4", b.modified - 2 * LOOKBACK)
    fresh, cursor2 = new_objects([a, b, late, stale], cursor)
    assert fresh == [late]
    assert new_objects([a, b, late, stale], cursor2)[0] == []


@dg.asset(name="stub")
def _stub():
    return None


def test_marts_rebuild_once_after_ingest_runs_succeed():
    from pipelines.defs.sensors import marts_after_ingest

    with dg.instance_for_test() as instance:
        def evaluate(cursor=None):
            return marts_after_ingest(dg.build_sensor_context(cursor=cursor, instance=instance))

        assert isinstance(evaluate(), dg.SkipReason)
        other = dg.Definitions(assets=[_stub], jobs=[dg.define_asset_job("everything", selection=[_stub])])
        other.resolve_job_def("everything").execute_in_process(instance=instance)
        assert isinstance(evaluate(), dg.SkipReason)  # a marts run itself triggers nothing

        ingest = dg.Definitions(assets=[_stub], jobs=[dg.define_asset_job("usage_events_job", selection=[_stub])])
        job = ingest.resolve_job_def("usage_events_job")
        first = job.execute_in_process(instance=instance).run_id
        second = job.execute_in_process(instance=instance).run_id
        result = evaluate()
        assert [r.run_key for r in result.run_requests] == [f"marts-after-{second}"]
        assert first != second
        assert isinstance(evaluate(result.cursor), dg.SkipReason)


def test_daily_schedules_request_the_last_two_days_and_months_as_one_run_each(tmp_path):
    from pipelines.defs.resources import AispendResource
    from pipelines.defs.schedules import daily_costs, daily_usage

    config = tmp_path / "aispend.yaml"
    config.write_text("start_date: 2025-03-01\n")
    resources = {"aispend": AispendResource(config_path=str(config))}

    def evaluate(schedule, when):
        with dg.build_schedule_context(scheduled_execution_time=when, resources=resources) as context:
            return schedule(context)

    at = datetime(2025, 8, 1, 6, 0, tzinfo=timezone.utc)
    usage = evaluate(daily_usage, at)
    assert usage.tags["dagster/asset_partition_range_start"] == "2025-07-30"
    assert usage.tags["dagster/asset_partition_range_end"] == "2025-07-31"
    costs = evaluate(daily_costs, at)
    assert costs.tags["dagster/asset_partition_range_start"] == "2025-07-01"
    assert costs.tags["dagster/asset_partition_range_end"] == "2025-08-01"
    assert usage.run_key != costs.run_key

    # The day after start_date: only the first day exists; only the first month.
    first_day = evaluate(daily_usage, datetime(2025, 3, 2, 6, tzinfo=timezone.utc))
    assert first_day.partition_key == "2025-03-01"
    first_month = evaluate(daily_costs, datetime(2025, 3, 2, 6, tzinfo=timezone.utc))
    assert first_month.partition_key == "2025-03-01"
    assert isinstance(evaluate(daily_usage, datetime(2025, 3, 1, 6, tzinfo=timezone.utc)), dg.SkipReason)
