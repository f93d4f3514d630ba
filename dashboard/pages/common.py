"""Small layout helpers shared by the pages."""

from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from core.flags import Flag
from core.head_pose import AWAY, LOOKING_WORDS


def empty_state(message: str) -> html.Div:
    return html.Div(message, className="alert alert-secondary", id="empty-state")


def card(title: str, body, **kwargs) -> html.Div:
    return html.Div(
        [html.Div(title, className="card-header"), html.Div(body, className="card-body")],
        className="card mb-3",
        **kwargs,
    )


def flag_list(flags: list[Flag], names: dict[int, dict], session_id: int, element_id: str) -> html.Div:
    if not flags:
        return html.Div("No flags: nothing in this session crossed a threshold.", id=element_id, className="text-muted")
    items = []
    for flag in flags:
        who = flag.who(names)
        label = (
            dcc.Link(who, href=f"/student/{session_id}/{flag.participant_id}")
            if flag.participant_id is not None
            else html.B(who)
        )
        items.append(
            html.Li(
                [
                    html.Span(flag.kind, className="badge bg-warning text-dark me-2"),
                    label,
                    f": {flag.reason}, since {flag.since:%H:%M}",
                ],
                className="flag-item",
            )
        )
    return html.Ul(items, id=element_id, className="list-unstyled")


def stat(label: str, value, element_id: str) -> html.Div:
    return html.Div(
        [html.Div(str(value), className="fs-3 fw-bold", id=element_id), html.Div(label, className="text-muted small")],
        className="col text-center",
    )


def looking_text(looking: str | None, since: datetime | None = None) -> str:
    """ "looking away since 10:32", "at the screen", or "" when no head pose was read."""
    words = LOOKING_WORDS.get(looking, "")
    return f"{words} since {since:%H:%M}" if looking == AWAY and since else words
