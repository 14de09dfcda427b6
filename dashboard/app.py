"""The Dash app: a header with navigation around Dash's page container; pages live in dashboard/pages.

Nothing is read at import or start-up: each page reads the snapshot folder when it is rendered, so a new
snapshot from the pipeline shows on the next page load without a restart.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dash
from dash import dcc, html
from dash.exceptions import DependencyException
from flask import abort, request

from dashboard import auth as dashboard_auth
from dashboard import ids, tables
from dashboard.pages import SNAPSHOT_DIR_KEY, filters_for_download
from dashboard.pages import snapshot_dir as current_snapshot_dir

HERE = Path(__file__).resolve().parent


def _frame() -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            html.Header(
                html.Div(
                    [
                        dcc.Link([html.Span("ai", className="brand-ai"), "spend"], href="/", className="brand"),
                        html.Nav(
                            [
                                dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
                                for page in dash.page_registry.values()
                            ],
                            id=ids.NAV,
                        ),
                        html.Span("where the AI money goes, and where it pays back", className="tagline"),
                    ],
                    className="header-inner",
                ),
                className="header",
            ),
            html.Main(dash.page_container, className="main"),
        ]
    )


def _refuse_malformed_requests(app: dash.Dash) -> None:
    """Requests no page makes (a mistyped or hostile URL) get a 4xx, never a 500 with a traceback in the log: a
    script path Dash does not serve is a 404, a callback request naming no callback of this app a 400."""
    app.server.register_error_handler(DependencyException, lambda exc: ("Not found\n", 404, {"Content-Type": "text/plain"}))
    update = f"{app.config.requests_pathname_prefix}_dash-update-component"

    @app.server.before_request
    def _known_callback():
        if request.method == "POST" and request.path == update:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or body.get("output") not in app.callback_map:
                abort(400)


def create_app(snapshot_dir: str | Path, auth: dashboard_auth.AuthSettings | None = None) -> dash.Dash:
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="aispend",
        update_title=None,
        # Page layouts are rendered by the router, so their components are not in the initial layout.
        suppress_callback_exceptions=True,
    )
    app.server.config[SNAPSHOT_DIR_KEY] = str(Path(snapshot_dir).resolve())
    app.layout = _frame
    # Dash executes the page modules itself; register each one's callbacks on this app (not globally) so
    # that two apps in one process never share or lose callbacks.
    for page in dash.page_registry.values():
        register = getattr(sys.modules.get(page["module"]), "register_callbacks", None)
        if register is not None:
            register(app)
    tables.register_callbacks(app, current_snapshot_dir, filters_for_download)
    _refuse_malformed_requests(app)
    # Render the index once now: Dash registers its script paths while rendering it, and a gunicorn worker
    # forked before that would refuse the first script request it gets ("not a registered library").
    dashboard_auth.install(app.server, auth or dashboard_auth.AuthSettings())
    warm_up = {dashboard_auth.WARM_UP_ENVIRON: True}
    app.server.test_client().get("/_dash-layout", environ_base=warm_up)
    app.server.test_client().get("/", environ_base=warm_up)
    return app

