"""A past session's report: class summary, students, flagged moments, distribution, exports."""

from __future__ import annotations

import dash
from dash import dash_table, dcc, html
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format, Scheme, Sign

from dashboard import charts, report
from dashboard.corrections import class_list_card
from dashboard.data import CONTEXT, NoData
from dashboard.pages.common import card, empty_state, flag_list
from dashboard.signin import delete_form, share_forms
from dashboard.viewer import viewer


def layout(session_id=None, **_):
    try:
        data = report.build(int(session_id))
    except (NoData, TypeError, ValueError) as exc:
        return empty_state(str(exc) if isinstance(exc, NoData) else "Unknown session.")
    table = report.student_table(data)
    sid = data.info.id
    return html.Div(
        [
            html.H4(data.info.name, id="report-title"),
            html.P(data.said(), id="report-summary"),
            html.Div(
                [
                    html.A(
                        "Observations CSV",
                        href=f"/export/{sid}/observations.csv",
                        className="btn btn-outline-primary btn-sm me-2",
                        id="report-csv",
                    ),
                    html.A(
                        "Students CSV",
                        href=f"/export/{sid}/students.csv",
                        className="btn btn-outline-primary btn-sm me-2",
                    ),
                    html.A(
                        "HTML report",
                        href=f"/export/{sid}/report.html",
                        className="btn btn-outline-primary btn-sm me-2",
                    ),
                    html.A(
                        "PDF report", href=f"/export/{sid}/report.pdf", className="btn btn-outline-primary btn-sm me-2"
                    ),
                    *share_and_delete(sid),
                ],
                className="mb-3",
            ),
            html.Div(
                [
                    html.Div(
                        card("Class mood", dcc.Graph(figure=charts.class_mood(data.timeline, data.flags))),
                        className="col-lg-8",
                    ),
                    html.Div(
                        card("Emotion distribution", dcc.Graph(figure=charts.distribution(data.distribution))),
                        className="col-lg-4",
                    ),
                ],
                className="row",
            )
            if not data.no_expressions
            else None,
            card("At their screen", dcc.Graph(figure=charts.at_screen(data.timeline), id="report-screen")),
            card("Flagged moments", flag_list(data.flags, data.names, sid, "report-flags")),
            card(
                "Students",
                dash_table.DataTable(
                    table.to_dict("records"),
                    student_columns(table.columns),
                    sort_action="native",
                    page_size=60,
                    id="report-students",
                    # the page's font, headers wrapped, names left and numbers right: fits 1366 px
                    style_table={"overflowX": "auto"},
                    style_cell={
                        "fontFamily": "var(--bs-body-font-family)",  # "inherit" took the table's monospace
                        "fontSize": "0.85rem",
                        "padding": "2px 6px",
                    },
                    style_header={"whiteSpace": "normal", "height": "auto", "fontWeight": "600"},
                    style_cell_conditional=[{"if": {"column_id": "student"}, "textAlign": "left"}],
                ),
            ),
            card("Class list", class_list_card(sid, data.names)),
        ]
    )


def share_and_delete(sid: int) -> list:
    """With accounts: an expiring share link anyone may open, and a delete button; without
    them, the share view behind this run's token."""
    if viewer() is None:
        return [html.A("Share view (no names)", href=f"/share/{sid}", className="btn btn-outline-secondary btn-sm")]
    return [*share_forms(CONTEXT.engine(), sid), delete_form(sid)]


def student_columns(present) -> list[dict]:
    """Headers in words; shares as percentages (the values stay numbers, so sorting is by them)."""
    formats = {
        "percent": {"type": "numeric", "format": FormatTemplate.percentage(0)},
        "valence": {"type": "numeric", "format": Format(precision=2, scheme=Scheme.fixed, sign=Sign.positive)},
        "count": {"type": "numeric"},
        "text": {"type": "text"},
    }
    return [
        {"name": header, "id": column, **formats[kind]}
        for column, header, kind in report.STUDENT_COLUMNS
        if column in present
    ]


dash.register_page(__name__, path_template="/report/<session_id>", name="Report", layout=layout)
