"""The `aispend` command: demo, local, run, dashboard, and finance's close, reopen, export and report (cli_finance.py).

Dagster is imported only by the commands that run the pipeline: it takes 10-25 s to import on a small
machine, and the dashboard does not need it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from pipelines.cli_finance import add_commands as add_finance_commands
from pipelines.cli_run import run_pipeline, say
from pipelines.config import ConfigError, load_config

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def serve_dashboard(
    config_path: str | Path,
    host: str,
    port: int,
    *,
    workers: int = 2,
    auth: str = "none",
    users_file: str | None = None,
    proxy_header: str | None = None,
    snapshot_uri: str | None = None,
    sync_seconds: float = 60.0,
    cache_dir: str | None = None,
) -> int:
    """Serve through gunicorn with `workers` processes (0: Flask's development server), behind the chosen auth.

    With `snapshot_uri` (s3://bucket/prefix, where runs publish) the snapshots are synced from S3 into
    `cache_dir` before serving and then every `sync_seconds` by a thread in the serving (gunicorn master)
    process; the workers read the cache folder like a local snapshot folder."""
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
    snapshot_dir = config.snapshot_path
    if snapshot_uri:
        sync = start_snapshot_sync(config, snapshot_uri, sync_seconds, cache_dir)
        if sync is None:
            return 2
        snapshot_dir = sync.cache_dir
    server = f"gunicorn, {workers} workers" if workers > 0 else "development server"
    say(
        f"dashboard on http://{host}:{port}/ ({server}, auth {auth}; reading {snapshot_dir}); "
        "Ctrl+C stops it"
    )
    serve(snapshot_dir, host=host, port=port, workers=workers, auth=settings)
    return 0


def start_snapshot_sync(config, uri: str, interval_s: float, cache_dir: str | None):
    """Sync once (a failure is reported, and whatever the cache holds serves), then keep syncing in a thread.
    The endpoint and region come from the config's `publish` block when it has one."""
    from dashboard.snapshot_sync import SnapshotSync

    if not uri.startswith("s3://") or interval_s <= 0:
        say("--snapshot-uri takes s3://bucket/prefix, and --sync-seconds a positive number")
        return None
    folder = Path(cache_dir).resolve() if cache_dir else config.snapshot_path.parent / "snapshot-cache"
    target = config.publish
    sync = SnapshotSync(uri, folder, endpoint_url=target.endpoint_url if target else None,
                        region=target.region if target else None, log=say)
    first = sync.sync_once()
    if first.ok:
        say(f"synced {len(first.downloaded)} snapshots from {uri} into {folder}; again every {interval_s:g} s")
    sync.start(interval_s)
    return sync


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
    else:
        say("the demo data holds a model with no price, usage no log recorded and invoices a few days behind the "
            "logs, on purpose: the price-coverage and reconciliation warnings point at them (Reconciliation and "
            "Data health pages; the Overview shows the month not invoiced yet)")
    if args.no_serve:
        return code
    return exec_dashboard(config_path, args.host, args.port)


def exec_dashboard(config_path: Path, host: str, port: int) -> int:
    """Serve from a fresh process: the pipeline left thread pools (Polars, DuckDB) in this one, and gunicorn
    workers forked from it hang on their first data callback. exec keeps the pid and Ctrl+C as they were."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "pipelines.cli", "dashboard", "--config", str(config_path),
                              "--host", host, "--port", str(port)])
    return 0  # not reached: execv replaces this process


def cmd_local(args: argparse.Namespace) -> int:
    """A person's own Claude Code and Codex logs, priced, in one command (docs/sources/coding_agents.md)."""
    from pipelines import local

    try:
        plans = [local.parse_plan(text) for text in args.plan]
        agents = local.find_agents(os.environ, Path.home(), args.claude_dir, args.codex_dir)
        for agent in agents:
            say(f"{agent.tool}: {agent.files} session files in {agent.folder}" if agent.folder
                else f"{agent.tool}: no session logs (looked in {local.describe(agent)})")
        out = Path(args.out).expanduser() if args.out else Path.home() / ".aispend"
        config_path = local.write_config(out.resolve(), agents, plans, say)
    except local.LocalError as exc:
        say(str(exc))
        return 2
    except OSError as exc:
        say(f"cannot write under {args.out or '~/.aispend'}: {exc.strerror or exc} ({exc.filename or ''})")
        return 2
    code = run_pipeline(config_path)
    local.summary(config_path, say)
    if code != 0:
        say("the pipeline reported problems (see above; the Data health page lists any session file it refused)")
    if args.no_serve:
        return code
    return exec_dashboard(config_path, args.host, args.port)


def cmd_run(args: argparse.Namespace) -> int:
    return run_pipeline(args.config, args.date_from, args.date_to)


def cmd_dashboard(args: argparse.Namespace) -> int:
    return serve_dashboard(
        args.config,
        args.host,
        args.port,
        workers=args.workers,
        auth=args.auth,
        users_file=args.users_file,
        proxy_header=args.proxy_header,
        snapshot_uri=args.snapshot_uri,
        sync_seconds=args.sync_seconds,
        cache_dir=args.cache_dir,
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

    loc = sub.add_parser("local", help="your own Claude Code and Codex logs, priced: build ~/.aispend, run, serve")
    loc.add_argument("--claude-dir", help="Claude Code's projects folder (default: $CLAUDE_CONFIG_DIR/projects, "
                     "else ~/.claude/projects or ~/.config/claude/projects)")
    loc.add_argument("--codex-dir", help="Codex CLI's sessions folder (default: $CODEX_HOME/sessions, else "
                     "~/.codex/sessions)")
    loc.add_argument("--plan", action="append", default=[], metavar='"VENDOR PLAN [PRICE] [CURRENCY]"',
                     help='a subscription you pay, e.g. "claude max 200" or "chatgpt plus" (repeatable)')
    loc.add_argument("--out", help="folder for the config and warehouse (default: ~/.aispend)")
    loc.add_argument("--no-serve", action="store_true", help="stop after the pipeline")
    loc.add_argument("--host", default=DEFAULT_HOST)
    loc.add_argument("--port", type=int, default=DEFAULT_PORT)
    loc.set_defaults(func=cmd_local)

    run = sub.add_parser("run", help="materialize everything the config names, headless")
    run.add_argument("--config", required=True, help="path to aispend.yaml")
    run.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD",
                     help="backfill from this UTC day (with --to): usage days, and the billing months touching them")
    run.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD",
                     help="last UTC day of the backfill (inclusive)")
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
    dash.add_argument("--snapshot-uri", metavar="s3://BUCKET/PREFIX",
                      help="serve the snapshots a run published to S3 (the config's publish.uri) instead of "
                      "snapshot_dir: synced into --cache-dir, only changed objects")
    dash.add_argument("--sync-seconds", type=float, default=60.0,
                      help="with --snapshot-uri: seconds between syncs (default 60)")
    dash.add_argument("--cache-dir", help="with --snapshot-uri: local folder for the synced snapshots "
                      "(default: snapshot-cache beside the warehouse file)")
    dash.set_defaults(func=cmd_dashboard)

    add_finance_commands(sub)

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
