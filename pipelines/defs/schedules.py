"""The daily schedule: at 06:00 UTC re-read the last two UTC days of usage and the last two billing months.

Two days, because logs settle after a day or two; two months, because cloud bills restate the previous month
for weeks. Each is ONE run over its range (the jobs' single-run backfill policy), and ingest skips every file
whose fingerprint is unchanged, so the re-read costs a listing. A Dagster job holds one partitioning, so the
usage days and the billing months are two schedules at the same time; the `marts_after_ingest` sensor
(sensors.py) rebuilds the unpartitioned marts once both have finished.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import dagster as dg

from pipelines.defs import partitions
from pipelines.defs.resources import AispendResource
from pipelines.graph import DAY, MONTH
from pipelines.plan import JOBS

COST_JOB, USAGE_JOB, MARTS_JOB = JOBS[MONTH], JOBS[DAY], JOBS[None]
CRON = "0 6 * * *"
WAREHOUSE_TAG = {"aispend/warehouse": "writer"}


def usage_days(today: date, start: date) -> tuple[date, date] | None:
    """The day before yesterday through yesterday (UTC), clipped to the partitions' start."""
    first, last = max(today - timedelta(days=2), start), today - timedelta(days=1)
    return (first, last) if first <= last else None


def billing_months(today: date, start: date) -> tuple[date, date] | None:
    """The previous billing month through the current one, clipped to the partitions' start."""
    this_month = today.replace(day=1)
    previous = (this_month - timedelta(days=1)).replace(day=1)
    first = max(previous, start.replace(day=1))
    return (first, this_month) if first <= this_month else None


def range_request(span: tuple[date, date] | None, schedule: str, scheduled: datetime) -> dg.RunRequest | dg.SkipReason:
    if span is None:
        return dg.SkipReason("no partition in range yet (the config's start_date is in the future)")
    first, last = (d.isoformat() for d in span)
    tags = {**WAREHOUSE_TAG, "aispend/schedule": schedule}
    run_key = f"{schedule}:{scheduled.isoformat()}"
    if first == last:
        return dg.RunRequest(run_key=run_key, partition_key=first, tags=tags)
    return dg.RunRequest(run_key=run_key, tags={**tags, **partitions.range_tags(first, last)})


def _daily(name: str, job_name: str, span, description: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=name, cron_schedule=CRON, execution_timezone="UTC", job_name=job_name,
                 description=description, default_status=dg.DefaultScheduleStatus.RUNNING)
    def _schedule(context: dg.ScheduleEvaluationContext, aispend: AispendResource):
        scheduled = context.scheduled_execution_time or datetime.now(timezone.utc)
        start = partitions.start_date(aispend.config())
        return range_request(span(scheduled.astimezone(timezone.utc).date(), start), name, scheduled)

    return _schedule


daily_usage = _daily("daily_usage", USAGE_JOB, usage_days,
                     "06:00 UTC: the daily loads and marts for the last two UTC days, one run.")
daily_costs = _daily("daily_costs", COST_JOB, billing_months,
                     "06:00 UTC: the monthly loads and marts for last and this billing month, one run.")

SCHEDULES = [daily_usage, daily_costs]
