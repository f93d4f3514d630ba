"""Who may see the class, until accounts exist: whoever holds this run's secret token.

`classmood dashboard` and `classmood run` make a token per run and print the address with it
(as Jupyter does); the first request carrying it gets an HttpOnly, SameSite=Strict cookie, and
every other request (pages, Dash's callbacks, exports, assets) without the cookie is refused.
So a second user of the same computer, who can reach 127.0.0.1 too, cannot read the class.
A page opened with the token is sent on to the same address without it, so the token leaves
the address bar and the history; the cookie is named for the port (browsers send a cookie
for 127.0.0.1 to every port, and two dashboards must not take each other's) and holds a digest
of the token, not the token. Listening beyond this computer is refused outright: that needs
accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets

from flask import Flask, Response, g, redirect, request

logger = logging.getLogger(__name__)

TOKEN_ENV = "CLASSMOOD_DASHBOARD_TOKEN"  # set it to choose the token (scripts, tests)
COOKIE = "classmood_token"  # + "_<port>"
PAGE_PREFIXES_KEEPING_TOKEN = ("/_dash", "/_reload", "/assets/", "/export/", "/_favicon")
REFUSED = "ClassMood: open the address printed when the dashboard started; it carries this run's secret.\n"


class AccessError(RuntimeError):
    """The dashboard cannot be served as asked; one line for the user."""


def run_token() -> str:
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str) -> None:
    if not is_loopback(host):
        raise AccessError(
            f"listening on {host} would show every class to the network; that needs accounts, which "
            "ClassMood does not have yet. Use --host 127.0.0.1"
        )


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison that takes any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def cookie_name(port: int | None) -> str:
    return f"{COOKIE}_{port}" if port else COOKIE


def require_token(server: Flask, token: str, port: int | None = None) -> None:
    """Refuse every request that carries neither the token nor the cookie it leaves."""
    name = cookie_name(port)
    value = hashlib.sha256(f"classmood cookie:{token}".encode()).hexdigest()

    @server.before_request
    def check():
        given = request.args.get("token", "")
        if given and same_secret(given, token):
            g.remember_token = True
            if request.method == "GET" and not request.path.startswith(PAGE_PREFIXES_KEEPING_TOKEN):
                return redirect(request.path)  # the page again, without the token in its address
            return None
        if same_secret(request.cookies.get(name, ""), value):
            return None
        logger.warning("refused %s %r from %s: no valid token", request.method, request.path, request.remote_addr)
        return Response(REFUSED, status=403, mimetype="text/plain")

    @server.after_request
    def remember(response: Response) -> Response:
        if g.get("remember_token"):
            response.set_cookie(name, value, httponly=True, samesite="Strict")
        return response


SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",  # no address of ours (a session id, a share link) in another site's logs
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def add_security_headers(server: Flask) -> None:
    """Headers on every answer, in both access modes."""

    @server.after_request
    def headers(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response
