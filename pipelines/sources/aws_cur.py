"""AWS Cost and Usage Reports (CUR 2.0 Data Exports and legacy CUR) into cost_lines, one billing period at a time.

AWS rewrites a month's files several times a day and restates the previous month for weeks, and it leaves old
deliveries beside new ones. So the unit here is a billing period's NEWEST manifest: only the files it lists are
read (listing the data folder would count old deliveries twice), and the period's rows are replaced whole
(`owns` = source + BillingPeriodStart), so a restatement replaces a month instead of adding to it.

Layouts, under `source.path` (`s3://bucket/prefix` or a local folder holding the same keys):
  CUR 2.0  <export>/metadata/BILLING_PERIOD=YYYY-MM/[<id>/]<export>-Manifest.json  (`dataFiles`: s3 URIs)
           AWS's FOCUS export writes `billing_period=`; its FOCUS-column files are read by the FOCUS reader.
  legacy   <report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json (`reportKeys`, `assemblyId`, `billingPeriod`)
Local copies are matched to the manifest's keys by the longest key suffix that exists below the folder.
Each data file is read by pipelines/sources/aws_cur_lines.py (columns, amortization, Bedrock lines).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

from pipelines.config import AispendConfig, SourceConfig
from pipelines.errors import SourceError
from pipelines.sources.spec import SourceSpec, Watch
from pipelines.sources.units import Unit, relative_key, source_root
from pipelines.schemas import COST_LINES, conform
from pipelines.sources.aws_cur_lines import read_file, refuse_duplicate_ids
from pipelines.storage import StoredObject, storage_for

_CUR2_MANIFEST = re.compile(
    r"(?:^|/)(?P<export>[^/]+)/metadata/(?:BILLING_PERIOD|billing_period)=(?P<period>\d{4}-\d{2})/"
    r"(?:[^/]+/)?[^/]+-Manifest\.json$"
)
_LEGACY_MANIFEST = re.compile(
    r"(?:^|/)(?P<export>[^/]+)/(?P<start>\d{8})-(?P<end>\d{8})/(?P<assembly>[^/]+/)?[^/]+-Manifest\.json$"
)

# ---------------------------------------------------------------------------------------------------------
# Planning: one unit per billing period, from its newest manifest


@dataclass(frozen=True)
class Delivery:
    """One billing period's manifest that counts (the newest), and what it needs to be read."""

    manifest: StoredObject
    layout: str  # cur2 | legacy
    period_start: datetime


def plan(config: AispendConfig, source: SourceConfig) -> list[Unit]:
    target = config.resolve(source.path)
    storage = storage_for(target, source.endpoint_url, source.region)
    objects = storage.list(target)
    deliveries = newest_deliveries(objects, lambda obj: _modified(storage, obj), target)
    index = _ObjectIndex(target, objects)
    root = source_root(target)
    return [_unit(storage, source, index, d, root) for d in deliveries]


def newest_deliveries(objects: list[StoredObject], modified, target: str) -> list[Delivery]:
    """The manifest that counts for each billing period: for legacy CUR the top-level one (it names the current
    assembly), and among several candidates the most recently written."""
    groups: dict[tuple[str, str, datetime], list[tuple[int, StoredObject]]] = {}
    for obj in objects:
        key = obj.location.replace("\\", "/")
        if m := _CUR2_MANIFEST.search(key):
            start = datetime.strptime(m["period"] + "-01", "%Y-%m-%d")
            groups.setdefault(("cur2", m["export"], start), []).append((0, obj))
        elif m := _LEGACY_MANIFEST.search(key):
            start = datetime.strptime(m["start"], "%Y%m%d")
            rank = 1 if m["assembly"] else 0  # per-assembly manifests only when no top-level one exists
            groups.setdefault(("legacy", m["export"], start), []).append((rank, obj))
    exports = sorted({(layout, export) for layout, export, _ in groups})
    if len(exports) > 1:
        names = ", ".join(f"{export} ({layout})" for layout, export in exports)
        raise SourceError(target, f"holds more than one export ({names}); give each its own source so one "
                                  "export's month never replaces another's")
    out = []
    for (layout, _, start), found in sorted(groups.items(), key=lambda kv: kv[0][2]):
        best_rank = min(rank for rank, _ in found)
        candidates = [obj for rank, obj in found if rank == best_rank]
        chosen = candidates[0] if len(candidates) == 1 else max(candidates, key=lambda o: (modified(o), o.location))
        out.append(Delivery(chosen, layout, start))
    return out


def _modified(storage, obj: StoredObject) -> float:
    """When an object was written; asked only when a period has several manifests."""
    if obj.location.startswith("s3://"):
        from pipelines.storage import split_s3

        bucket, key = split_s3(obj.location)
        try:
            return storage.client.head_object(Bucket=bucket, Key=key)["LastModified"].timestamp()
        except Exception as exc:  # noqa: BLE001 - botocore names the key and the reason
            raise SourceError(obj.location, f"cannot read S3 object metadata: {exc}") from exc
    return os.stat(obj.location).st_mtime


class _ObjectIndex:
    """Finds a manifest's data file among the listed objects: the exact s3:// URI, or else the longest suffix
    of its key below the source's path (a local copy, or a bucket the export was copied to)."""

    def __init__(self, target: str, objects: list[StoredObject]):
        self.by_location = {o.location: o for o in objects}
        root = target.rstrip("/").replace("\\", "/")
        self.by_relative = {}
        for obj in objects:
            loc = obj.location.replace("\\", "/")
            if loc.startswith(root + "/"):
                self.by_relative[loc[len(root) + 1:]] = obj

    def find(self, uri: str) -> StoredObject | None:
        if uri in self.by_location:
            return self.by_location[uri]
        key = uri.split("://", 1)[1].split("/", 1)[1] if "://" in uri else uri.lstrip("/")
        parts = key.split("/")
        for i in range(len(parts) - 1):  # at least folder + file name
            hit = self.by_relative.get("/".join(parts[i:]))
            if hit is not None:
                return hit
        return None


def _unit(storage, source: SourceConfig, index: _ObjectIndex, delivery: Delivery, root: str) -> Unit:
    cache: dict[str, object] = {}
    location = delivery.manifest.location

    def manifest() -> tuple[bytes, list[StoredObject]]:
        if "manifest" not in cache:
            raw = storage.read(location)
            keys = manifest_data_keys(raw, delivery.layout, location)
            files = []
            for key in keys:
                obj = index.find(key)
                if obj is None:
                    raise SourceError(location, f"the manifest lists a data file that is not there: {key}")
                files.append(obj)
            cache["manifest"] = (raw, files)
        return cache["manifest"]

    def fingerprint() -> str:
        raw, files = manifest()
        digest = hashlib.sha256(raw)
        for obj in files:
            digest.update(f"\n{obj.location}\t{obj.size}\t{obj.etag or _local_stamp(obj)}".encode())
        return digest.hexdigest()

    def load() -> pl.DataFrame:
        _, files = manifest()
        try:
            frames = [read_file(obj.location, source, storage.read(obj.location), delivery.period_start)
                      .with_columns(pl.lit(relative_key(obj.location, root)).alias("x_source_file"))
                      for obj in files]
        finally:
            cache.clear()
        if not frames:
            return conform(pl.DataFrame(), COST_LINES).clear()
        out = pl.concat(frames, how="vertical")
        refuse_duplicate_ids(out, location)
        return out

    owns = {"x_source": source.name, "BillingPeriodStart": delivery.period_start}
    return Unit(relative_key(location, root), location, load, fingerprint, owns,
                delivery.period_start.strftime("%Y-%m"))


def _local_stamp(obj: StoredObject) -> str:
    try:
        return str(os.stat(obj.location).st_mtime_ns)
    except OSError:
        return ""


def manifest_data_keys(raw: bytes, layout: str, location: str) -> list[str]:
    """The data files a manifest lists, as s3:// URIs (legacy keys are made URIs with the manifest's bucket)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(location, f"manifest is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise SourceError(location, "manifest is not a JSON object")
    if layout == "cur2":
        files = doc.get("dataFiles")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise SourceError(location, "manifest has no dataFiles list of S3 URIs")
        return files
    keys = doc.get("reportKeys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise SourceError(location, "legacy manifest has no reportKeys list")
    bucket = doc.get("bucket") or "bucket"
    return [k if k.startswith("s3://") else f"s3://{bucket}/{k.lstrip('/')}" for k in keys]


def manifest_period(location: str) -> datetime | None:
    """The billing month a top-level manifest delivers (None: a data file, or a per-assembly legacy manifest,
    which is written together with the top-level one)."""
    key = location.replace("\\", "/")
    if m := _CUR2_MANIFEST.search(key):
        return datetime.strptime(m["period"] + "-01", "%Y-%m-%d").replace(tzinfo=timezone.utc)
    if (m := _LEGACY_MANIFEST.search(key)) and not m["assembly"]:
        return datetime.strptime(m["start"], "%Y%m%d").replace(day=1, tzinfo=timezone.utc)
    return None


SPEC = SourceSpec(
    kind="aws_cur",
    table="cost_lines",
    summary="AWS CUR 2.0 (Parquet or CSV.gz) and legacy CUR, newest manifest per billing period; a re-delivery "
            "replaces its period; Bedrock token lines, provisioned throughput, SageMaker and accelerator instances "
            "recognized",
    doc="docs/sources/aws_cur.md",
    plan=plan,
    watch=Watch("new_manifests", manifest_period, lambda location, etag: f"{location}#{etag}",
                "A run per billing month whose CUR manifest is new or rewritten (run_key: manifest key + ETag).",
                dated_only=True),
)
