"""Who may see the class, until accounts exist: whoever holds this run's secret token.

`classmood dashboard` and `classmood run` make a token per run and print the address with it
(as Jupyter does); the first request carrying it gets an HttpOnly, SameSite=Strict cookie, and
every other request (pages, Dash's callbacks, exports, assets) without the cookie is refused.
So a second user of the same computer, who can reach 127.0.0.1 too, cannot read the class.
Listening beyond this computer is refused outright: that needs accounts.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets

from flask import Flask, Response, g, request

logger = logging.getLogger(__name__)

TOKEN_ENV = "CLASSMOOD_DASHBOARD_TOKEN"  # set it to choose the token (scripts, tests)
COOKIE = "classmood_token"
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


def require_token(server: Flask, token: str) -> None:
    """Refuse every request that carries neither the token nor the cookie it leaves."""

    @server.before_request
    def check():
        given = request.args.get("token", "")
        if given and hmac.compare_digest(given, token):
            g.remember_token = True
            return None
        if hmac.compare_digest(request.cookies.get(COOKIE, ""), token):
            return None
        logger.warning("refused %s %s from %s: no valid token", request.method, request.path, request.remote_addr)
        return Response(REFUSED, status=403, mimetype="text/plain")

    @server.after_request
    def remember(response: Response) -> Response:
        if g.get("remember_token"):
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response
