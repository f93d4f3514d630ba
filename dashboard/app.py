"""`classmood dashboard`: the Dash app. Pages live in dashboard/pages/, one module each."""

from __future__ import annotations

import dash
from dash import Dash, dcc, html

from core.flags import FlagRules
from dashboard import clock
from dashboard.access import add_security_headers, require_token
from dashboard.data import CONTEXT
from dashboard.signin import require_accounts

NOTICE = (
    "Facial expressions are not feelings, and the model errs (see the model card). "
    "Use flags as a prompt to check in, never as a judgement. Emotion inference in schools is restricted "
    "in some places (EU AI Act Art. 5(1)(f))."
)


def create_app(
    db_url: str | None = None,
    rules: FlagRules | None = None,
    token: str | None = None,
    accounts: bool = False,
    port: int | None = None,
    timezone: str | None = None,
    signals: str = "emotions",
) -> Dash:
    """The app; with accounts, only signed-in users are served, each their own sessions
    (dashboard.signin); else, with a token, only requests that carry it (or its cookie).
    `signals` "attention": no page or export shows an expression, whatever a session holds."""
    CONTEXT.use(db_url, rules, signals)
    zone = clock.use(timezone)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        title="ClassMood",
        suppress_callback_exceptions=True,
        assets_folder="assets",
    )
    from dashboard import corrections, exports
    from dashboard.pages import live, report, sessions, share, student  # noqa: F401  (registers pages)

    exports.register(app.server)
    corrections.register(app.server)
    add_security_headers(app.server)
    if accounts:
        require_accounts(app.server, CONTEXT.engine())
    elif token:
        require_token(app.server, token, port)
    signed = [dcc.Link("Sign out", href="/logout", refresh=True, className="nav-link d-inline")] if accounts else []
    app.layout = html.Div(
        [
            html.Nav(
                html.Div(
                    [
                        dcc.Link("ClassMood", href="/", className="navbar-brand"),
                        dcc.Link("Live", href="/", className="nav-link d-inline"),
                        dcc.Link("Past sessions", href="/sessions", className="nav-link d-inline"),
                        *signed,
                    ],
                    className="container-fluid",
                ),
                className="navbar navbar-light bg-light mb-3",
            ),
            html.Div(dash.page_container, className="container-fluid"),
            html.Footer(
                [html.Span(f"Times in {zone.key} (the dashboard's zone; --timezone to change). ", id="zone"), NOTICE],
                className="text-muted small container-fluid mt-4 mb-2",
            ),
        ]
    )
    return app


def check_port_free(host: str, port: int) -> None:
    """Refuse to start where another program already answers on the port: the address printed
    would show someone else's page while the agent captured for nobody."""
    import socket

    from dashboard.access import AccessError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AccessError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None


def serve(app: Dash, host: str, port: int) -> None:
    """Serve an app made by create_app (which must run in the main thread: Dash pages need it)."""
    import logging

    from waitress import serve as waitress_serve

    # "Task queue depth" is waitress telling that a page asked for its files at once; not a
    # teacher's concern. Eight threads serve a page's burst of assets without it.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress_serve(app.server, host=host, port=port, threads=8, _quiet=True)
