"""A session's report as data, and as a self-contained HTML file (charts embedded, opens offline)."""

from __future__ import annotations

import html as escape
from dataclasses import dataclass

import pandas as pd

from core.flags import Flag
from core.labels import EMOTIONS
from dashboard import clock, queries
from dashboard.data import CONTEXT, attention_only, captures_text, flags_for, pick_session, shown_flags


@dataclass
class Report:
    info: queries.SessionInfo
    timeline: pd.DataFrame
    students: pd.DataFrame
    distribution: dict[str, float]
    flags: list[Flag]
    names: dict[int, dict]
    capture_count: int = 0  # every capture row, as the live line counts them (queries.capture_errors)
    failed_captures: int = 0  # of those, the ones that hold an error instead of tiles
    student_count: int = 0  # also in the anonymous view, whose names are left out
    no_expressions: bool = False  # read for attention only (--signals attention): no expression anywhere

    @property
    def class_summary(self) -> dict:
        """One count of captures everywhere (terminal, live view, report): every capture the
        agent recorded, the failed ones included and said apart."""
        read = len(self.timeline)  # captures with tiles
        return {
            "captures": self.capture_count,
            "failed_captures": self.failed_captures,
            "captures_text": captures_text(self.capture_count, self.failed_captures),
            "students": self.student_count,
            "mean_faces_per_capture": float(self.timeline["faces"].mean()) if read else 0.0,
            "mean_valence": float(self.timeline["valence"].mean()) if read and not self.no_expressions else 0.0,
            "at_screen": at_screen_share(self.timeline),
            "flags": len(self.flags),
        }

    def said(self) -> str:
        """The summary sentence every format prints: counts, then mood or where the class looked."""
        s = self.class_summary
        text = f"{s['captures_text']}, {s['students']} students, {s['mean_faces_per_capture']:.1f} faces per capture"
        if not self.no_expressions:
            text += f", mean valence {s['mean_valence']:+.2f}"
        if s["at_screen"] is not None:
            text += f", at their screen in {s['at_screen']:.0%} of the readings with the camera on"
        return text + f", {s['flags']} flag{'' if s['flags'] == 1 else 's'}."


def at_screen_share(timeline: pd.DataFrame) -> float | None:
    """Of the readings with the camera on whose pose was read (or no face found): at the screen."""
    if timeline.empty or "watched" not in timeline or not timeline["watched"].fillna(0).sum():
        return None
    return float(timeline["at_screen"].fillna(0).sum() / timeline["watched"].sum())


def build(session_id: int, anonymous: bool = False) -> Report:
    info = pick_session(session_id)
    engine = CONTEXT.engine()
    students = queries.student_summary(engine, info.id)
    names = queries.participants(engine, info.id)
    student_count = len(names)
    flags = shown_flags(info, flags_for(info.id))
    if anonymous:
        students = students.iloc[0:0]
        names = {}
        flags = [f for f in flags if f.participant_id is None]
    timeline = queries.class_timeline(engine, info.id)
    total, failed, _ = queries.capture_errors(engine, info.id)
    if not attention_only(info):
        distribution = queries.emotion_distribution(engine, info.id)
        return Report(info, timeline, students, distribution, flags, names, total, failed, student_count)
    students = students.drop(columns=[c for c in EXPRESSION_COLUMNS if c in students.columns])
    timeline = timeline.drop(columns=[c for c in ("valence", *EMOTIONS) if c in timeline.columns])
    return Report(info, timeline, students, {}, flags, names, total, failed, student_count, no_expressions=True)


def student_table(report: Report) -> pd.DataFrame:
    if report.students.empty:
        return report.students
    table = report.students.copy()
    table["flags"] = (
        table["participant_id"].map(lambda pid: sum(f.participant_id == pid for f in report.flags)).astype(int)
    )
    return table.drop(columns=["participant_id"])


#: The student table as people read it: (column, header, kind); kind "percent" for shares
#: (0..1, shown as whole percentages), "valence" for -1..+1, "count" and "text" as they are.
STUDENT_COLUMNS: list[tuple[str, str, str]] = [
    ("student", "Student", "text"),
    ("observations", "Captures", "count"),
    ("face_share", "Face seen", "percent"),
    ("camera_off_share", "Camera off", "percent"),
    ("at_screen_share", "At their screen", "percent"),
    ("mean_valence", "Mean valence (-1 to +1)", "valence"),
    ("dominant", "Most shown expression", "text"),
    *[(emotion, emotion.capitalize(), "percent") for emotion in EMOTIONS],
    ("flags", "Flags", "count"),
]


EXPRESSION_COLUMNS = ("mean_valence", "dominant", *EMOTIONS)  # what --signals attention never shows


def readable_cell(value, kind: str) -> str:
    """One cell as shown in the HTML and PDF reports."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if kind == "percent":
        return f"{100 * float(value):.0f} %"
    if kind == "valence":
        return f"{float(value):+.2f}"
    return str(value)


def readable_students(report: Report) -> tuple[list[str], list[list[tuple[str, object]]]]:
    """(headers, rows of (shown text, sort value)) of the student table, columns in words."""
    table = student_table(report)
    columns = [(c, header, kind) for c, header, kind in STUDENT_COLUMNS if c in table.columns]
    rows = [
        [(readable_cell(record[c], kind), record[c]) for c, _, kind in columns] for record in table.to_dict("records")
    ]
    return [header for _, header, _ in columns], rows


def students_html(report: Report) -> str:
    """A table whose headers sort it on a click (by the numbers, not the shown text)."""
    headers, rows = readable_students(report)
    head = "".join(f'<th onclick="sortBy(this)">{escape.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-value="{escape.escape(str(value))}">{escape.escape(text)}</td>' for text, value in row)
        + "</tr>"
        for row in rows
    )
    return f'<table class="students"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{SORT_SCRIPT}'


SORT_SCRIPT = """<script>
function sortBy(th) {
  const table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
  const down = th.dataset.order !== "down"; th.dataset.order = down ? "down" : "up";
  const key = td => { const v = td.dataset.value, n = parseFloat(v); return isNaN(n) ? v.toLowerCase() : n; };
  const rows = [...body.rows].sort((a, b) => {
    const x = key(a.cells[col]), y = key(b.cells[col]);
    return (x < y ? -1 : x > y ? 1 : 0) * (down ? -1 : 1);
  });
  rows.forEach(r => body.appendChild(r));
}
</script>"""


def to_html(report: Report, anonymous: bool = False) -> str:
    from dashboard.static_charts import figures

    charts = ""
    if not report.no_expressions:
        mood, dist = figures(report)
        charts = f"<h2>Class mood</h2>{mood}<h2>Emotion distribution</h2>{dist}"
    rows = "".join(
        f"<tr><td>{escape.escape(f.who(report.names))}</td><td>{f.kind}</td>"
        f"<td>{f.since:%H:%M}–{f.until:%H:%M}</td><td>{escape.escape(f.reason)}</td></tr>"
        for f in report.flags
    )
    head = "<tr><th>who</th><th>flag</th><th>when</th><th>why</th></tr>"
    flag_table = (
        f"<table>{head}{rows}</table>" if rows else "<p>No flags: nothing in this session crossed a threshold.</p>"
    )
    students = "" if anonymous or report.students.empty else students_html(report)
    title = escape.escape(report.info.name)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ClassMood report: {title}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{padding:3px 8px;border-bottom:1px solid #ddd}} table.students th{{cursor:pointer}}
table.students td{{text-align:right}} table.students td:first-child{{text-align:left}}</style>
</head><body><h1>{title}</h1>
<p>{clock.span(report.info.started_at, report.info.ended_at)}; {escape.escape(report.said())}</p>
{charts}
<h2>Flagged moments</h2>{flag_table}
{"" if anonymous else "<h2>Students</h2>" + students}
<p><small>{escape.escape(caveat(report))}</small></p></body></html>"""


def caveat(report: Report) -> str:
    if report.no_expressions:
        return (
            "Read for attention only: presence, camera and where each face was turned; no expression was read."
            " Looking away is not the same as not listening; use this as a prompt, never as a judgement."
        )
    return (
        "Facial expressions are not feelings and the model errs, more for some classes and groups than others."
        " Use this as a prompt to check in with students, never as a judgement."
    )
