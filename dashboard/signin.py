"""Accounts on the dashboard: sign-in, who sees which session, and the guards around every route.

Once the database holds an account (`classmood users add`), the dashboard asks everyone to
sign in (Flask-Login session cookie: HttpOnly, SameSite=Strict) instead of the per-run token.
A teacher sees only the sessions their agent recorded (`--teacher`), an admin all of them.

- Every request but the sign-in page and the static files of Dash's own code needs a signed-in
  user: the pages, Dash's callbacks (where the data travels), exports.
- A URL naming another teacher's session (/report/<id>, /student/<id>/..., /share/<id>,
  /export/<id>/...) answers 404, as for a session that does not exist, and is logged.
- Every POST carries a CSRF token (Flask-WTF): the sign-in form in a hidden field, Dash's
  callbacks in the X-CSRFToken header that Dash's renderer copies from the `_csrf_token`
  cookie set here.
- Wrong passwords are rate-limited per account name (Flask-Limiter): the 11th within a minute
  is refused with 429 before the password is even checked.
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets

from flask import Flask, Response, abort, g, redirect, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from sqlalchemy import Engine

from dashboard.viewer import may_see
from db.accounts import User, end_sign_ins, find_user, same_name, verify
from db.shares import SHARE_DAYS

logger = logging.getLogger(__name__)

SECRET_ENV = "CLASSMOOD_SECRET_KEY"  # keep sign-ins across restarts (and across several servers)
SECURE_ENV = "CLASSMOOD_SECURE_COOKIES"  # "1" behind a TLS proxy: cookies are sent over HTTPS only
SIGN_IN_LIMIT = "10 per minute"  # wrong passwords per account name
ADDRESS_LIMIT = "30 per minute"  # wrong passwords per client address, whatever names it tries
PUBLIC_PREFIXES = ("/login", "/shared/", "/_dash-component-suites/", "/assets/", "/_favicon.ico", "/favicon.ico")
SESSION_PATH = re.compile(r"^/(?:report|share|student|export|session)/(\d+)(?:/|$)")
CSRF_COOKIE = "_csrf_token"  # the cookie name Dash's renderer reads for its X-CSRFToken header


class FlaskUser:
    """The Flask-Login face of a db.accounts.User."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        """The account's login key, never its row id: ids are reused, keys are not, and a new
        key at sign-out ends every copy of the cookie."""
        return self.user.login_key


def require_accounts(server: Flask, engine: Engine) -> None:
    """Sign-in, CSRF, rate limit and the guards; called by create_app when accounts exist."""
    secure = os.environ.get(SECURE_ENV) == "1"
    server.config.update(
        SECRET_KEY=os.environ.get(SECRET_ENV) or secrets.token_hex(32),
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,  # valid for the sign-in session, not one hour of a lecture
    )
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://", default_limits=[])
    manager = LoginManager(server)

    @manager.user_loader
    def load(login_key: str):
        user = find_user(engine, login_key)
        return user and FlaskUser(user)

    @server.before_request
    def guard():
        g.accounts_on = True
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if not current_user.is_authenticated:
            logger.warning("refused %s %r from %s: not signed in", request.method, path, request.remote_addr)
            if request.method == "GET" and not path.startswith(("/_dash", "/export")):
                return redirect(f"/login?next={path}")
            return Response("ClassMood: sign in first.\n", status=401, mimetype="text/plain")
        match = SESSION_PATH.match(path)
        if match and not may_see(engine, int(match.group(1))):
            logger.warning(
                "refused %s %r to %s: another teacher's session", request.method, path, current_user.user.username
            )
            abort(404)
        return None

    CSRFProtect(server)  # after the guard: an anonymous request hears "sign in", not "CSRF"

    @server.after_request
    def csrf_cookie(response: Response) -> Response:
        if current_user and current_user.is_authenticated:
            response.set_cookie(CSRF_COOKIE, generate_csrf(), httponly=False, samesite="Strict", secure=secure)
        return response

    @server.errorhandler(429)
    def too_many(error):
        wait = getattr(error, "retry_after", None) or 60
        notice = f"Too many wrong passwords. Wait {wait} seconds, then sign in again."
        return Response(sign_in_page("/", notice), status=429, mimetype="text/html", headers={"Retry-After": str(wait)})

    @server.errorhandler(CSRFError)
    def csrf_refused(error):
        logger.warning("refused %s %r: %s", request.method, request.path, error.description)
        return Response(f"ClassMood: {error.description}\n", status=400, mimetype="text/plain")

    def failed_sign_in(response: Response) -> bool:
        return response.status_code == 401

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(
        SIGN_IN_LIMIT,
        key_func=lambda: same_name(request.form.get("username", "")[:200]) or "-",
        deduct_when=failed_sign_in,
    )
    @limiter.limit(ADDRESS_LIMIT, key_func=get_remote_address, deduct_when=failed_sign_in)
    def login():
        target = safe_next(request.values.get("next", "/"))
        if request.method == "GET":
            return sign_in_page(target)
        user = verify(engine, request.form.get("username", "").strip(), request.form.get("password", ""))
        if user is None:
            logger.warning("failed sign-in for %r from %s", request.form.get("username", "")[:80], request.remote_addr)
            return Response(sign_in_page(target, "Wrong name or password."), status=401, mimetype="text/html")
        login_user(FlaskUser(user))
        return redirect(target)

    @server.route("/session/<int:session_id>/delete", methods=["POST"])
    def delete_session(session_id: int):
        """Delete one session (its owner or an admin; the guard has checked): a confirmation
        page first, then the deletion, recorded in the audit table."""
        if request.form.get("confirm") != "yes":
            return confirm_delete_page(session_id)
        from db.retention import delete_session_by

        removed = delete_session_by(engine, session_id, current_user.user.username)
        logger.info("session %d deleted by %s: %s", session_id, current_user.user.username, removed)
        return redirect("/sessions")

    @server.route("/shared/<token>")
    def shared(token: str):
        """The aggregate view (no names, no per-student rows) for whoever holds a live link."""
        from dashboard import report
        from dashboard.data import NoData
        from db.shares import LinkExpired, session_of

        try:
            session_id = session_of(engine, token)
            if session_id is None:
                raise NoData("no such link, or revoked")
            g.accounts_on = False  # the link is the permission, whoever is signed in (or not)
            page = report.to_html(report.build(session_id, anonymous=True), anonymous=True)
        except LinkExpired:
            return Response("ClassMood: this share link has expired.\n", status=410, mimetype="text/plain")
        except NoData:
            logger.warning("refused share link from %s: not a valid link", request.remote_addr)
            abort(404)
        return Response(page, mimetype="text/html")

    @server.route("/session/<int:session_id>/share", methods=["POST"])
    def make_share_link(session_id: int):
        """A new share link (its owner or an admin; the guard has checked), shown once."""
        from db.shares import create_link

        secret = create_link(engine, session_id, current_user.user.username)
        return new_link_page(session_id, request.host_url.rstrip("/") + "/shared/" + secret)

    @server.route("/session/<int:session_id>/share/<int:link_id>/revoke", methods=["POST"])
    def revoke_share_link(session_id: int, link_id: int):
        from db.shares import revoke_link

        if not revoke_link(engine, session_id, link_id, current_user.user.username):
            abort(404)
        return redirect(f"/report/{session_id}")

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        if request.method == "GET":  # a page with the button: signing out changes state, so it is a POST
            return sign_out_page()
        if current_user.is_authenticated:
            end_sign_ins(engine, current_user.user.login_key)
        logout_user()
        return redirect("/login")


SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%=&?+-]*")


def safe_next(target: str) -> str:
    """Only a path on this server: an open redirect would let a link that looks like ours send
    a teacher elsewhere after sign-in. Browsers drop tabs and newlines from a URL and read "\\"
    as "/", so "/\t/evil.example" is "//evil.example" to them: only plain path characters pass."""
    return target if SAFE_PATH.fullmatch(target) else "/"


def plain_page(title: str, body: str, width_rem: int = 24) -> str:
    """A small HTML page outside Dash (sign-in, sign-out, a confirmation): these must work
    before any data may be served."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ClassMood: {title}</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"></head>
<body class="container-fluid" style="max-width: {width_rem}rem; margin-top: 4rem">
{body}</body></html>"""


def sign_in_page(target: str, problem: str = "") -> str:
    notice = f'<p class="text-danger" id="sign-in-problem">{html.escape(problem)}</p>' if problem else ""
    return plain_page(
        "sign in",
        f"""<h4>ClassMood</h4>{notice}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{generate_csrf()}">
<input type="hidden" name="next" value="{html.escape(target)}">
<p><label>Name<br><input name="username" id="username" autocomplete="username" required autofocus></label></p>
<p><label>Password<br><input name="password" id="password" type="password" autocomplete="current-password"
required></label></p>
<p><button type="submit" id="sign-in">Sign in</button></p>
</form>""",
    )


def sign_out_page() -> str:
    return plain_page(
        "sign out",
        f"""<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{generate_csrf()}">
<button type="submit" id="sign-out">Sign out</button> <a href="/">back</a></form>""",
    )


def new_link_page(session_id: int, link: str) -> str:
    return plain_page(
        "share link",
        f"""<p>Anyone with this link sees the class aggregate of session {session_id} (no names) for
{SHARE_DAYS} days, until you revoke it on the report page. It is shown only now: copy it.</p>
<p><input id="new-share-link" value="{html.escape(link)}" size="60" readonly></p>
<p><a href="/report/{session_id}">back to the report</a></p>""",
        width_rem=40,
    )


def share_forms(engine: Engine, session_id: int) -> list:
    """The report page's share controls: make a link, and each live link with its revoke button."""
    from dash import html

    from db.shares import links_of

    live = [link for link in links_of(engine, session_id) if not link.revoked]
    items = [
        html.Li(
            [
                f"made by {link.created_by} {link.created_at:%Y-%m-%d %H:%M}, works until {link.expires_at:%Y-%m-%d}",
                post_button("Revoke", f"/session/{session_id}/share/{link.id}/revoke", f"revoke-{link.id}"),
            ]
        )
        for link in live
    ]
    made = post_button(f"Share link (no names; works {SHARE_DAYS} days)", f"/session/{session_id}/share", "share-link")
    return [made, html.Ul(items, id="share-links", className="small mt-2")] if items else [made]


def csrf_field() -> list:
    """The CSRF token's hidden field, for a Dash form that POSTs, where accounts are on (token
    mode has no CSRF tokens: its SameSite=Strict cookie keeps other sites' forms out)."""
    if not g.get("accounts_on"):
        return []
    from dash import dcc

    return [dcc.Input(type="hidden", name="csrf_token", value=generate_csrf())]


def post_button(label: str, action: str, element_id: str, style: str = "btn-outline-secondary"):
    """A button that POSTs a form with the CSRF token (Dash components for the report page)."""
    from dash import html

    return html.Form(
        [
            *csrf_field(),
            html.Button(label, type="submit", className=f"btn {style} btn-sm", id=element_id),
        ],
        method="post",
        action=action,
        className="d-inline ms-2",
    )


def delete_form(session_id: int):
    """The report page's delete button."""
    return post_button("Delete this session", f"/session/{session_id}/delete", "delete", "btn-outline-danger")


def confirm_delete_page(session_id: int) -> str:
    return plain_page(
        "delete a session",
        f"""<p>Delete session {session_id} with every observation, capture and student row in it?
This cannot be undone.</p>
<form method="post" action="/session/{session_id}/delete">
<input type="hidden" name="csrf_token" value="{generate_csrf()}"><input type="hidden" name="confirm" value="yes">
<button type="submit" id="confirm-delete" class="btn btn-danger">Delete</button>
<a href="/report/{session_id}">keep it</a>
</form>""",
        width_rem=32,
    )
