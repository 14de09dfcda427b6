"""Storage lists and reads the same way from a folder and from a real S3 endpoint on 127.0.0.1."""

from __future__ import annotations

import pytest

from pipelines.errors import SourceError
from pipelines.storage import LocalStorage, S3Storage


def test_local_folder_glob_and_pattern(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_bytes(b"1")
    (tmp_path / "a" / "y.json").write_bytes(b"22")
    (tmp_path / "a" / ".hidden").write_bytes(b"")
    local = LocalStorage()
    assert [o.location for o in local.list(str(tmp_path))] == [str(tmp_path / "a" / "x.csv"), str(tmp_path / "a" / "y.json")]
    assert [o.size for o in local.list(str(tmp_path / "**" / "*.json"))] == [2]
    assert [o.location for o in local.list(str(tmp_path), pattern="*.csv")] == [str(tmp_path / "a" / "x.csv")]
    assert local.read(str(tmp_path / "a" / "y.json")) == b"22"
    with pytest.raises(SourceError, match="cannot read file"):
        local.read(str(tmp_path / "missing"))


def test_s3_prefix_listing_paging_and_etag(s3):
    for i in range(1005):  # more than one page of list_objects_v2 (1,000 keys)
        s3.put("bills", f"exports/cur/part-{i:04d}.csv", f"row {i}".encode())
    s3.put("bills", "other/ignored.csv", b"x")
    storage = S3Storage(endpoint_url=s3.endpoint_url, region="us-east-1")
    found = storage.list("s3://bills/exports/cur/")
    assert len(found) == 1005
    assert found[0].location == "s3://bills/exports/cur/part-0000.csv" and found[0].etag
    assert storage.read("s3://bills/exports/cur/part-1004.csv") == b"row 1004"
    assert len(storage.list("s3://bills/exports/", pattern="part-100*.csv")) == 5
    with pytest.raises(SourceError, match="cannot read S3 object"):
        storage.read("s3://bills/exports/cur/missing.csv")
