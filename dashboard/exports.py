"""Download routes: raw observations and per-student summary as CSV, the report as HTML."""

from __future__ import annotations

import csv
import io

from flask import Response, abort

from dashboard import queries, report
from dashboard.data import CONTEXT, NoData, attention_only, pick_session

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """A text cell a spreadsheet would run as a formula (a name like "=HYPERLINK(...)") gets a
    leading quote (OWASP's CSV injection advice); numbers stay numbers."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell


DIGITS = 4  # a probability or a share to 1/10000: what the model can say, not float noise


def exported(cell):
    return round(cell, DIGITS) if isinstance(cell, float) else cell


def register(server) -> None:
    register_pdf(server)

    @server.route("/export/<int:session_id>/observations.csv")
    def observations_csv(session_id: int):
        try:
            info = pick_session(session_id)
            header, rows = queries.raw_observations(CONTEXT.engine(), info.id, not attention_only(info))
        except NoData:
            abort(404)

        def stream():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(header)
            for row in rows:
                writer.writerow([spreadsheet_safe(exported(cell)) for cell in row])
                if buffer.tell() > 65536:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        audited(session_id, "observations.csv")
        return Response(stream(), mimetype="text/csv", headers=_attachment(f"session-{session_id}-observations.csv"))

    @server.route("/export/<int:session_id>/students.csv")
    def students_csv(session_id: int):
        try:
            table = report.student_table(report.build(session_id))
        except NoData:
            abort(404)
        audited(session_id, "students.csv")
        table = table.map(spreadsheet_safe)
        return Response(
            table.to_csv(index=False, float_format=f"%.{DIGITS}f"),
            mimetype="text/csv",
            headers=_attachment(f"session-{session_id}-students.csv"),
        )

    @server.route("/export/<int:session_id>/report.html")
    @server.route("/export/<int:session_id>/share.html")
    def report_html(session_id: int):
        from flask import request

        anonymous = request.path.endswith("share.html")
        try:
            page = report.to_html(report.build(session_id, anonymous), anonymous)
        except NoData:
            abort(404)
        kind = f"{'share' if anonymous else 'report'}.html"
        name = f"session-{session_id}-{kind}"
        audited(session_id, kind)
        return Response(page, mimetype="text/html", headers=_attachment(name))


def register_pdf(server) -> None:
    @server.route("/export/<int:session_id>/report.pdf")
    def report_pdf(session_id: int):
        from dashboard.pdf import to_pdf

        try:
            document = to_pdf(report.build(session_id))
        except NoData:
            abort(404)
        audited(session_id, "report.pdf")
        return Response(document, mimetype="application/pdf", headers=_attachment(f"session-{session_id}-report.pdf"))


def audited(session_id: int, what: str) -> None:
    """An export leaves the dashboard with data about students: the audit table records who took it."""
    from sqlalchemy.orm import Session

    from dashboard.viewer import viewer
    from db.retention import record

    user = viewer()
    with Session(CONTEXT.engine()) as db, db.begin():
        record(db, user.username if user else "dashboard (run token)", "export", f"session {session_id} {what}", {})


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
