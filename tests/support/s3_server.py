"""A real S3 HTTP endpoint on 127.0.0.1 (moto's server), for tests that read through boto3.

Use the `s3` fixture: it yields an S3Endpoint with `endpoint_url`, a boto3 `client`, and `put(bucket, key,
bytes)`. Credentials are dummy values set in the environment for the duration of the test session.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class S3Endpoint:
    endpoint_url: str
    client: object
    region: str = "us-east-1"

    def put(self, bucket: str, key: str, body: bytes) -> None:
        existing = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            self.client.create_bucket(Bucket=bucket)
        self.client.put_object(Bucket=bucket, Key=key, Body=body)

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    mp = pytest.MonkeyPatch()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        mp.setenv(name, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        mp.undo()


@pytest.fixture
def s3(s3_server):
    """A clean endpoint per test: every bucket left by an earlier test is emptied and removed."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    for bucket in client.list_buckets().get("Buckets", []):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket["Name"], Key=item["Key"])
        client.delete_bucket(Bucket=bucket["Name"])
    return S3Endpoint(s3_server, client)
