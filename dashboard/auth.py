"""Authentication and the dashboard's fail-closed guards.

Every route, the Dash callback endpoints included, needs a user, except
``GET /health`` (no login, no detail: a health check must work under auth).

Two modes (settings): ``auth_users`` = "user:password,..." checks HTTP Basic
credentials; ``auth_proxy_header`` (e.g. ``X-Forwarded-User``) trusts a reverse
proxy that has already authenticated the user and sets that header, **only** on
requests whose peer address is in ``auth_trusted_proxies``. Neither set: no
login, which :func:`check_exposure` allows on a loopback address only.

:func:`install_auth` also adds the security headers (CSP, X-Frame-Options,
nosniff, Referrer-Policy; ``Cache-Control: no-store`` on everything but static
files, so exports and figures are never kept in a shared cache).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import flask

from occupancy.settings import SettingError, Settings

logger = logging.getLogger(__name__)

__all__ = [
    "SECURITY_HEADERS",
    "auth_mode",
    "check_basic",
    "check_exposure",
    "install_auth",
    "parse_proxies",
    "parse_users",
]

REALM = "workplace-occupancy"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Headers on every response (the CSP's script hashes are added per app).
SECURITY_HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin: the first layout is computed from the page URL the renderer
    # sends as Referer (dashboard/app.py); never sent to another origin.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: Dash and Plotly set inline styles; scripts only from this origin (plus the
#: hashes of Dash's own inline bootstrap scripts).
CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: Paths of static files (versioned by Dash, safe to cache).
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
HEALTH_PATH = "/health"


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


def parse_proxies(raw: Sequence[str] | str | None) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.5``, ``172.16.0.0/12``) of trusted proxies."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    out = []
    for item in (str(x).strip() for x in items):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise SettingError(
                f"setting auth_trusted_proxies (OCCUPANCY_AUTH_TRUSTED_PROXIES): "
                f"{item!r} is not an IP address or network: {exc}"
            ) from exc
    return tuple(out)


def auth_mode(settings: Settings) -> str:
    """``proxy``, ``basic`` or ``none``; a proxy header without trusted proxies
    is a setting error (the header would be believed from anyone)."""
    header = (settings.auth_proxy_header or "").strip()
    if header:
        if not parse_proxies(settings.auth_trusted_proxies):
            raise SettingError(
                "setting auth_proxy_header is set but auth_trusted_proxies is empty: "
                "name the reverse proxy's address(es) in OCCUPANCY_AUTH_TRUSTED_PROXIES "
                "(the header is believed only from them)"
            )
        return "proxy"
    return "basic" if parse_users(settings.auth_users) else "none"


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: Settings) -> str:
    """The auth mode for serving on ``host``; refuses no-auth off loopback."""
    mode = auth_mode(settings)
    if mode == "none" and not is_loopback(host):
        raise SettingError(
            f"refusing to serve the dashboard on {host} without authentication: set "
            "OCCUPANCY_AUTH_USERS (user:password,...) or OCCUPANCY_AUTH_PROXY_HEADER "
            "with OCCUPANCY_AUTH_TRUSTED_PROXIES, or listen on 127.0.0.1"
        )
    return mode


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


def from_trusted(remote: str | None, proxies: Sequence[Network]) -> bool:
    if not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(addr in net for net in proxies)


def _refuse() -> flask.Response:
    return flask.Response(
        "Authentication required.\n",
        status=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def _user_of_request(
    mode: str, header: str, users: Mapping[str, str], proxies: Sequence[Network]
) -> str | None:
    req = flask.request
    if mode == "proxy":
        if not from_trusted(req.remote_addr, proxies):
            logger.warning(
                "refused %s %s from %s: not a trusted proxy (auth_trusted_proxies)",
                req.method,
                req.path,
                req.remote_addr,
            )
            return None
        return req.headers.get(header, "").strip() or None
    auth = req.authorization
    if (
        auth is not None
        and auth.type == "basic"
        and check_basic(users, auth.username, auth.password)
    ):
        return auth.username
    return None


def install_auth(server: flask.Flask, settings: Settings) -> str:
    """Add /health, the security headers and the login check to ``server``;
    return the mode (basic, proxy, none)."""
    mode = auth_mode(settings)
    header = (settings.auth_proxy_header or "").strip()
    users = parse_users(settings.auth_users)
    proxies = parse_proxies(settings.auth_trusted_proxies)
    _install_health(server)
    _install_headers(server)
    if mode == "none":
        logger.warning(
            "dashboard authentication is OFF (set auth_users or auth_proxy_header); "
            "served on loopback only"
        )
        return mode

    @server.before_request
    def _require_user() -> flask.Response | None:
        if flask.request.path == HEALTH_PATH:
            return None
        user = _user_of_request(mode, header, users, proxies)
        if user:
            flask.g.user = user
            return None
        logger.info(
            "refused %s %s: no valid credentials (%s)",
            flask.request.method,
            flask.request.path,
            mode,
        )
        return _refuse()

    # Dash registers its own before_request hooks (the pages router); ours must run first.
    funcs = server.before_request_funcs.setdefault(None, [])
    funcs.insert(0, funcs.pop())
    logger.info("dashboard authentication: %s", mode)
    return mode


def _install_health(server: flask.Flask) -> None:
    """``GET /health``: 200 when the database answers, else 503; no login."""

    def health() -> tuple[flask.Response, int]:
        from dashboard.data import EXTENSION_KEY

        data: Any = server.extensions.get(EXTENSION_KEY)
        try:
            with data.connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM schema_migrations")
                cur.fetchone()
        except Exception as exc:  # health boundary: report, never raise
            logger.warning("health: database check failed: %s", exc)
            return flask.jsonify(status="unhealthy", database="unavailable"), 503
        return flask.jsonify(status="ok", database="ok"), 200

    server.add_url_rule(HEALTH_PATH, "occupancy_health", health, methods=["GET"])


def _install_headers(server: flask.Flask) -> None:
    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        # Hashed per response: Dash adds its inline scripts (clientside
        # callbacks) at its first served request, which may come after ours.
        hashes = " ".join(_dash_script_hashes(server))
        for key, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(key, value)
        resp.headers.setdefault(
            "Content-Security-Policy", CSP_TEMPLATE.format(hashes=hashes)
        )
        if not flask.request.path.startswith(STATIC_PREFIXES):
            resp.headers["Cache-Control"] = "no-store"
        return resp


def _dash_app(server: flask.Flask) -> Any:
    """The Dash app serving on ``server`` (it registered its bound setup hook)."""
    import dash

    for funcs in server.before_request_funcs.values():
        for func in funcs:
            owner = getattr(func, "__self__", None)
            if isinstance(owner, dash.Dash):
                return owner
    return None


def _dash_script_hashes(server: flask.Flask) -> list[str]:
    """CSP hashes (quoted) of the inline scripts Dash writes into its index page."""
    app = _dash_app(server)
    return [str(h) for h in app.csp_hashes()] if app is not None else []
