"""The `aispend` command: demo, run, dashboard.

Dagster is imported only by the commands that run the pipeline: it takes 10-25 s to import on a small
machine, and the dashboard does not need it.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from pipelines.config import ConfigError, load_config

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def say(message: str) -> None:
    print(f"[aispend] {message}", file=sys.stderr, flush=True)


def run_pipeline(config_path: str | Path) -> int:
    """Materialize every asset through Dagster, in process; 0 only when every step and error check passed."""
    config_path = str(Path(config_path).resolve())
    config = load_config(config_path)  # fail fast, before the slow import, on a bad config
    say(f"config {config_path}: {len(config.sources)} sources, warehouse {config.warehouse_path}")
    started = time.monotonic()
    run_started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    say("loading Dagster (10-25 s on a small machine)...")
    import dagster as dg

    from pipelines.defs.assets import ALL_ASSETS
    from pipelines.defs.resources import AispendResource

    say(f"running {len(ALL_ASSETS)} assets: {', '.join(a.key.to_user_string() for a in ALL_ASSETS)}")
    result = dg.materialize(
        ALL_ASSETS,
        resources={"aispend": AispendResource(config_path=config_path)},
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
    failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
    failed_checks = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    warnings = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.WARN
    ]
    _print_summary(config, run_started_at)
    say(f"finished in {time.monotonic() - started:.0f} s")
    for name in warnings:
        say(f"warning: check {name} did not pass")
    if failed_steps or failed_checks or not result.success:
        for step in failed_steps:
            say(f"FAILED step {step}")
        for name in failed_checks:
            say(f"FAILED check {name}")
        return 1
    return 0


def _print_summary(config, since) -> None:
    from warehouse.db import connect_writer, query, sql

    con = connect_writer(config.warehouse_path)
    try:
        s = query(con, sql("run_summary")).to_dicts()[0]
        quarantined = query(con, sql("recent_quarantined"), [since])
    finally:
        con.close()
    coverage = 1 - s["unpriced_requests"] / s["requests"] if s["requests"] else 1.0
    say(
        f"cost_lines: {s['cost_lines']:,} lines, billed ${s['billed_usd']:,.2f} USD "
        f"(effective ${s['effective_usd']:,.2f}){' in ' + str(s['currencies']) + ' currencies' if s['currencies'] > 1 else ''}"
    )
    say(
        f"usage_events: {s['requests']:,} requests, priced ${s['usage_cost_usd']:,.2f}, "
        f"price coverage {coverage:.1%} ({s['unpriced_requests']:,} unpriced, not counted as $0)"
    )
    say(f"task_roi: {s['tasks']} catalog tasks, net savings ${s['net_savings_usd']:,.2f}")
    say(f"snapshots for the dashboard: {config.snapshot_path}")
    if quarantined.height:
        say("quarantined in this run (nothing of them was loaded; see ingest_log):")
        for row in quarantined.to_dicts():
            say(f"  {row['error']}")


def serve_dashboard(
    config_path: str | Path,
    host: str,
    port: int,
    *,
    workers: int = 2,
    auth: str = "none",
    users_file: str | None = None,
    proxy_header: str | None = None,
) -> int:
    """Serve through gunicorn with `workers` processes (0: Flask's development server), behind the chosen auth."""
    config = load_config(config_path)
    from dashboard.auth import DEFAULT_PROXY_HEADER, AuthConfigError, AuthSettings, load_users
    from dashboard.server import serve

    try:
        settings = AuthSettings(
            mode=auth,
            users=load_users(users_file) if auth == "basic" else {},
            proxy_header=proxy_header or DEFAULT_PROXY_HEADER,
        )
        settings.validate(host)
    except AuthConfigError as exc:
        say(f"auth error: {exc}")
        return 2
    server = f"gunicorn, {workers} workers" if workers > 0 else "development server"
    say(
        f"dashboard on http://{host}:{port}/ ({server}, auth {auth}; reading {config.snapshot_path}); "
        "Ctrl+C stops it"
    )
    serve(config.snapshot_path, host=host, port=port, workers=workers, auth=settings)
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Print `user:<scrypt hash>` for a users file; the password is read without echo (or from stdin)."""
    import getpass

    from dashboard.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
        if password != getpass.getpass("again: "):
            say("the two passwords differ")
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        say("empty password refused")
        return 2
    print(f"{args.user}:{hash_password(password)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    config_path = out / "aispend.yaml"
    if args.regenerate or not config_path.exists():
        from pipelines.demo.generate import generate_demo

        say(f"generating the demo data set in {out} (90 days, ~240k requests; about a minute)")
        started = time.monotonic()
        config_path = generate_demo(out, progress=lambda m: say(f"  {m}"))
        say(f"demo data ready in {time.monotonic() - started:.0f} s")
    else:
        say(f"using existing demo data in {out} (--regenerate to make it again)")
    code = run_pipeline(config_path)
    if code != 0:
        say("the pipeline reported failures (see above)")
    if args.no_serve:
        return code
    return serve_dashboard(config_path, args.host, args.port)


def cmd_run(args: argparse.Namespace) -> int:
    return run_pipeline(args.config)


def cmd_dashboard(args: argparse.Namespace) -> int:
    return serve_dashboard(
        args.config,
        args.host,
        args.port,
        workers=args.workers,
        auth=args.auth,
        users_file=args.users_file,
        proxy_header=args.proxy_header,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aispend", description="Where does our AI money go, and where does it pay back?")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="make demo data, run the whole pipeline, serve the dashboard")
    demo.add_argument("--out", default="demo", help="folder for the demo data and warehouse (default: ./demo)")
    demo.add_argument("--regenerate", action="store_true", help="make the demo data again even if it exists")
    demo.add_argument("--no-serve", action="store_true", help="stop after the pipeline")
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="materialize everything the config names, headless")
    run.add_argument("--config", required=True, help="path to aispend.yaml")
    run.set_defaults(func=cmd_run)

    dash = sub.add_parser("dashboard", help="serve the dashboard (read-only)")
    dash.add_argument("--config", required=True, help="path to aispend.yaml")
    dash.add_argument("--host", default=DEFAULT_HOST, help="bind address (default 127.0.0.1)")
    dash.add_argument("--port", type=int, default=DEFAULT_PORT)
    dash.add_argument("--workers", type=int, default=2,
                      help="gunicorn worker processes (default 2); 0 runs Flask's development server")
    dash.add_argument("--auth", choices=["none", "basic", "proxy"], default="none",
                      help="none (default, for 127.0.0.1), basic (users file / AISPEND_DASHBOARD_USERS), "
                      "or proxy (trust a reverse proxy's user header; loopback bind only)")
    dash.add_argument("--users-file", help="for --auth basic: lines user:<hash> (make them with `aispend hash-password`)")
    dash.add_argument("--proxy-header", help="for --auth proxy: the header naming the user (default X-Forwarded-User)")
    dash.set_defaults(func=cmd_dashboard)

    hashing = sub.add_parser("hash-password", help="print a users-file line user:<scrypt hash> for --auth basic")
    hashing.add_argument("user")
    hashing.set_defaults(func=cmd_hash_password)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        say(f"config error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
