"""Plotly figures; pure functions of data frames. Colours match the annotated images."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from core.head_pose import AWAY, LOOKING_WORDS, SCREEN
from core.labels import EMOTIONS

COLORS = {
    "angry": "#D55E00",
    "disgust": "#009E73",
    "fear": "#CC79A7",
    "happy": "#F0E442",
    "sad": "#0072B2",
    "surprise": "#E69F00",
    "neutral": "#B4B4B4",
}
FLAG_COLORS = {
    "negative": "#D55E00",
    "absent": "#777777",
    "drop": "#0072B2",
    "class_negative": "#CC79A7",
    "class_neutral": "#999999",
    "away": "#56B4E9",
}
LABEL_ROOM = 0.12  # of the chart's time span: about how wide a flag's label prints
LABEL_STEP = 0.08  # of the chart's height: one row of flag labels
TEMPLATE = pio.templates[pio.templates.default].to_plotly_json()  # what go.Figure would carry


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=260, margin={"t": 20, "b": 20})
    return fig


def mood_figure(frame: pd.DataFrame) -> go.Figure:
    """Stacked emotion probabilities over `time` and the valence line on a second axis."""
    return go.Figure({"data": mood_traces(frame), "layout": two_axes()})


GAP_STEPS = 3  # captures this many usual steps apart have a gap between them (failed, or no agent)


def with_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-capture rows with empty rows inside each gap, so that the charts show nothing
    there instead of a straight line across time when nothing was captured or read."""
    if len(frame) < 3:
        return frame
    steps = frame["time"].diff()
    usual = steps.median()
    gaps = frame.index[steps > GAP_STEPS * usual]
    if not len(gaps) or pd.isna(usual):
        return frame
    # Two empty rows, half a usual step inside each end: a stacked area then drops straight to
    # nothing across the gap (Plotly reads the empty rows as zero), the valence line breaks.
    ends = pd.concat([frame["time"][gaps] - steps[gaps] + usual / 2, frame["time"][gaps] - usual / 2])
    holes = pd.DataFrame({"time": ends})
    return pd.concat([frame, holes], ignore_index=True).sort_values("time", kind="stable").reset_index(drop=True)


def mood_traces(frame: pd.DataFrame) -> list[dict]:
    """The traces of mood_figure as plain dicts: the live view sends them every few seconds,
    and plotly's validating objects cost more than the data they carry. A gap in the captures
    is a gap in the lines."""
    frame = with_gaps(frame)
    times = frame["time"].tolist()
    traces = [
        {
            "type": "scatter", "x": times, "y": frame[name].tolist(), "name": name, "stackgroup": "mood",
            "mode": "lines", "line": {"width": 0.5, "color": COLORS[name]}, "xaxis": "x", "yaxis": "y",
        }
        for name in EMOTIONS
    ]  # fmt: skip
    valence = {"color": "black", "width": 2}
    return [*traces, {"type": "scatter", "x": times, "y": frame["valence"].tolist(), "name": "valence",
                      "mode": "lines", "line": valence, "xaxis": "x", "yaxis": "y2"}]  # fmt: skip


def two_axes() -> dict:
    """A layout with a second y axis on the right (what make_subplots(secondary_y) makes)."""
    return {
        "template": TEMPLATE,
        "xaxis": {"anchor": "y", "domain": [0.0, 0.94]},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
        "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
    }


def flag_shapes(flags, opacity: float) -> list[dict]:
    """A band in each flag's colour over its stretch of time, across the plot's height."""
    return [
        {"type": "rect", "x0": flag.since, "x1": flag.until, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
         "fillcolor": FLAG_COLORS.get(flag.kind, "#999"), "opacity": opacity, "line": {"width": 0}}
        for flag in flags
    ]  # fmt: skip


FLAG_LANE = 0.035  # height of one row of flag marks above the plot, in plot heights


def flag_marks(flags) -> list[dict]:
    """Each flag as a short bar in its colour just above the plot, over its stretch of time, a
    row per kind of flag: the class chart stays readable and matches its legend however many
    flags there are."""
    kinds = list(dict.fromkeys(flag.kind for flag in flags))
    return [
        {"type": "rect", "x0": flag.since, "x1": flag.until, "xref": "x", "yref": "y domain",
         "y0": 1.015 + FLAG_LANE * kinds.index(flag.kind), "y1": 1.04 + FLAG_LANE * kinds.index(flag.kind),
         "fillcolor": FLAG_COLORS.get(flag.kind, "#999"), "opacity": 0.9, "line": {"width": 0}}
        for flag in flags
    ]  # fmt: skip


def shade_flags(fig: go.Figure, flags, opacity: float, labelled: bool = False, span: timedelta | None = None) -> None:
    """A band in the flag's colour over each flagged stretch of time; labels, where asked
    for, in rows so that flags starting close together do not print over each other."""
    flags = list(flags)
    fig.update_layout(shapes=[*fig.layout.shapes, *flag_shapes(flags, opacity)])
    if not labelled or not flags:
        return
    label_room = LABEL_ROOM * (span or max(f.until for f in flags) - min(f.since for f in flags))
    rows = label_rows([(f.since, f.until) for f in flags], label_room)
    for flag, row in zip(flags, rows):
        fig.add_annotation(
            x=flag.since,
            y=1 - LABEL_STEP * row,
            xref="x",
            yref="paper",
            text=flag.kind,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11},
            bgcolor="rgba(255,255,255,0.7)",
        )


def label_rows(spans: list[tuple[datetime, datetime]], room: timedelta) -> list[int]:
    """A row for each label: the first row where the label before it has ended (its flag, or
    the room a label's text takes, whichever is longer) by the time this one starts."""
    rows = [0] * len(spans)
    free_from: list[datetime] = []  # per row, when its last label's room ends
    for i in sorted(range(len(spans)), key=lambda k: spans[k][0]):
        start, end = spans[i]
        row = next((r for r, free in enumerate(free_from) if start >= free), len(free_from))
        if row == len(free_from):
            free_from.append(start)
        free_from[row] = max(end, start + room)
        rows[i] = row
    return rows


def keep_zoom(fig: dict, relayout: dict | None) -> dict:
    """Re-apply the time range the user zoomed to (Dash's relayoutData) to a refreshed figure.

    A double-click (autorange) or no zoom leaves the figure's own range.
    """
    relayout = relayout or {}
    if "xaxis.range[0]" in relayout and "xaxis.range[1]" in relayout:
        span = [relayout["xaxis.range[0]"], relayout["xaxis.range[1]"]]
    elif "xaxis.range" in relayout:
        span = relayout["xaxis.range"]
    else:
        return fig
    layout = fig["layout"]
    return {**fig, "layout": {**layout, "xaxis": {**layout.get("xaxis", {}), "range": span}}}


def class_mood(timeline: pd.DataFrame, flags=()) -> dict:
    """Share of each emotion over time (stacked, faces only) and the valence line, flagged
    stretches shaded; a plain figure dict (go.Figure(it) where plotly's methods are needed)."""
    if timeline.empty or timeline["faces"].fillna(0).sum() == 0:
        return empty_figure("No faces found yet in this session").to_plotly_json()
    layout = two_axes()
    layout["yaxis"].update(title={"text": "share of faces"}, range=[0, 1])
    layout["yaxis2"].update(title={"text": "valence"}, range=[-1, 1])
    layout.update(
        title={
            "text": rests_on(timeline) + ("; bars above: flagged stretches, a row per kind" if flags else ""),
            "font": {"size": 12},
            "x": 0.01,
            "y": 0.985,
            "yanchor": "top",
        },
        shapes=flag_marks(flags),
        height=400,
        margin={"t": 44 + 12 * len({f.kind for f in flags}), "b": 80, "l": 55, "r": 55},
        legend={"orientation": "h", "y": -0.22},
        hovermode="x unified",
    )
    if len(timeline) == 1:  # one capture: a readable minute around it, not sub-millisecond ticks
        moment = timeline["time"].iloc[0]
        layout["xaxis"].update(range=[moment - pd.Timedelta(minutes=1), moment + pd.Timedelta(minutes=1)])
    return {"data": mood_traces(timeline), "layout": layout}


def rests_on(timeline: pd.DataFrame) -> str:
    """What the class chart's shares are made of: confident readings out of all tiles seen
    (camera-off tiles, unfound faces and guesses are in no share)."""
    read, tiles = int(timeline["read"].fillna(0).sum()), int(timeline["tiles"].fillna(0).sum())
    last = timeline.iloc[-1]
    return (
        f"Based on {read} confident readings of {tiles} tiles ({read / max(tiles, 1):.0%});"
        f" latest capture: {int(last['read'])} of {int(last['tiles'])} students"
    )


def at_screen(timeline: pd.DataFrame) -> dict:
    """Share of the class at their screen per capture, of the students with their camera on
    whose head pose was read or whose face was not found (a live camera nobody sits in front of)."""
    if timeline.empty or "watched" not in timeline or timeline["watched"].fillna(0).sum() == 0:
        return empty_figure("No head pose read yet in this session").to_plotly_json()
    frame = with_gaps(timeline)
    watched = frame["watched"].where(frame["watched"] > 0)
    share = (frame["at_screen"] / watched).round(3)
    line = {
        "type": "scatter",
        "mode": "lines+markers" if len(frame) < 30 else "lines",
        "x": frame["time"],
        "y": share,
        "name": "at their screen",
        "line": {"color": FLAG_COLORS["away"]},
        "customdata": np.stack([frame["at_screen"].fillna(0), frame["watched"].fillna(0)], axis=1),
        "hovertemplate": "%{y:.0%} (%{customdata[0]:.0f} of %{customdata[1]:.0f} with camera on)<extra></extra>",
    }
    layout = {
        "template": TEMPLATE,
        "height": 220,
        "margin": {"t": 10, "b": 30, "l": 55, "r": 20},
        "yaxis": {"range": [0, 1.05], "tickformat": ".0%", "title": {"text": "at their screen"}},
        "showlegend": False,
    }
    return {"data": [line], "layout": layout}


def snapshot(shares: dict[str, float]) -> dict:
    """The latest capture's share of each expression, as a plain figure dict (sent each capture)."""
    if not any(shares.values()):
        return empty_figure("No faces in the latest capture").to_plotly_json()
    bars = {
        "type": "bar",
        "x": list(shares),
        "y": list(shares.values()),
        "marker": {"color": [COLORS[n] for n in shares]},
        "text": [f"{v:.0%}" for v in shares.values()],
        "textposition": "outside",
    }
    layout = {"template": TEMPLATE, "height": 260, "margin": {"t": 10, "b": 30},
              "yaxis": {"range": [0, 1], "tickformat": ".0%"}}  # fmt: skip
    return {"data": [bars], "layout": layout}


def sparkline(minutes: list[datetime], valence) -> dict:
    """A plain figure dict: 50 of these per refresh, and plotly's validating objects cost 8 ms each."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [m.isoformat() for m in minutes],
                "y": [None if np.isnan(v) else round(float(v), 3) for v in valence],
                "line": {"width": 1.5},
            }
        ],
        "layout": {
            "height": 50,
            "margin": {"t": 0, "b": 0, "l": 0, "r": 0},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "range": [-1, 1]},
            "showlegend": False,
        },
    }


STATE_WORDS = {"camera_off": "camera off", "no_face": "no face found"}


def state_runs(observations: pd.DataFrame) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(state, first time, last time) of each stretch of captures in one state, in order."""
    states, times = observations["state"].tolist(), observations["time"].tolist()
    runs: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    for state, time in zip(states, times):
        if runs and runs[-1][0] == state:
            runs[-1] = (state, runs[-1][1], time)
        else:
            runs.append((state, time, time))
    return runs


def student_timeline(observations: pd.DataFrame, flags=()) -> go.Figure:
    if observations.empty:
        return empty_figure("No observations for this student")
    faces = observations[observations["state"] == "face"]
    fig = mood_figure(faces)
    step = observations["time"].diff().median() if len(observations) > 1 else pd.Timedelta(0)
    for state, start, end in state_runs(observations):
        start, end = start - step / 2, end + step / 2  # a one-capture stretch is one step wide
        if state != "face":  # said in words on the chart: a camera turned off is not a face unfound
            fig.add_vrect(
                x0=start, x1=end, fillcolor="#999", opacity=0.12, line_width=0,
                annotation_text=STATE_WORDS[state], annotation_position="top left", annotation_font_size=11,
            )  # fmt: skip
    span = observations["time"].max() - observations["time"].min() if len(observations) > 1 else None
    shade_flags(fig, flags, opacity=0.15, labelled=True, span=span)
    if not span:  # one capture: a readable minute around it, not sub-millisecond ticks
        moment = observations["time"].iloc[0]
        fig.update_xaxes(range=[moment - pd.Timedelta(minutes=1), moment + pd.Timedelta(minutes=1)])
    fig.update_layout(
        yaxis={"range": [0, 1], "title": {"text": "probability"}},
        yaxis2={"range": [-1, 1], "title": {"text": "valence"}},
        height=380,
        margin={"t": 20, "b": 30},
        legend={"orientation": "h"},
        hovermode="x unified",
    )
    return fig


def distribution(shares: dict[str, float]) -> go.Figure:
    fig = go.Figure(
        go.Pie(
            labels=list(shares),
            values=list(shares.values()),
            hole=0.45,
            marker={"colors": [COLORS[n] for n in shares]},
            sort=False,
            textposition="inside",  # a label outside a thin slice was cut off at the card's edge
            texttemplate="%{percent:.0%}",
        )
    )
    fig.update_layout(
        height=300,
        margin={"t": 10, "b": 10},
        uniformtext_minsize=10,
        uniformtext_mode="hide",
        legend={"yanchor": "middle", "y": 0.5},  # clear of the toolbar at the top right
    )
    return fig


LOOKING_ROWS = (STATE_WORDS["camera_off"], STATE_WORDS["no_face"], LOOKING_WORDS[AWAY], LOOKING_WORDS[SCREEN])


def student_looking(observations: pd.DataFrame) -> go.Figure:
    """Where one student looked, capture by capture: at the screen, away, no face, camera off
    (a row each), with the head's yaw and pitch in the hover."""
    if observations.empty or "looking" not in observations or observations["looking"].isna().all():
        return empty_figure("No head pose read for this student")
    rows = [
        STATE_WORDS.get(state) or LOOKING_WORDS.get(looking) or STATE_WORDS["no_face"]
        for state, looking in zip(observations["state"], observations["looking"])
    ]
    colors = {LOOKING_WORDS[SCREEN]: "#009E73", LOOKING_WORDS[AWAY]: FLAG_COLORS["away"]}
    fig = go.Figure(
        go.Scatter(
            x=observations["time"],
            y=rows,
            mode="markers",
            marker={"color": [colors.get(r, "#999999") for r in rows], "size": 7, "symbol": "line-ns-open"},
            customdata=np.stack([observations["yaw"], observations["pitch"]], axis=1),
            hovertemplate="%{y}: yaw %{customdata[0]:+.0f}°, pitch %{customdata[1]:+.0f}°<extra></extra>",
        )
    )
    fig.update_layout(
        height=200,
        margin={"t": 10, "b": 30, "l": 110, "r": 20},
        yaxis={"categoryorder": "array", "categoryarray": list(LOOKING_ROWS)},
        showlegend=False,
    )
    return fig
