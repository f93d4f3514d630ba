"""Live view of the running (or latest) session, refreshed every few seconds."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from datetime import timedelta

import dash
from dash import Input, Output, State, callback, dcc, html

from core.flags import MinuteSeries
from core.labels import EMOTIONS
from dashboard import charts, queries
from dashboard.data import CONTEXT, NoData, agent_state, attention_only, flags_for, pick_session, shown_flags
from dashboard.live_window import LiveWindows, window_start
from dashboard.pages.common import card, empty_state, flag_list, looking_text, stat

REFRESH_MS = 3000
BUILT_KEPT = 64  # sessions x zooms whose latest parts stay built
_BUILT: dict[str, tuple] = {}  # capture key (live_parts) -> its built parts
_BUILT_LOCK = threading.Lock()
_WINDOWS = LiveWindows()  # each live session's last hour, updated capture by capture
_KEY_SALT = secrets.token_bytes(16)  # the page holds an opaque digest of a key, never the key
WINDOW = timedelta(minutes=60)  # the live view shows the last hour; reports show whole sessions


def layout(**_):
    """A fixed skeleton that the refresh fills in: the charts stay the same components between
    refreshes, and the class chart keeps the time range the teacher zoomed to."""
    return html.Div(
        [
            dcc.Interval(id="live-tick", interval=REFRESH_MS),
            dcc.Store(id="live-shown"),
            html.Div(id="live-empty"),
            html.Div(
                [
                    html.H4(id="live-title"),
                    html.Div(id="live-agent"),
                    html.Div(id="live-stats", className="row mb-3"),
                    html.Div(
                        [
                            html.Div(
                                card("Class mood, last hour", dcc.Graph(id="live-mood")),
                                className="col-lg-8",
                            ),
                            html.Div(card("Now", dcc.Graph(id="live-snapshot")), className="col-lg-4"),
                        ],
                        className="row",
                        id="live-mood-row",
                    ),
                    card("At their screen, last hour", dcc.Graph(id="live-screen-chart")),
                    card("Needs attention", html.Div(id="live-attention")),
                    card("Students", html.Div(id="live-grid")),
                ],
                id="live-content",
                style={"display": "none"},
            ),
        ]
    )


@callback(
    Output("live-empty", "children"),
    Output("live-content", "style"),
    Output("live-title", "children"),
    Output("live-agent", "children"),
    Output("live-agent", "className"),
    Output("live-stats", "children"),
    Output("live-mood", "figure"),
    Output("live-snapshot", "figure"),
    Output("live-screen-chart", "figure"),
    Output("live-attention", "children"),
    Output("live-grid", "children"),
    Output("live-mood-row", "style"),
    Output("live-shown", "data"),
    Input("live-tick", "n_intervals"),
    State("live-mood", "relayoutData"),
    State("live-shown", "data"),
)
def refresh(_n, zoom, shown):
    try:
        info = pick_session(None)
    except NoData as exc:
        return empty_state(str(exc)), {"display": "none"}, *[dash.no_update] * 10, None
    return None, {}, *live_parts(info, zoom, shown)


def live_parts(info, zoom: dict | None = None, shown: str | None = None) -> tuple:
    """What the refresh puts into the skeleton, in the callback's output order, and the key
    of the capture it shows.

    The page refreshes every 3 s and the agent captures every 5 s or so: what depends on the
    captures is built once per new capture (and zoom), however many refreshes and viewers
    ask, and sent only to a page that does not show it yet; the agent's state line is made
    afresh each time."""
    running, state_text, last = agent_state(info)
    erased = queries.audit_mark(CONTEXT.engine())  # an erasure or purge since: build again, without it
    parts = [CONTEXT.url, info.id, info.name, str(last), zoom, erased, running]
    key = opaque(json.dumps(parts, sort_keys=True, default=str))
    agent_line = (state_text, "alert " + ("alert-success" if running else "alert-warning"))
    if key == shown:
        return (dash.no_update, *agent_line, *[dash.no_update] * 7, key)
    with _BUILT_LOCK:
        built = _BUILT.get(key)
    if built is None:
        built = capture_parts(info, last, zoom)
        with _BUILT_LOCK:
            _BUILT[key] = built
            while len(_BUILT) > BUILT_KEPT:
                _BUILT.pop(next(iter(_BUILT)))
    title, stats, mood, now, *rest = built
    if not running and info.status == "running":  # the last reading is not "now" any more
        now = charts.empty_figure("No current reading: see the line above")
    return (title, *agent_line, stats, mood, now, *rest, key)


def opaque(key: str) -> str:
    """A digest that names a built capture without saying anything about the server (the
    key holds the database URL, password included, which must never reach a browser)."""
    return hashlib.blake2b(key.encode(), key=_KEY_SALT, digest_size=16).hexdigest()


def capture_parts(info, last, zoom: dict | None) -> tuple:
    """The parts that change only with a new capture: title, counts, charts, flags, grid (and
    whether the mood charts show: not for a session read for attention only)."""
    engine = CONTEXT.engine()
    since = window_start(last, WINDOW) if last else None
    if since is None:
        timeline, minutes = queries.class_timeline(engine, info.id), queries.student_minutes(engine, info.id)
    else:
        hour = _WINDOWS.get(engine, CONTEXT.url, info.id, since)
        timeline, minutes = hour.timeline, hour.minutes
    names = queries.participants(engine, info.id)
    latest = queries.latest_states(engine, info.id)
    series = queries.series_by(minutes)
    flags = shown_flags(info, flags_for(info.id, since, series, timeline))
    no_expressions = attention_only(info)
    present = len(latest)
    camera_on = sum(s["state"] != "camera_off" for s in latest.values())
    faces = sum(s["state"] == "face" for s in latest.values())
    at_screen = sum(s["looking"] == "screen" for s in latest.values())
    away = queries.away_since(engine, info.id, [pid for pid, s in latest.items() if s["looking"] == "away"])
    snapshot = {n: float(timeline.iloc[-1][n] or 0.0) for n in EMOTIONS} if not timeline.empty else {}
    if not timeline.empty and timeline.iloc[-1]["faces"] == 0:
        snapshot = {n: 0.0 for n in EMOTIONS}
    return (
        [info.name, html.Small(f"  {info.source}", className="text-muted")],
        [
            stat("students present", present, "live-present"),
            stat("camera on", camera_on, "live-camera"),
            stat("face found", faces, "live-faces"),
            stat("at their screen", at_screen, "live-screen"),
            stat("flags", len(flags), "live-flag-count"),
        ],
        *mood_charts(timeline, flags, zoom, snapshot, no_expressions),
        charts.at_screen(timeline),
        flag_list(flags, names, info.id, "live-flags"),
        student_grid(info.id, names, latest, series, flags, away, no_expressions),
        {"display": "none"} if no_expressions else {},
    )


def mood_charts(timeline, flags, zoom, snapshot: dict, no_expressions: bool) -> tuple:
    """The class mood and "Now" figures; empty for a session read for attention only (their row is hidden)."""
    if no_expressions:
        return charts.empty_figure(""), charts.empty_figure("")
    now = charts.snapshot(snapshot) if snapshot else charts.empty_figure("No capture yet")
    return charts.keep_zoom(charts.class_mood(timeline, flags), zoom), now


def reading_label(now: dict | None) -> str:
    """The expression read now; a guess (core.calibration) is written as one: "happy?"."""
    top = (now or {}).get("top") or ""
    return f"{top}? (uncertain)" if top and (now or {}).get("uncertain") else top


def student_grid(
    session_id, names, latest, series: dict[int, MinuteSeries], flags, away=None, no_expressions: bool = False
) -> html.Div:
    """A card per student: name, recent mood, what was seen now (and since when they look away);
    `no_expressions`: where they look instead of mood and expression."""
    if not names:
        return html.Div("No students seen yet.", className="text-muted")
    flagged = {f.participant_id for f in flags}
    cards = []
    for pid, person in names.items():
        now = latest.get(pid)
        state = "left" if now is None else now["state"]
        label = {
            "face": "" if no_expressions else reading_label(now),
            "camera_off": "camera off",
            "no_face": "no face",
            "left": "not in gallery",
        }[state]
        looking = (now or {}).get("looking")
        if looking == "away" or (looking and no_expressions):
            where = looking_text(looking, (away or {}).get(pid))
            label = f"{label} · {where}" if label else where
        recent = None if no_expressions else series.get(pid)
        spark = (
            dcc.Graph(figure=charts.sparkline(recent.minutes[-15:], recent.valence[-15:]), config={"staticPlot": True})
            if recent is not None
            else html.Div(style={"height": "0px" if no_expressions else "50px"})
        )
        border = "border-warning" if pid in flagged else ""
        cards.append(
            html.Div(
                dcc.Link(
                    html.Div(
                        [
                            html.Div(person["name"], className="fw-bold text-truncate"),
                            spark,
                            html.Div(label, className="small text-muted"),
                        ],
                        className=f"card card-body p-2 {border}",
                    ),
                    href=f"/student/{session_id}/{pid}",
                    className="text-decoration-none text-reset",
                ),
                className="col-6 col-md-3 col-xl-2 mb-2 student-card",
            )
        )
    return html.Div(cards, className="row", id="live-students")


dash.register_page(__name__, path="/", name="Live", layout=layout)
