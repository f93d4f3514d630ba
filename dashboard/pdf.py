"""The session report as PDF, drawn with matplotlib (no browser needed)."""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from dashboard import clock, static_charts  # noqa: E402
from dashboard.report import caveat, readable_students  # noqa: E402

ROWS_A_PAGE = 22


def to_pdf(report) -> bytes:
    """The report as PDF bytes. Names are drawn as plain text: with matplotlib's math text on,
    a name holding "$...$" would be typeset as a formula or break the drawing."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"text.parse_math": False}), PdfPages(buffer) as pdf:
        fig = plt.figure(figsize=(11.7, 8.3))
        fig.suptitle(f"ClassMood report: {report.info.name}", fontsize=16, x=0.05, ha="left")
        fig.text(
            0.05,
            0.9,
            textwrap.fill(f"{clock.span(report.info.started_at, report.info.ended_at)}; {report.said()}", 150),
            fontsize=10,
        )
        if not report.no_expressions:
            static_charts.class_mood(
                fig.add_axes((0.06, 0.42, 0.58, 0.42)), report.timeline, clock.zone_text(report.info.started_at)
            )
            static_charts.distribution(fig.add_axes((0.7, 0.45, 0.27, 0.38)), report.distribution)
        lines = [f"{f.kind}: {f.who(report.names)}, {f.since:%H:%M}-{f.until:%H:%M}, {f.reason}" for f in report.flags]
        fig.text(0.05, 0.27, "Flagged moments\n" + ("\n".join(lines[:14]) or "none"), fontsize=9, va="top")
        fig.text(0.05, 0.02, textwrap.fill(caveat(report), 180), fontsize=7, color="gray")
        pdf.savefig(fig)
        plt.close(fig)
        if not report.students.empty:
            wanted = (
                "Student", "Captures", "Face seen", "Camera off", "At their screen", "Mean valence (-1 to +1)",
                "Most shown expression",
                "Flags",
            )  # fmt: skip
            headers, rows = readable_students(report)
            keep = [headers.index(h) for h in wanted if h in headers]
            cells = [[row[i][0] for i in keep] for row in rows]
            for start in range(0, len(cells), ROWS_A_PAGE):
                fig = plt.figure(figsize=(11.7, 8.3))  # every page landscape, like the first
                ax = fig.add_axes((0.04, 0.04, 0.92, 0.88))
                ax.axis("off")
                table = ax.table(
                    cellText=cells[start : start + ROWS_A_PAGE],
                    colLabels=[textwrap.fill(headers[i], 14) for i in keep],
                    loc="upper center",
                    cellLoc="right",
                )
                table.auto_set_font_size(False)
                table.set_fontsize(10)
                table.scale(1, 1.35)
                for (row, column), cell in table.get_celld().items():
                    if column == 0:
                        cell.set_text_props(ha="left")
                    if row == 0:
                        cell.set_text_props(weight="bold")
                        cell.set_height(cell.get_height() * 2)  # headers wrapped on two lines
                ax.set_title(f"Students ({start + 1}-{min(start + ROWS_A_PAGE, len(cells))} of {len(cells)})")
                pdf.savefig(fig)
                plt.close(fig)
    return buffer.getvalue()
