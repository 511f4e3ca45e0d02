"""Settings of one area. Dashboard: listening address, language, login."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, _settings_class


@_settings_class
class DashboardSettings:
    """Dashboard: listening address, language, login."""

    dashboard_host: str = _S("127.0.0.1", "Address the dashboard listens on.")
    dashboard_port: int = _S(8050, "Port the dashboard listens on.")
    language: str = _S("en", "Dashboard language: en or nl.")
    dashboard_prerender: bool = _S(
        False,
        "Pre-render the page into the dashboard's first layout (one round trip "
        "less; relies on tested Dash internals, see dashboard/prerender.py).",
    )
    auth_users: str | None = _S(
        None,
        "Dashboard users as user:password pairs separated by commas; unset: no login "
        "(development only).",
        secret=True,
    )
    auth_proxy_header: str = _S(
        "",
        "Trust this header (e.g. X-Forwarded-User) set by a reverse proxy as the "
        "authenticated user instead of auth_users.",
    )
    secret_key: str | None = _S(
        None,
        "Flask session secret of the dashboard (random per start when unset).",
        secret=True,
    )
