"""Sensors: start a run when new objects land in S3 under a source whose kind declares a `Watch` (today: CUR
manifests, Bedrock invocation-log objects; pipelines/sources/spec.py), and rebuild the marts after ingest runs.

One sensor per such S3 source of the config (no such source, or no config file: no S3 sensor).
Definitions never contact S3 when they load; a tick lists the prefix.

The cursor remembers the newest LastModified seen and every object (key -> ETag) written within LOOKBACK of it.
An object is new when it is not remembered with that ETag and was written at or after (newest - LOOKBACK):
restarts re-trigger nothing, a rewritten manifest (new ETag) triggers again, and an object whose LastModified is
a little older than one already seen (a multipart upload started earlier, a write in the same second) is still
caught. New objects are grouped by the partition their data belongs to (a CUR manifest's billing month, a log
object's UTC day), one run per partition per tick: runs write one DuckDB file, so fewer runs is better.
run_key = the newest new object of the group (for CUR its key + ETag), so a run_key is never reused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg

from pipelines.config import AispendConfig, SourceConfig
from pipelines.sources import spec
from pipelines.sources.spec import Watch
from pipelines.defs import partitions
from pipelines.defs.schedules import MARTS_JOB, WAREHOUSE_TAG
from pipelines.graph import DAY, GRAPH, MONTH
from pipelines.plan import JOBS

MIN_INTERVAL_SECONDS = 300
LOOKBACK = timedelta(minutes=15)

@dataclass(frozen=True)
class S3Object:
    location: str  # s3://bucket/key
    etag: str
    modified: datetime  # UTC, aware


@dataclass(frozen=True)
class Cursor:
    newest: datetime | None
    seen: dict[str, str]  # location -> ETag, for objects written within LOOKBACK of `newest`

    def dumps(self) -> str:
        return json.dumps({"newest": self.newest.isoformat() if self.newest else None, "seen": self.seen},
                          sort_keys=True)

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        if not text:
            return cls(None, {})
        raw = json.loads(text)
        newest = datetime.fromisoformat(raw["newest"]) if raw.get("newest") else None
        return cls(newest, dict(raw.get("seen", {})))


def new_objects(objects: Sequence[S3Object], cursor: Cursor, lookback: timedelta = LOOKBACK
                ) -> tuple[list[S3Object], Cursor]:
    """The objects not seen before, and the cursor that remembers them (pure: the sensor's whole logic)."""
    horizon = cursor.newest - lookback if cursor.newest else None
    fresh = [o for o in objects
             if (horizon is None or o.modified >= horizon) and cursor.seen.get(o.location) != o.etag]
    newest = max([o.modified for o in objects] + ([cursor.newest] if cursor.newest else []), default=None)
    keep = newest - lookback if newest else None
    seen = {o.location: o.etag for o in objects if keep is not None and o.modified >= keep}
    return sorted(fresh, key=lambda o: (o.modified, o.location)), Cursor(newest, seen)


def list_s3(source: SourceConfig) -> list[S3Object]:
    """Every object under the source's prefix with its ETag and LastModified (which StoredObject lacks)."""
    from pipelines.storage import S3Storage, split_s3

    bucket, prefix = split_s3(source.path)
    client = S3Storage(source.endpoint_url, source.region).client
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                found.append(S3Object(f"s3://{bucket}/{item['Key']}", item.get("ETag", "").strip('"'),
                                      item["LastModified"].astimezone(timezone.utc)))
    return found


def _partition_key(partitions_def, when: datetime | None) -> str | None:
    if partitions_def is None or when is None:
        return None
    key = partitions_def.get_partition_key_for_timestamp(when.timestamp())
    return key if partitions_def.has_partition_key(key) else None


def run_requests(source: SourceConfig, watch: Watch, fresh: Sequence[S3Object], partitions_def=None
                 ) -> list[dg.RunRequest]:
    """One request per partition touched (one in all when the job is not partitioned)."""
    groups: dict[str | None, list[S3Object]] = {}
    for obj in fresh:
        when = watch.data_time(obj.location)
        if when is None and watch.dated_only:
            continue  # e.g. a data file or a per-assembly manifest: its top-level manifest triggers
        if partitions_def is not None and when is None:
            when = obj.modified
        groups.setdefault(_partition_key(partitions_def, when), []).append(obj)
    requests = []
    for key, objs in sorted(groups.items(), key=lambda kv: kv[0] or ""):
        newest = max(objs, key=lambda o: (o.modified, o.location))
        requests.append(dg.RunRequest(
            run_key=watch.run_key(newest.location, newest.etag),
            partition_key=key,
            tags={**WAREHOUSE_TAG, "aispend/source": source.name, "aispend/new_objects": str(len(objs))},
        ))
    return requests


def _sensor_name(source: SourceConfig, watch: Watch) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{source.name}_{watch.suffix}")


def build_s3_sensor(source: SourceConfig, job_name: str, partitions_def=None, *,
                    lister: Callable[[SourceConfig], list[S3Object]] = list_s3,
                    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING) -> dg.SensorDefinition:
    watch = spec(source.kind).watch

    @dg.sensor(name=_sensor_name(source, watch), job_name=job_name, minimum_interval_seconds=MIN_INTERVAL_SECONDS,
               description=f"{source.path}: {watch.description}", default_status=default_status)
    def _sensor(context: dg.SensorEvaluationContext):
        cursor = Cursor.loads(context.cursor)
        try:
            listed = lister(source)
        except Exception as exc:  # noqa: BLE001 - botocore names bucket and reason, never the credentials
            return dg.SkipReason(f"{source.name}: cannot list {source.path}: {exc}")
        fresh, next_cursor = new_objects(listed, cursor)
        requests = run_requests(source, watch, fresh, partitions_def)
        if not requests:
            return dg.SensorResult(skip_reason=f"{source.name}: nothing new under {source.path}",
                                   cursor=next_cursor.dumps())
        context.log.info(f"{source.name}: {len(fresh)} new object(s), {len(requests)} run(s)")
        return dg.SensorResult(run_requests=requests, cursor=next_cursor.dumps())

    return _sensor


INGEST_JOBS = tuple(name for grain, name in JOBS.items() if grain is not None)
_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED]


@dg.sensor(name="marts_after_ingest", job_name=MARTS_JOB, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Rebuilds the unpartitioned marts once after ingest runs succeed (none still queued or running).")
def marts_after_ingest(context: dg.SensorEvaluationContext):
    """A run-status sensor by hand: it waits until no ingest run is active, so the two 06:00 ingest runs and a
    burst of S3-triggered runs end in one marts run, not one each. Cursor: the newest success handled."""
    instance = context.instance
    after = float(context.cursor) if context.cursor else None
    done = instance.get_run_records(
        dg.RunsFilter(job_name=None, statuses=[dg.DagsterRunStatus.SUCCESS],
                      updated_after=datetime.fromtimestamp(after, timezone.utc) if after else None),
        limit=100)
    done = [r for r in done if r.dagster_run.job_name in INGEST_JOBS
            and (after is None or r.update_timestamp.timestamp() > after)]
    if not done:
        return dg.SkipReason("no ingest run finished since the last marts run")
    active = [r for job in INGEST_JOBS for r in instance.get_runs(dg.RunsFilter(job_name=job, statuses=_ACTIVE), limit=1)]
    if active:
        return dg.SkipReason("ingest runs still queued or running; the marts wait for them")
    newest = max(done, key=lambda r: r.update_timestamp)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"marts-after-{newest.dagster_run.run_id}",
                                    tags={**WAREHOUSE_TAG, "aispend/after_run": newest.dagster_run.run_id})],
        cursor=str(newest.update_timestamp.timestamp()),
    )


def sensors_for(config: AispendConfig | None) -> list[dg.SensorDefinition]:
    """A sensor per S3 source of a watched kind, on the partitions the assets use, plus marts_after_ingest."""
    start = partitions.start_date(config)
    by_grain = {DAY: partitions.daily(start), MONTH: partitions.monthly(start), None: None}
    jobs = {s.name: (JOBS[s.grain], by_grain[s.grain]) for s in GRAPH if s.step == "load"}
    watched = [s for s in (config.sources if config else [])
               if spec(s.kind).watch is not None and s.path and s.path.startswith("s3://")]
    return [build_s3_sensor(s, *jobs[s.table]) for s in watched] + [marts_after_ingest]

