"""Authentication: every route, the Dash callback endpoints included, needs a user.

Two modes (settings): ``auth_users`` = "user:password,..." checks HTTP Basic
credentials; ``auth_proxy_header`` (e.g. ``X-Forwarded-User``) trusts a reverse
proxy that has already authenticated the user and sets that header. Neither set:
no login (development only; :func:`install_auth` logs a warning).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

import flask

from occupancy.settings import SettingError, Settings

logger = logging.getLogger(__name__)

__all__ = ["check_basic", "install_auth", "parse_users"]

REALM = "workplace-occupancy"


def parse_users(raw: str | None) -> dict[str, str]:
    """``"alice:pw1,bob:pw2"`` -> ``{"alice": "pw1", "bob": "pw2"}``.

    A password may contain ``:``; an entry without one is a setting error.
    """
    users: dict[str, str] = {}
    for part in (raw or "").split(","):
        entry = part.strip()
        if not entry:
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise SettingError(
                f"setting auth_users: entry {user or entry[:1] + '...'!r} is not user:password"
            )
        users[user] = password
    return users


def check_basic(
    users: Mapping[str, str], username: str | None, password: str | None
) -> bool:
    """True when the pair matches (constant-time comparison of the password)."""
    if not username or password is None:
        return False
    expected = users.get(username)
    if expected is None:
        # Compare anyway so an unknown user takes as long as a wrong password.
        hmac.compare_digest(password.encode(), password.encode())
        return False
    return hmac.compare_digest(expected.encode(), password.encode())


def _refuse() -> flask.Response:
    return flask.Response(
        "Authentication required.\n",
        status=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def install_auth(server: flask.Flask, settings: Settings) -> str:
    """Add the before_request check to ``server``; return the mode (basic, proxy, none)."""
    header = (settings.auth_proxy_header or "").strip()
    users = parse_users(settings.auth_users)
    if header:
        mode = "proxy"
    elif users:
        mode = "basic"
    else:
        logger.warning(
            "dashboard authentication is OFF (set auth_users or auth_proxy_header)"
        )
        return "none"

    @server.before_request
    def _require_user() -> flask.Response | None:
        if mode == "proxy":
            user = flask.request.headers.get(header, "").strip()
            if user:
                flask.g.user = user
                return None
            logger.info(
                "refused %s %s: no %s header",
                flask.request.method,
                flask.request.path,
                header,
            )
            return _refuse()
        auth = flask.request.authorization
        if (
            auth is not None
            and auth.type == "basic"
            and check_basic(users, auth.username, auth.password)
        ):
            flask.g.user = auth.username
            return None
        logger.info(
            "refused %s %s: bad or missing credentials",
            flask.request.method,
            flask.request.path,
        )
        return _refuse()

    # Dash registers its own before_request hooks (the pages router); ours must run first.
    funcs = server.before_request_funcs.setdefault(None, [])
    funcs.insert(0, funcs.pop())
    logger.info("dashboard authentication: %s", mode)
    return mode
