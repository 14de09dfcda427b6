"""GitHub pull requests as `gh pr list --state all --json number,title,createdAt,mergedAt,closedAt,labels,author`
writes them (one JSON array, optionally .gz), mapped onto work_items.

One pull request is one work item: `<id_prefix><number>` (default `PR-12`), opened at `createdAt`, done at
`mergedAt`. A PR closed without merging is abandoned work, kept as an open item with no minutes (it counts in no
comparison). Minutes are elapsed (createdAt to mergedAt): `gh` has no hands-on time. A label names AI assistance
(`ai_label`), a revert (`reverted_label`) and, with `task_label_prefix`, the task; otherwise `task` applies to
every PR. The title is never read. `gh` returns 30 PRs unless `--limit` is raised: export with `--limit 5000` or
more (docs/sources/work_items.md).
"""

from __future__ import annotations


import polars as pl
from pydantic import Field

from pipelines.config import SourceConfig
from pipelines.sources.common import blank_to_null, check, parse_utc
from pipelines.sources.spec import SourceSpec
from pipelines.sources.work_common import (ExportOptions, ai_from_label, finish, has_label, labelled_task,
                                           read_json_export, work_plan)

_S = pl.String
PR = {
    "number": _S,
    "createdAt": _S,
    "mergedAt": _S,
    "closedAt": _S,
    "labels": pl.List(pl.Struct({"name": _S})),
    "author": pl.Struct({"login": _S}),
}


class GithubOptions(ExportOptions):
    id_prefix: str = Field(default="PR-", description="put before the PR number (e.g. `web#` for one repository)")
    reverted_label: str | None = Field(default=None, min_length=1, description="a label marking reverted PRs")


def read(path: str, source: SourceConfig, data: bytes | None = None,
         tasks: frozenset[str] | None = None) -> pl.DataFrame:
    options: GithubOptions = source.options
    prs = _load(path, data)
    check(prs, blank_to_null(pl.col("number")).is_null(), path, "pull request without a number", "number")
    check(prs, pl.col("number").cast(pl.Int64, strict=False).is_null(), path, "not a PR number: {value}", "number")
    for name in ["createdAt", "mergedAt", "closedAt"]:
        check(prs, blank_to_null(pl.col(name)).is_not_null() & parse_utc(pl.col(name)).is_null(), path,
              "not a timestamp: {value}", name)
    check(prs, blank_to_null(pl.col("createdAt")).is_null(), path, "missing createdAt", "createdAt")
    labels = pl.col("labels").list.eval(pl.element().struct.field("name")).fill_null([])
    items = prs.select(
        (pl.lit(options.id_prefix) + pl.col("number").cast(pl.Int64, strict=False).cast(_S)).alias("work_item_id"),
        labelled_task(labels, options).alias("task"),
        parse_utc(pl.col("createdAt")).alias("opened_at"),
        parse_utc(pl.col("mergedAt")).alias("closed_at"),
        pl.lit(None, pl.Float64).alias("handling_minutes"),
        ai_from_label(labels, options).alias("ai_assisted"),
        pl.lit(options.team, _S).alias("team"),
        pl.col("author").struct.field("login").alias("person"),
        pl.lit(None, pl.Boolean).alias("reopened"),
        pl.lit(None, pl.Boolean).alias("escalated"),
        has_label(labels, options.reverted_label).alias("reverted"),
        pl.lit(None, pl.Float64).alias("csat"),
    )
    return finish(items, path, source, tasks, names={"opened_at": "createdAt", "closed_at": "mergedAt"})


def _load(path: str, data: bytes | None) -> pl.DataFrame:
    return read_json_export(path, data, PR, b"[", "a JSON array of pull requests, as `gh pr list --json ...` writes")


SPEC = SourceSpec(
    kind="github_prs",
    table="work_items",
    summary="GitHub pull requests as `gh pr list --json` writes them",
    doc="docs/sources/work_items.md",
    options=GithubOptions,
    plan=work_plan("github_prs", read),
)
