"""Past sessions: a picker leading to each session's report."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import clock, queries
from dashboard.data import CONTEXT, NoData
from dashboard.pages.common import empty_state
from dashboard.viewer import owner_scope


def layout(**_):
    try:
        found = queries.sessions(CONTEXT.engine(), owner_scope())
    except NoData as exc:
        return empty_state(str(exc))
    if not found:
        return empty_state("No sessions recorded yet.")
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(s.name, href=f"/report/{s.id}")),
                html.Td(f"{s.started_at:%Y-%m-%d %H:%M}"),
                html.Td(f"{s.ended_at:%H:%M}" if s.ended_at else "—"),
                html.Td(s.status),
                html.Td(dcc.Link("share view", href=f"/share/{s.id}")),
            ]
        )
        for s in found
    ]
    zone = clock.zone_text(found[0].started_at)
    head = html.Thead(html.Tr([html.Th(h) for h in ("session", f"started ({zone})", "ended", "status", "")]))
    return html.Div(
        [
            html.H4("Past sessions"),
            html.Table([head, html.Tbody(rows)], className="table table-sm", id="sessions-table"),
        ]
    )


dash.register_page(__name__, path="/sessions", name="Sessions", layout=layout)
