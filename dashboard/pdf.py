"""The session report as PDF, drawn with matplotlib (no browser needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from core.labels import EMOTIONS  # noqa: E402
from dashboard import clock  # noqa: E402
from dashboard.charts import COLORS  # noqa: E402


def to_pdf(report) -> bytes:
    """The report as PDF bytes. Names are drawn as plain text: with matplotlib's math text on,
    a name holding "$...$" would be typeset as a formula or break the drawing."""
    buffer = io.BytesIO()
    summary = report.class_summary
    with matplotlib.rc_context({"text.parse_math": False}), PdfPages(buffer) as pdf:
        fig = plt.figure(figsize=(11.7, 8.3))
        fig.suptitle(f"ClassMood report: {report.info.name}", fontsize=16, x=0.05, ha="left")
        fig.text(
            0.05,
            0.9,
            f"{clock.span(report.info.started_at, report.info.ended_at)}; {summary['captures_text']}, "
            f"{summary['students']} students, mean valence {summary['mean_valence']:+.2f}, "
            f"{summary['flags']} flags.",
            fontsize=10,
        )
        mood = fig.add_axes((0.06, 0.35, 0.6, 0.5))
        timeline = report.timeline
        if not timeline.empty:
            mood.stackplot(
                timeline["time"],
                *[timeline[n].fillna(0) for n in EMOTIONS],
                labels=EMOTIONS,
                colors=[COLORS[n] for n in EMOTIONS],
            )
            valence = mood.twinx()
            valence.plot(timeline["time"], timeline["valence"], color="black", linewidth=1)
            valence.set_ylim(-1, 1)
            valence.set_ylabel("valence")
            mood.legend(loc="upper left", fontsize=7, ncol=4)
        mood.set_ylim(0, 1)
        mood.set_ylabel("share of faces")
        mood.set_title("Class mood", fontsize=11)
        pie = fig.add_axes((0.72, 0.45, 0.25, 0.35))
        values = [report.distribution[n] for n in EMOTIONS]
        if sum(values) > 0:
            pie.pie(values, labels=EMOTIONS, colors=[COLORS[n] for n in EMOTIONS], textprops={"fontsize": 7})
        pie.set_title("Emotion distribution", fontsize=11)
        lines = [f"{f.kind}: {f.who(report.names)}, {f.since:%H:%M}-{f.until:%H:%M}, {f.reason}" for f in report.flags]
        fig.text(0.05, 0.28, "Flagged moments\n" + ("\n".join(lines[:14]) or "none"), fontsize=8, va="top")
        fig.text(
            0.05,
            0.02,
            "Facial expressions are not feelings and the model errs; use this as a prompt to "
            "check in, never as a judgement.",
            fontsize=7,
            color="gray",
        )
        pdf.savefig(fig)
        plt.close(fig)
        if not report.students.empty:
            from dashboard.report import readable_students

            wanted = ("Student", "Captures", "Face seen", "Mean valence (-1 to +1)", "Most shown expression", "Flags")
            headers, rows = readable_students(report)
            keep = [headers.index(h) for h in wanted if h in headers]
            cells = [[row[i][0] for i in keep] for row in rows]
            for start in range(0, len(cells), 35):
                fig = plt.figure(figsize=(8.3, 11.7))
                ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
                ax.axis("off")
                chunk = cells[start : start + 35]
                ax.table(cellText=chunk, colLabels=[headers[i] for i in keep], loc="upper center", fontsize=8)
                ax.set_title("Students", fontsize=11)
                pdf.savefig(fig)
                plt.close(fig)
    return buffer.getvalue()
