"""Serving the dashboard: gunicorn (a production WSGI server, N worker processes) or Flask's own for debugging.

The app is built once in the gunicorn master and warmed up (plotly's lazy imports made a first figure take
many seconds), then forked: every worker starts warm. Workers are `gthread` (threads per worker) because a
page load fans out into several small concurrent requests and the work inside them (DuckDB, Polars) releases
the GIL.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from dashboard.app import create_app
from dashboard.auth import AuthSettings

DEFAULT_THREADS = 4


def warm_up() -> None:
    """Import what the first figure would import, before the workers fork."""
    from dashboard import figures

    figures.empty("warm-up", "warm-up").to_plotly_json()
    import plotly.graph_objects as go

    go.Figure(go.Bar(x=[1], y=[1])).to_plotly_json()


def serve(
    snapshot_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8050,
    *,
    workers: int = 2,
    threads: int = DEFAULT_THREADS,
    auth: AuthSettings | None = None,
    debug: bool = False,
) -> None:
    """Serve until stopped. workers=0: Flask's single-process development server (with `debug`)."""
    auth = auth or AuthSettings()
    for line in auth.validate(host):
        print(line, file=sys.stderr, flush=True)
    app = create_app(snapshot_dir, auth=auth)
    warm_up()
    if workers <= 0:
        app.run(host=host, port=port, debug=debug)
        return
    _gunicorn(app.server, host, port, workers, threads).run()


# Ctrl+C used to take 10.8 s (two workers killed by the master at graceful_timeout), for two reasons, one hook
# each; with both it takes about half a second (docs/dashboard.md, "Serving and workers").


def _master_stops_workers(worker) -> None:
    """Ctrl+C sends SIGINT to the whole process group, and the master then sends each worker SIGQUIT: a gthread
    worker ran its quit handler twice, the second deadlocking in its thread pool's shutdown (a lock the first
    held). The master alone handles Ctrl+C; a worker stops when the master tells it to."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_now(server, worker) -> None:
    """End a worker as soon as gunicorn is done with it: a stopped worker then hung in the interpreter's own
    shutdown, with no Python frame left, finalizing native thread pools that did not survive the fork. It holds
    nothing to flush (it only reads snapshots; no access log)."""
    sys.stderr.flush()
    os._exit(0)


def _gunicorn(wsgi_app, host: str, port: int, workers: int, threads: int):
    from gunicorn.app.base import BaseApplication

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 120,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "aispend-dashboard",
        "post_worker_init": _master_stops_workers,
        "worker_exit": _exit_now,
    }

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return wsgi_app

    return Application()
