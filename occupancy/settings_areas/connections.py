"""Settings of one area. Connections: database, broker, development services."""

from __future__ import annotations

from pathlib import Path

from occupancy.settings_areas.spec import _S, _settings_class


@_settings_class
class ConnectionSettings:
    """Connections: database, broker, development services."""

    database_url: str | None = _S(
        None,
        "PostgreSQL URL (postgresql://user:pass@host:port/db). Unset: the private "
        "development database started by `occupancy services start`.",
        secret=True,
    )
    mqtt_url: str | None = _S(
        None,
        "MQTT broker as mqtt://user:pass@host:port (mqtts:// for TLS). Unset: the "
        "private development broker started by `occupancy services start`.",
        secret=True,
    )
    data_dir: Path = _S(
        ".occupancy",
        "Directory for the development services' data, logs and pid files.",
    )
    pg_port: int = _S(55432, "Port of the development PostgreSQL server.")
    mqtt_port: int = _S(51883, "Port of the development Mosquitto broker.")
    db_connect_timeout_s: int = _S(
        5, "Seconds before a database connection attempt is abandoned."
    )
