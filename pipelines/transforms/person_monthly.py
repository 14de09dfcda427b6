"""person_monthly and idle_seats: every person's AI bill per month and vendor, and the seats nobody uses.

A row puts side by side, for one person (or the organization), month, vendor and plan: the seats held and what
they cost (seats.py), what was billed beyond them (API use priced from the logs, Cursor's spend, Copilot premium
requests for the whole organization), what the use would have cost at API prices (`api_equivalent_usd`, the
price table's rates: usage_events.cost_usd, and the vendors' reported tokens priced the same way), the activity
(days, sessions, requests, lines, commits, pull requests), whether the seat is idle and whether the plan fits.

Which plan a use belongs to: use covered by a plan (agent logs, Claude Code on a Claude plan, Cursor) joins the
person's seat of that vendor that month (the dearest, when there are two); with no seat, agent use was billed per
token (plan `api`) and a vendor's report names no plan (plan NULL). Applications' API calls are always plan
`api`. Plan fit (`plan_fit`) weighs the API-equivalent value against this plan's and the next plan's list price
(pipelines/plans.py): `underused` below this plan's price, `outgrown` above the next plan's (or when seat plus
overage already cost more than the next plan), `fits` between; NULL for use without a seat, a plan without a
list price, or a value nobody can compute. docs/sources/seats_and_agents.md has the rules in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.config import ProviderDiscount
from pipelines.plans import plans_frame
from pipelines.transforms.person_use import (
    AGENT, METRICS, app_and_agent_use, combined, report_use, seat_activity, with_person,
)
from pipelines.transforms.seats import IDLE_DAYS, idle, open_at, seat_intervals, seat_months

KEYS = ["month", "person", "team", "is_mapped", "vendor", "plan"]
COLUMNS = [
    "month", "person", "team", "is_mapped", "vendor", "plan", "seats", "seat_cost_usd", "seat_cost_basis",
    "seat_on_invoice", "usage_cost_usd", "usage_cost_basis", "not_on_bills_usd", "api_equivalent_usd", "unpriced_tokens", "active_days",
    "sessions", "requests", "lines_added", "lines_removed", "commits", "pull_requests", "last_activity_day",
    "is_idle_seat", "activity_evidence", "plan_price_usd", "next_plan", "next_plan_price_usd", "plan_fit",
]


def _month_end() -> pl.Expr:
    return pl.col("month").dt.month_end().alias("_month_end")


def _joined(column: str) -> pl.Expr:
    """The distinct non-null texts of a group, sorted and joined: 'logs; vendor_billed'."""
    return pl.col(column).drop_nulls().unique().sort().str.join("; ").replace("", None).alias(column)


def _seat_rows(intervals: pl.LazyFrame, people: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    months = with_person(seat_months(intervals, as_of).with_columns(_month_end()), people, "_month_end")
    return months.group_by(KEYS).agg(
        pl.col("seat_count").sum().alias("seats"),
        pl.when(pl.col("seat_cost_usd").is_not_null().all()).then(pl.col("seat_cost_usd").sum()).alias("seat_cost_usd"),
        _joined("price_source").alias("seat_cost_basis"),
        pl.col("start").min().alias("seat_start"),
        pl.when(pl.col("end").is_null().any()).then(None).otherwise(pl.col("end").max()).alias("seat_end"),
    )


def _use_rows(use: pl.LazyFrame, seat_rows: pl.LazyFrame, people: pl.LazyFrame) -> pl.LazyFrame:
    """Daily use rows with their person and plan, summed per ledger row and family."""
    daily = with_person(use.with_columns(pl.col("day").dt.month_start().alias("month"), ), people, "day")
    daily = daily.filter(pl.col("is_mapped") | (pl.col("family") != "app"))  # end users of applications are not staff
    main = (seat_rows.filter(pl.col("person").is_not_null()).sort("seat_cost_usd", "seats", descending=True,
                                                                   nulls_last=True)
            .group_by("month", "person", "vendor").agg(pl.col("plan").first().alias("_seat_plan")))
    planned = daily.join(main, on=["month", "person", "vendor"], how="left").with_columns(
        pl.when(pl.col("seat_use") & pl.col("_seat_plan").is_not_null()).then(pl.col("_seat_plan"))
        .when(~pl.col("seat_use") | (pl.col("family") == AGENT)).then(pl.lit("api"))
        .otherwise(pl.lit(None, pl.String)).alias("plan"),
    )
    billed_per_token = (pl.col("family") == AGENT) & (pl.col("plan") == "api")
    planned = planned.with_columns(
        pl.when(billed_per_token).then(pl.col("api_equivalent_usd")).otherwise(pl.col("usage_cost_usd"))
        .alias("usage_cost_usd"),
        pl.when(billed_per_token & pl.col("api_equivalent_usd").is_not_null()).then(pl.lit("logs"))
        .otherwise(pl.col("usage_cost_basis")).alias("usage_cost_basis"),
    )
    by_family = planned.group_by([*KEYS, "family"]).agg(
        *[pl.when(pl.col(m).is_not_null().any()).then(pl.col(m).sum()).alias(m) for m in METRICS],
        pl.col("day").filter(pl.col("active")).unique().alias("days"),
        pl.col("usage_cost_basis"),
    )
    return by_family.group_by(KEYS).agg(
        *[combined(m) for m in METRICS],
        pl.col("days").flatten().drop_nulls().n_unique().cast(pl.Int64).alias("active_days"),
        pl.col("usage_cost_basis").flatten().drop_nulls().unique().sort().str.join("; ").replace("", None),
    )


def _activity_days(use: pl.LazyFrame, people: pl.LazyFrame) -> pl.LazyFrame:
    days = use.filter(pl.col("active") & pl.col("identity").is_not_null()).select("identity", "day", "vendor").unique()
    return with_person(days, people, "day").select("person", "vendor", pl.col("day").alias("last_activity_day"))


def _last_activity(frame: pl.LazyFrame, days: pl.LazyFrame, at: str) -> pl.LazyFrame:
    """The newest active day of each row's person and vendor up to the row's day `at`."""
    return (
        frame.with_row_index("_row").sort(at)
        .join_asof(days.sort("last_activity_day"), left_on=at, right_on="last_activity_day", by=["person", "vendor"],
                   strategy="backward", check_sortedness=False)  # sorted just above
        .sort("_row").drop("_row")
    )


def _evidence(intervals: pl.LazyFrame, activity: pl.LazyFrame, usage: pl.LazyFrame, sources: pl.LazyFrame
              ) -> pl.LazyFrame:
    """Per vendor, the labels of the sources with data that show who was active."""
    present = pl.concat([f.select("x_source") for f in (intervals, activity, usage)]).unique()
    return sources.join(present, on="x_source", how="semi").group_by(pl.col("evidence_vendor").alias("vendor")).agg(
        _joined("label").alias("activity_evidence"))


def _watched_since(intervals: pl.LazyFrame, activity: pl.LazyFrame, sources: pl.LazyFrame,
                   people: pl.LazyFrame) -> pl.LazyFrame:
    """Per person and vendor, the first day from which a source that sees every seat holder would have shown
    activity: a vendor's daily report from its first day of data; a seat snapshot back to the last activity it
    reports (nothing happened between that and the snapshot), or to the seat's start when it reports none."""
    watched = sources.filter(pl.col("watched")).select("x_source", "evidence_vendor")
    reported = activity.join(watched, on="x_source").group_by("evidence_vendor").agg(pl.col("day").min().alias("_r"))
    listed = (
        intervals.join(watched, on="x_source").filter(pl.col("identity").is_not_null())
        .with_columns(pl.coalesce(pl.col("last_activity_at").dt.date(), "start").alias("_s"))
        .pipe(lambda f: with_person(f, people, "start"))
        .group_by("person", pl.col("evidence_vendor")).agg(pl.col("_s").min())
    )
    return listed.join(reported, on="evidence_vendor", how="full", coalesce=True).select(
        "person", pl.col("evidence_vendor").alias("vendor"), pl.min_horizontal("_s", "_r").alias("watched_since"))


def _with_watch(frame: pl.LazyFrame, since: pl.LazyFrame) -> pl.LazyFrame:
    """`watched_since` per row: the person's own (seat snapshots), else the vendor's (daily reports)."""
    vendor_wide = since.filter(pl.col("person").is_null()).select("vendor", pl.col("watched_since").alias("_v"))
    own = since.filter(pl.col("person").is_not_null())
    return (frame.join(own, on=["person", "vendor"], how="left").join(vendor_wide, on="vendor", how="left")
            .with_columns(pl.min_horizontal("watched_since", "_v").alias("watched_since")).drop("_v"))


def _plan_fit(as_of: date) -> pl.Expr:
    """The month of `as_of` is not over: its use so far is projected to the whole month (use / share of the
    month's days with data) before it is weighed against monthly prices."""
    covered = (pl.min_horizontal("_month_end", pl.lit(as_of)) - pl.col("month")).dt.total_days() + 1
    share = covered / pl.col("_month_end").dt.day()
    value = pl.col("api_equivalent_usd") / share
    paid = pl.col("seat_cost_usd").fill_null(0) + pl.col("usage_cost_usd").fill_null(0) / share
    over_next = (value > pl.col("next_plan_price_usd")) | (paid > pl.col("next_plan_price_usd"))
    return (
        pl.when((pl.col("seats") == 0) | pl.col("plan_price_usd").is_null()).then(pl.lit(None, pl.String))
        .when(over_next.fill_null(False)).then(pl.lit("outgrown"))
        .when(value.is_null()).then(pl.lit(None, pl.String))
        .when(value < pl.col("plan_price_usd")).then(pl.lit("underused"))
        .otherwise(pl.lit("fits"))
        .alias("plan_fit")
    )


def person_monthly(
    people: pl.LazyFrame, seats: pl.LazyFrame, activity: pl.LazyFrame, usage: pl.LazyFrame,
    org_usage: pl.LazyFrame, seat_billed: pl.LazyFrame, sources: pl.LazyFrame, prices: pl.LazyFrame,
    as_of: date, discounts: Sequence[ProviderDiscount] = (),
) -> pl.LazyFrame:
    """The ledger (see the module docstring). `usage`: warehouse/sql/person_usage_daily.sql; `org_usage`: month,
    vendor, usage_cost_usd billed to the organization; `seat_billed`: month, vendor of bills with seat lines;
    `sources`: person_use.sources_frame(config); `as_of`: the newest day of data."""
    intervals = seat_intervals(seats).cache()
    seat_rows = _seat_rows(intervals, people, as_of).cache()
    use = pl.concat([app_and_agent_use(usage, sources), report_use(activity, prices, discounts),
                     seat_activity(intervals)], how="diagonal_relaxed").filter(pl.col("day") <= as_of).cache()
    org = org_usage.select("month", pl.lit(None, pl.String).alias("person"), pl.lit(None, pl.String).alias("team"),
                           pl.lit(None, pl.Boolean).alias("is_mapped"), "vendor", pl.lit(None, pl.String).alias("plan"),
                           "usage_cost_usd", pl.lit("invoice").alias("usage_cost_basis"))
    rows = (
        seat_rows.join(_use_rows(use, seat_rows, people), on=KEYS, how="full", coalesce=True, nulls_equal=True)
        .pipe(lambda f: pl.concat([f, org], how="diagonal_relaxed"))
        .with_columns(pl.col("seats").fill_null(0), _month_end())
        # judged up to the month's end, the data's last day, or the seat's last day, whichever comes first
        .with_columns(pl.min_horizontal("_month_end", pl.lit(as_of), "seat_end").alias("_period_end"))
    )
    out = (
        _last_activity(rows, _activity_days(use, people), "_period_end")
        .pipe(_with_watch, _watched_since(intervals, activity, sources, people))
        .join(_evidence(intervals, activity, usage, sources), on="vendor", how="left")
        .join(plans_frame(), on=["vendor", "plan"], how="left")
        .join(seat_billed.unique().with_columns(pl.lit(True).alias("seat_on_invoice")), on=["month", "vendor"],
              how="left")
        .with_columns(
            pl.when((pl.col("seats") > 0) & pl.col("person").is_not_null())
            .then(idle(pl.col("last_activity_day"), pl.col("_period_end"), pl.col("seat_start"),
                       pl.col("watched_since")))
            .alias("is_idle_seat"),
            pl.col("seat_on_invoice").fill_null(False),
            pl.col("active_days").fill_null(0),
        )
        .with_columns(
            pl.when(pl.col("seat_cost_usd").is_not_null() | pl.col("vendor_billed_usd").is_not_null())
            .then(pl.sum_horizontal(pl.when(~pl.col("seat_on_invoice")).then(pl.col("seat_cost_usd")),
                                    "vendor_billed_usd"))
            .alias("not_on_bills_usd"),
        )
        .with_columns(_plan_fit(as_of))
    )
    return out.select(COLUMNS).sort("month", "vendor", "person", "plan", nulls_last=True)


def idle_seats(
    people: pl.LazyFrame, seats: pl.LazyFrame, activity: pl.LazyFrame, usage: pl.LazyFrame, sources: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """Seats open on `as_of` whose holder shows no activity in the IDLE_DAYS to `as_of` (only where a source sees
    every seat holder of the vendor), with what the seat costs a month."""
    intervals = seat_intervals(seats).cache()
    use = pl.concat([app_and_agent_use(usage, sources), seat_activity(intervals),
                     activity.filter(pl.col("record") == "activity").select(
                         "identity", "day", "vendor",
                         (pl.col("is_active").fill_null(False)
                          | (pl.sum_horizontal("sessions", "requests", "lines_added") > 0)).alias("active"))],
                    how="diagonal_relaxed").filter(pl.col("day") <= as_of)
    seats_open = intervals.filter(open_at(as_of) & pl.col("identity").is_not_null()).with_columns(
        pl.lit(as_of).alias("as_of"))
    held = with_person(seats_open, people, "as_of")
    found = (_last_activity(held, _activity_days(use, people), "as_of")
             .pipe(_with_watch, _watched_since(intervals, activity, sources, people))
             .join(_evidence(intervals, activity, usage, sources), on="vendor", how="left"))
    return (
        found.with_columns(
            idle(pl.col("last_activity_day"), pl.col("as_of"), pl.col("start"), pl.col("watched_since"))
            .alias("_idle"),
            (pl.col("as_of") - pl.col("last_activity_day")).dt.total_days().alias("days_idle"),
            (pl.col("monthly_price_usd") * pl.col("seat_count")).alias("monthly_cost_usd"),
        )
        .filter(pl.col("_idle").fill_null(False))
        .select("as_of", "vendor", "plan", "person", "team", "identity", pl.col("start").alias("seat_start"),
                "last_activity_day", "days_idle", "monthly_cost_usd", pl.col("activity_evidence").alias("evidence"))
        .sort("vendor", "person", nulls_last=True)
    )


__all__ = ["IDLE_DAYS", "idle_seats", "person_monthly"]
