"""Aggregate-only view of a session, for sharing: no names, no per-student rows."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import charts, report
from dashboard.data import NoData
from dashboard.pages.common import card, empty_state, flag_list


def layout(session_id=None, **_):
    try:
        data = report.build(int(session_id), anonymous=True)
    except (NoData, TypeError, ValueError) as exc:
        return empty_state(str(exc) if isinstance(exc, NoData) else "Unknown session.")
    return html.Div(
        [
            html.H4(f"{data.info.name} (class aggregate)", id="share-title"),
            html.P(data.said()),
            html.A(
                "Download as HTML",
                href=f"/export/{data.info.id}/share.html",
                className="btn btn-outline-primary btn-sm mb-3",
            ),
            *mood_cards(data),
            card("Class-wide moments", flag_list(data.flags, {}, data.info.id, "share-flags")),
        ]
    )


def mood_cards(data) -> list:
    """The class mood and distribution charts; with no expressions, where the class looked."""
    if data.no_expressions:
        return [card("At their screen", dcc.Graph(figure=charts.at_screen(data.timeline)))]
    return [
        card("Class mood", dcc.Graph(figure=charts.class_mood(data.timeline, data.flags))),
        card("Emotion distribution", dcc.Graph(figure=charts.distribution(data.distribution))),
    ]


dash.register_page(__name__, path_template="/share/<session_id>", name="Share", layout=layout)
