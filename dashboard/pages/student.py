"""One student's timeline in one session, with their flags marked."""

from __future__ import annotations

import dash
from dash import dcc, html

from core.labels import NEGATIVE
from dashboard import charts, queries
from dashboard.corrections import correction_forms
from dashboard.data import CONTEXT, NoData, attention_only, flags_for, pick_session, shown_flags
from dashboard.pages.common import card, empty_state, flag_list, looking_text


def layout(session_id=None, participant_id=None, **_):
    try:
        info = pick_session(int(session_id))
        engine = CONTEXT.engine()
        names = queries.participants(engine, info.id)
        pid = int(participant_id)
        if pid not in names:
            raise NoData(f"No such student in session {info.id}.")
    except (NoData, TypeError, ValueError) as exc:
        return empty_state(str(exc) if isinstance(exc, NoData) else "Unknown session or student.")
    observations = queries.student_observations(engine, info.id, pid)
    flags = [f for f in shown_flags(info, flags_for(info.id)) if f.participant_id == pid]
    no_expressions = attention_only(info)
    faces = (observations["state"] == "face").mean() if not observations.empty else 0
    others = {other: entry["name"] for other, entry in names.items() if other != pid}
    return html.Div(
        [
            html.H4(names[pid]["name"], id="student-name"),
            html.P(
                f"{info.name}: {len(observations)} observations, face found in {faces:.0%}.", className="text-muted"
            ),
            html.P(name_source(names[pid]), id="student-name-source", className="small"),
            None if no_expressions else html.P(usual_reading(observations), id="student-usual"),
            html.P(where_looking(observations), id="student-looking"),
            None
            if no_expressions
            else card(
                "Timeline", dcc.Graph(figure=charts.student_timeline(observations, flags), id="student-timeline")
            ),
            card(
                "Where they looked",
                dcc.Graph(figure=charts.student_looking(observations), id="student-looking-chart"),
            ),
            card("Flags", flag_list(flags, names, info.id, "student-flags")),
            card("Name", correction_forms(info.id, pid, names[pid]["name"], others)),
            html.P(
                [
                    dcc.Link("This session's report", href=f"/report/{info.id}", id="student-report-link"),
                    " · ",
                    dcc.Link("Live view", href="/"),
                ]
            ),
        ]
    )


def name_source(participant: dict) -> str:
    """Where the name comes from, so that a teacher knows which ones to check."""
    if not participant["named"]:
        return "No name tag could be read: this student is followed by the position and look of their tile."
    if participant["listed"] is True:
        return "Name from the class list."
    if participant["listed"] is False:
        return "Not on the class list: the name as its tag was read."
    return "Name as its tag was read."


def where_looking(observations) -> str:
    """The latest reading: at the screen or looking away (since when), and the session's share at the screen."""
    if observations.empty or "looking" not in observations or observations["looking"].isna().all():
        return "No head pose read for this student yet."
    posed = observations[observations["looking"].notna()]
    at_screen = (posed["looking"] == "screen").mean()
    now = posed["looking"].iloc[-1]
    since = None
    if now == "away":
        screen_times = posed.loc[posed["looking"] == "screen", "time"]
        run = posed if screen_times.empty else posed[posed["time"] > screen_times.iloc[-1]]
        since = run["time"].iloc[0]
    text = looking_text(now, since)
    return f"Latest reading: {text}; at the screen in {at_screen:.0%} of {len(posed)} readings of the head's pose."


def usual_reading(observations) -> str:
    """What this student's face usually reads (confident readings only), said plainly: a face
    that reads sad most of the lecture is this student's resting face, and flags compare with it."""
    if observations.empty:
        return "No readings yet."
    confident = observations[(observations["state"] == "face") & (observations["uncertain"] != True)]  # noqa: E712
    if confident.empty:
        states = observations["state"].value_counts(normalize=True)
        off, unseen = states.get("camera_off", 0), states.get("no_face", 0)
        why = f"camera off in {off:.0%} of captures, face not found in {unseen:.0%}"
        return f"No confident reading ({why}): no expression is charted or flagged for this student."
    shares = confident["top_emotion"].value_counts(normalize=True)
    top, share = shares.index[0], shares.iloc[0]
    text = f"Usually reads {top} ({share:.0%} of {len(confident)} confident readings)."
    if top in NEGATIVE:
        text += f" Taken as this student's resting face: only a clear change from it is flagged, not '{top}' itself."
    return text


dash.register_page(__name__, path_template="/student/<session_id>/<participant_id>", name="Student", layout=layout)
