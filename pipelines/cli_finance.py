"""`aispend close`, `reopen`, `export chargeback` and `report`: the month's close for finance (docs/finance.md).

Each works on the warehouse directly (waiting politely while a run holds it) and imports no Dagster: after a
close or reopen, the marts that read closed months (changes_after_close, chargeback, month_to_date) are rebuilt
in process and their snapshots published, so the dashboard shows the close at once.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from pipelines.cli_run import say
from pipelines.config import AispendConfig, load_config

REFRESHED = ("changes_after_close", "chargeback", "month_to_date")


def _refresh(config) -> None:
    from pipelines.execute import run_step

    for name in REFRESHED:
        run_step(name, config)


def _config_and_month(args: argparse.Namespace) -> tuple[AispendConfig, date] | None:
    """The config and the YYYY-MM month a command names; None (said) when the month is not one."""
    from pipelines.finance.close import CloseError, parse_month

    config = load_config(args.config)
    try:
        return config, parse_month(args.month)
    except CloseError as exc:
        say(str(exc))
        return None


def _apply(args: argparse.Namespace, verb: str, write) -> tuple[date, object] | None:
    """Run `write(con, config, month, by)` on the warehouse (a close or a reopen), publish closed_months and
    rebuild the marts that read it; None (said) when it was refused."""
    from pipelines.finance.close import CloseError
    from pipelines.snapshots import publish
    from pipelines.transforms.currency import MissingRate
    from warehouse.db import Warehouse

    if (asked := _config_and_month(args)) is None:
        return None
    config, month = asked
    try:
        with Warehouse(config.warehouse_path).connect() as con:
            done = write(con, config, month, args.by)
            publish(con, config, "closed_months")
    except (CloseError, MissingRate) as exc:
        say(f"not {verb}: {exc}")
        return None
    _refresh(config)
    return month, done


def cmd_close(args: argparse.Namespace) -> int:
    from pipelines.finance.close import close_month
    from pipelines.finance.money import money

    if (applied := _apply(args, "closed", close_month)) is None:
        return 2
    month, done = applied
    say(f"closed {month:%Y-%m} (by {done.by}, {done.at:%Y-%m-%d %H:%M} UTC): AI spend "
        f"{money(done.billed_cost, done.currency)} billed, {money(done.effective_cost, done.currency)} effective; "
        f"{done.lines:,} AI lines and {done.figures:,} figures (provider, model, task, team) kept as closed")
    say("later deliveries still load; closed reports keep these numbers and changes_after_close lists the difference")
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    from pipelines.finance.close import reopen_month

    applied = _apply(args, "reopened", lambda con, config, month, by: reopen_month(con, month, by))
    if applied is None:
        return 2
    month, person = applied
    say(f"reopened {month:%Y-%m} (by {person}): its figures follow the data again (close_log keeps the history)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.finance.export import export_chargeback

    if (asked := _config_and_month(args)) is None:
        return 2
    config, month = asked
    out = Path(args.out) if args.out else Path(f"chargeback-{month:%Y-%m}.{args.format}")
    written = export_chargeback(config, month, out, args.format)
    if written is None:
        say(f"no chargeback rows for {month:%Y-%m}: nothing was allocated that month (has `aispend run` loaded it?)")
        return 1
    rows, closed = written
    say(f"wrote {out} ({rows} teams, {args.format})" + ("" if closed else
        f"; {month:%Y-%m} is not closed, so these figures may still move (`aispend close {month:%Y-%m}`)"))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.finance.report import write_report

    if (asked := _config_and_month(args)) is None:
        return 2
    config, month = asked
    out = Path(args.out) if args.out else Path(f"aispend-report-{month:%Y-%m}.html")
    write_report(config, month, out)
    say(f"wrote {out} (one self-contained HTML file: open it in a browser, print it to PDF)")
    return 0


def add_commands(sub) -> None:
    """The finance subcommands, on the `aispend` parser (pipelines/cli.py)."""
    for name, func, help_text in (
        ("close", cmd_close, "close a billing month: its figures are kept as they stand (docs/finance.md)"),
        ("reopen", cmd_reopen, "undo a close: the month's figures follow the data again"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("month", metavar="YYYY-MM")
        p.add_argument("--config", required=True, help="path to aispend.yaml")
        p.add_argument("--by", help="who does it (default: the operating-system user)")
        p.set_defaults(func=func)

    export = sub.add_parser("export", help="write a mart for finance: `export chargeback --month YYYY-MM`")
    export.add_argument("what", choices=["chargeback"])
    export.add_argument("--month", required=True, metavar="YYYY-MM")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--out", help="file to write (default: chargeback-YYYY-MM.<format>)")
    export.add_argument("--config", required=True, help="path to aispend.yaml")
    export.set_defaults(func=cmd_export)

    report = sub.add_parser("report", help="the monthly report: one self-contained, print-friendly HTML file")
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--out", help="file to write (default: aispend-report-YYYY-MM.html)")
    report.add_argument("--config", required=True, help="path to aispend.yaml")
    report.set_defaults(func=cmd_report)
