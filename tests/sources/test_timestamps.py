"""Text timestamps as naive UTC (pipelines/sources/common.py `parse_utc`): every shape a source writes, the
cheap branches for the common ones included, against datetimes built first and formatted into each shape by
hand; impossible times are null, never a neighbouring day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest

from pipelines.sources.common import parse_utc


def _parsed(texts: list[str | None]) -> list[datetime | None]:
    return pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(parse_utc(pl.col("t")))["t"].to_list()


def _shapes(when: datetime, offset_minutes: int) -> list[str]:
    """`when` (UTC) written as the sources write it; the offset shapes in local time at `offset_minutes`."""
    local = when.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign, hours, minutes = "+" if offset_minutes >= 0 else "-", abs(offset_minutes) // 60, abs(offset_minutes) % 60
    micro = f"{when.microsecond:06d}"
    return [
        when.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro[:3]}Z",  # Claude Code, Codex, Bedrock with millis
        when.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro}Z",
        when.strftime("%Y-%m-%d %H:%M:%S") + f".{micro}",  # a CSV export without offset: UTC
        when.strftime("%Y-%m-%d %H:%M:%S") + f".{micro}+00",  # Postgres (LiteLLM)
        local.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro}{sign}{hours:02d}:{minutes:02d}",
        local.strftime("%Y-%m-%d %H:%M:%S") + f".{micro} {sign}{hours:02d}{minutes:02d}",
    ]


def test_every_shape_of_random_times_is_the_same_utc_instant():
    rng = random.Random(11)
    texts, expected = [], []
    for _ in range(400):
        when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(3 * 366 * 86400 * 10**6))
        shapes = _shapes(when, rng.choice([0, 60, -300, 330, 545, -720, 840]))
        naive = when.replace(tzinfo=None)
        texts += shapes
        expected += [naive.replace(microsecond=naive.microsecond // 1000 * 1000)] + [naive] * (len(shapes) - 1)
    assert _parsed(texts) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-10-05T09:15:02Z", datetime(2026, 10, 5, 9, 15, 2)),
    ("  2026-10-05T09:15:02.5Z ", datetime(2026, 10, 5, 9, 15, 2, 500000)),
    ("2026-10-05T09:15:02.123456789Z", datetime(2026, 10, 5, 9, 15, 2, 123456)),
    ("2026-10-05 23:59:59", datetime(2026, 10, 5, 23, 59, 59)),
    ("2026-10-05t09:15:02z", datetime(2026, 10, 5, 9, 15, 2)),
    ("2026-10-05T09:15Z", datetime(2026, 10, 5, 9, 15)),
    ("2026-10-05", datetime(2026, 10, 5)),
    ("2026-10-05 09:15:02 UTC", datetime(2026, 10, 5, 9, 15, 2)),
    ("2026-10-06T01:15:02+16:00", datetime(2026, 10, 5, 9, 15, 2)),
    ("2026-10-05T25:15:02Z", None),
    ("2026-02-30T09:15:02Z", None),
    ("2026-10-05T09:15:61", None),
    ("2026-10-05T09:15:02.Z", None),
    ("2026-10-05T09:15:02ZZ", None),
    ("2026-10-05 09:15:02Z+00:00", None),
    ("20261005T091502Z", None),
    ("", None),
    (None, None),
])
def test_edges(text, expected):
    assert _parsed([text]) == [expected]
