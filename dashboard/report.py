"""A session's report as data, and as a self-contained HTML file (charts embedded, opens offline)."""

from __future__ import annotations

import html as escape
from dataclasses import dataclass

import pandas as pd

from core.flags import Flag
from dashboard import charts, queries
from dashboard.data import CONTEXT, flags_for, pick_session


@dataclass
class Report:
    info: queries.SessionInfo
    timeline: pd.DataFrame
    students: pd.DataFrame
    distribution: dict[str, float]
    flags: list[Flag]
    names: dict[int, dict]

    @property
    def class_summary(self) -> dict:
        captures = len(self.timeline)
        return {
            "captures": captures,
            "students": len(self.names),
            "mean_faces_per_capture": float(self.timeline["faces"].mean()) if captures else 0.0,
            "mean_valence": float(self.timeline["valence"].mean()) if captures else 0.0,
            "flags": len(self.flags),
        }


def build(session_id: int, anonymous: bool = False) -> Report:
    info = pick_session(session_id)
    engine = CONTEXT.engine()
    students = queries.student_summary(engine, info.id)
    names = queries.participants(engine, info.id)
    flags = flags_for(info.id)
    if anonymous:
        students = students.iloc[0:0]
        names = {}
        flags = [f for f in flags if f.participant_id is None]
    return Report(
        info,
        queries.class_timeline(engine, info.id),
        students,
        queries.emotion_distribution(engine, info.id),
        flags,
        names,
    )


def student_table(report: Report) -> pd.DataFrame:
    if report.students.empty:
        return report.students
    table = report.students.copy()
    table["flags"] = (
        table["participant_id"].map(lambda pid: sum(f.participant_id == pid for f in report.flags)).astype(int)
    )
    return table.drop(columns=["participant_id"])


def to_html(report: Report, anonymous: bool = False) -> str:
    mood = charts.class_mood(report.timeline, report.flags).to_html(full_html=False, include_plotlyjs=True)
    dist = charts.distribution(report.distribution).to_html(full_html=False, include_plotlyjs=False)
    summary = report.class_summary
    rows = "".join(
        f"<tr><td>{escape.escape(f.who(report.names))}</td><td>{f.kind}</td>"
        f"<td>{f.since:%H:%M}–{f.until:%H:%M}</td><td>{escape.escape(f.reason)}</td></tr>"
        for f in report.flags
    )
    students = "" if anonymous else student_table(report).round(3).to_html(index=False, classes="table", border=0)
    title = escape.escape(report.info.name)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ClassMood report: {title}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{padding:3px 8px;border-bottom:1px solid #ddd}}</style>
</head><body><h1>{title}</h1>
<p>{report.info.started_at:%Y-%m-%d %H:%M} – {report.info.ended_at or "running"}; {summary["captures"]} captures,
{summary["students"]} students, {summary["mean_faces_per_capture"]:.1f} faces per capture on average,
mean valence {summary["mean_valence"]:+.2f}.</p>
<h2>Class mood</h2>{mood}<h2>Emotion distribution</h2>{dist}
<h2>Flagged moments</h2><table><tr><th>who</th><th>flag</th><th>when</th><th>why</th></tr>{rows}</table>
{"" if anonymous else "<h2>Students</h2>" + students}
<p><small>Facial expressions are not feelings and the model errs, more for some classes and groups than others.
Use this as a prompt to check in with students, never as a judgement.</small></p></body></html>"""
