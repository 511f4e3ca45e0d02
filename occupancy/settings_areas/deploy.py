"""Settings of one area. Deployment and security: trusted proxies, range limit, database role passwords."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, Topics, _settings_class


@_settings_class
class DeploySettings:
    """Deployment and security: trusted proxies, range limit, database role passwords."""

    auth_trusted_proxies: Topics = _S(
        "",
        "Addresses or networks (comma separated, e.g. 10.0.0.5,172.16.0.0/12) "
        "of the reverse proxies whose auth_proxy_header is believed; required "
        "with auth_proxy_header, the header from any other client is refused.",
    )
    dashboard_max_range_days: int = _S(
        400,
        "Longest date range a dashboard view or export may ask for [days]; a "
        "longer range is cut to this many days ending at its last day.",
    )
    ingester_db_password: str | None = _S(
        None,
        "Login password `db migrate` gives the database role occupancy_ingester"
        " (unset: the role cannot log in).",
        secret=True,
    )
    analytics_db_password: str | None = _S(
        None,
        "Login password `db migrate` gives the database role occupancy_analytics.",
        secret=True,
    )
    dashboard_db_password: str | None = _S(
        None,
        "Login password `db migrate` gives the database role "
        "occupancy_dashboard (read-only transactions).",
        secret=True,
    )
