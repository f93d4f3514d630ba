"""Name corrections: on the student page, rename a participant or say it is the same student as
another (db.corrections); on the report page, give the session its class list (db.class_list).
Both do their own audit rows.

Plain form POSTs to /session/<id>/..., so the accounts guard (dashboard.signin) already refuses
another teacher's session before these run; with accounts on, each form carries the CSRF
token, and in token mode the SameSite=Strict cookie keeps other sites' forms out.
"""

from __future__ import annotations

import html as escape
import logging

from dash import Input, Output, State, clientside_callback, dcc, html
from flask import Response, redirect, request

from dashboard.data import CONTEXT
from dashboard.signin import csrf_field

logger = logging.getLogger(__name__)


def actor() -> str:
    from dashboard.viewer import viewer

    user = viewer()
    return user.username if user else "dashboard (run token)"


def register(server) -> None:
    from db.corrections import CorrectionError, merge, rename

    @server.route("/session/<int:session_id>/student/<int:participant_id>/rename", methods=["POST"])
    def rename_student(session_id: int, participant_id: int):
        try:
            rename(CONTEXT.engine(), session_id, participant_id, request.form.get("name", ""), actor())
        except CorrectionError as exc:
            return refused(f"/student/{session_id}/{participant_id}", str(exc))
        logger.info("session %d: participant %d renamed by %s", session_id, participant_id, actor())
        return redirect(f"/student/{session_id}/{participant_id}")

    @server.route("/session/<int:session_id>/student/<int:participant_id>/merge", methods=["POST"])
    def merge_student(session_id: int, participant_id: int):
        try:
            into = int(request.form.get("into", ""))
            moved = merge(CONTEXT.engine(), session_id, participant_id, into, actor())
        except ValueError as exc:  # CorrectionError, or not a number
            text = str(exc) if isinstance(exc, CorrectionError) else "choose the student to merge with"
            return refused(f"/student/{session_id}/{participant_id}", text)
        logger.info("session %d: participant %d merged into %d (%d readings)", session_id, participant_id, into, moved)
        return redirect(f"/student/{session_id}/{into}")

    @server.route("/session/<int:session_id>/class-list", methods=["POST"])
    def set_list(session_id: int):
        from core.roster import RosterError, parse_roster
        from db.class_list import set_class_list

        back = f"/report/{session_id}"
        try:
            roster = parse_roster(request.form.get("names", "").encode("utf-8"), "the class list")
            named, unmatched = set_class_list(CONTEXT.engine(), session_id, roster, actor())
        except (RosterError, CorrectionError) as exc:
            return refused(back, str(exc))
        logger.info("session %d: class list of %d set by %s", session_id, len(roster), actor())
        return redirect(back)


def refused(back: str, reason: str) -> Response:
    from dashboard.signin import plain_page

    body = f'<p id="correction-refused">Not changed: {escape.escape(reason)}.</p><p><a href="{back}">back</a></p>'
    return Response(plain_page("not changed", body), status=400, mimetype="text/html")


def correction_forms(session_id: int, participant_id: int, name: str, others: dict[int, str]) -> html.Div:
    """Rename this student, or merge them into another participant of the session."""
    base = f"/session/{session_id}/student/{participant_id}"
    rename_form = html.Form(
        [
            *csrf_field(),
            html.Label("Name", htmlFor="rename-input"),
            dcc.Input(id="rename-input", name="name", value=name, maxLength=200, style={"width": "20rem"}),
            html.Button("Rename", type="submit", id="rename-button", className="btn btn-outline-secondary btn-sm"),
        ],
        method="post",
        action=f"{base}/rename",
        className="mb-2 d-flex align-items-center gap-2",
    )
    choices = [html.Option("choose a student", value="")] + [
        html.Option(other, value=str(pid)) for pid, other in sorted(others.items(), key=lambda item: item[1])
    ]
    merge_form = html.Form(
        [
            *csrf_field(),
            html.Label("Same student as", htmlFor="merge-into"),
            html.Select(choices, id="merge-into", name="into"),
            html.Button("Merge", type="submit", id="merge-button", className="btn btn-outline-secondary btn-sm"),
        ],
        method="post",
        action=f"{base}/merge",
        className="d-flex align-items-center gap-2",
    )
    note = html.P(
        "A correction holds for the rest of this session and for your next session with the same class "
        "list; it is recorded in the audit log.",
        className="text-muted small mb-2",
    )
    return html.Div([note, rename_form, merge_form], id="name-corrections")


def class_list_card(session_id: int, names: dict[int, dict]) -> html.Div:
    """The session's class list (who on it was seen), and a form to paste or upload one."""
    from db.class_list import class_list

    roster = class_list(CONTEXT.engine(), session_id)
    if roster is None:
        status = "No class list: names are shown as their tags were read."
    else:
        shown = {entry["name"] for entry in names.values() if entry.get("listed")}
        missing = [s.name for s in roster.students if s.name not in shown]
        status = f"{len(roster)} students on the class list, {len(roster) - len(missing)} seen in this session."
        if missing:
            status += f" Not seen: {', '.join(missing[:40])}{' ...' if len(missing) > 40 else ''}."
    form = html.Form(
        [
            *csrf_field(),
            dcc.Upload(
                html.A("Choose a file", href="#", className="small"),
                id="class-list-upload",
                accept=".txt,.csv,text/plain,text/csv",
                className="mb-1",
            ),
            html.Textarea(
                id="class-list-text",
                name="names",
                placeholder="One name per line, or a CSV with a 'name' column (and 'id')",
                rows=5,
                className="form-control mb-2",
            ),
            html.Button(
                "Use this class list",
                type="submit",
                id="class-list-button",
                className="btn btn-outline-secondary btn-sm",
            ),
            html.Span(id="class-list-file", className="small text-muted ms-2"),
        ],
        method="post",
        action=f"/session/{session_id}/class-list",
    )
    return html.Div([html.P(status, id="class-list-status"), form], id="class-list")


# A chosen file fills the text box (UTF-8 only, checked again on the server) for a look before use.
clientside_callback(
    """function (contents, filename) {
        if (!contents) { return [window.dash_clientside.no_update, ""]; }
        try {
            const bytes = Uint8Array.from(atob(contents.split(",")[1]), c => c.charCodeAt(0));
            return [new TextDecoder("utf-8", {fatal: true}).decode(bytes), filename];
        } catch (e) {
            return ["", filename + " is not UTF-8 text: save it as UTF-8 and choose it again"];
        }
    }""",
    Output("class-list-text", "value"),
    Output("class-list-file", "children"),
    Input("class-list-upload", "contents"),
    State("class-list-upload", "filename"),
)
