"""One frozen settings object for every part of the pipeline.

Precedence: explicit argument > environment (``OCCUPANCY_<NAME>``) > default.
Every setting is declared once in :data:`SETTINGS` with its type and help text;
``occupancy settings`` prints them all with their current values, secrets masked.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "SETTINGS",
    "MqttUrl",
    "SettingError",
    "SettingSpec",
    "Settings",
    "load_settings",
    "parse_mqtt_url",
]

ENV_PREFIX = "OCCUPANCY_"


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    type: str  # str | int | float | bool | path | time | list | days | dates
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


_S = SettingSpec

#: Every setting, with help text. ``None`` default means "not set".
SETTINGS: tuple[SettingSpec, ...] = (
    # Connections
    _S(
        "database_url",
        "str",
        None,
        "PostgreSQL URL (postgresql://user:pass@host:port/db). Unset: the private "
        "development database started by `occupancy services start`.",
        secret=True,
    ),
    _S(
        "mqtt_url",
        "str",
        None,
        "MQTT broker as mqtt://user:pass@host:port (mqtts:// for TLS). Unset: the "
        "private development broker started by `occupancy services start`.",
        secret=True,
    ),
    _S(
        "data_dir",
        "path",
        ".occupancy",
        "Directory for the development services' data, logs and pid files.",
    ),
    _S("pg_port", "int", 55432, "Port of the development PostgreSQL server."),
    _S("mqtt_port", "int", 51883, "Port of the development Mosquitto broker."),
    _S(
        "db_connect_timeout_s",
        "int",
        5,
        "Seconds before a database connection attempt is abandoned.",
    ),
    # The site
    _S("site", "str", "hq", "Site id: the <site> segment of our MQTT topics."),
    _S(
        "building_file",
        "path",
        "examples/office.yaml",
        "Building model (YAML) used by the demo and the simulator by default.",
    ),
    _S(
        "timezone",
        "str",
        "Europe/Amsterdam",
        "IANA time zone of the site: working hours, days and local device clocks.",
    ),
    _S(
        "working_hours",
        "str",
        "08:00-18:00",
        "Available time of a working day, local time, as HH:MM-HH:MM.",
    ),
    _S(
        "working_days",
        "days",
        "mon,tue,wed,thu,fri",
        "Days the building is open, comma separated (mon..sun).",
    ),
    _S(
        "holidays",
        "dates",
        "",
        "Closed days, comma-separated ISO dates (2026-12-25,...); not available time.",
    ),
    # Ingest
    _S(
        "topic_root",
        "str",
        "occupancy",
        "First segment of our own topic format occupancy/<site>/<device>/<kind>.",
    ),
    _S(
        "ingest_topics",
        "list",
        "occupancy/#",
        "Topic filters the ingester subscribes to, comma separated.",
    ),
    _S(
        "ingest_group",
        "str",
        "ingest",
        "Shared-subscription group ($share/<group>/...); empty to subscribe plainly.",
    ),
    _S(
        "ingest_client_id",
        "str",
        "occupancy-ingest-1",
        "Fixed MQTT client id of this ingester (its persistent session).",
    ),
    _S("batch_size", "int", 1000, "Events written per database transaction at most."),
    _S(
        "buffer_max",
        "int",
        20000,
        "Messages held in memory while the database is unreachable; beyond this the "
        "ingester stops taking messages (the broker keeps them).",
    ),
    _S(
        "device_health_interval_s",
        "float",
        5.0,
        "Seconds between the ingester's device_health writes (last seen, battery, "
        "online; merged in between, all written at stop); 0: with every batch.",
    ),
    _S("max_payload_bytes", "int", 65536, "Larger payloads are rejected."),
    _S(
        "max_clock_skew_s",
        "int",
        300,
        "A device timestamp further than this from arrival time is not trusted: "
        "the arrival time is used and the event flagged.",
    ),
    _S(
        "pseudonym_key",
        "str",
        None,
        "Key of the keyed hash (HMAC-SHA256) that pseudonymises badge ids at ingest. "
        "Required by the ingester; keep it secret, rotate as in docs/privacy.md.",
        secret=True,
    ),
    _S(
        "metrics_port",
        "int",
        9108,
        "Port of the ingester's Prometheus /metrics and /health endpoint (0: off).",
    ),
    _S(
        "metrics_host",
        "str",
        "127.0.0.1",
        "Address the metrics endpoint listens on (0.0.0.0 inside a container so "
        "Prometheus can scrape it).",
    ),
    # Analytics
    _S(
        "k_anonymity",
        "int",
        5,
        "Aggregates covering fewer than this many distinct people are suppressed.",
    ),
    _S("bucket_minutes", "int", 15, "Width of the time buckets of the rollups."),
    _S(
        "gap_bridge_min",
        "float",
        15.0,
        "Vacant gaps shorter than this inside a session count as occupied [min].",
    ),
    _S(
        "heartbeat_timeout_min",
        "float",
        20.0,
        "A sensor silent for longer than this has unknown state [min].",
    ),
    _S(
        "desk_min_hour_min",
        "float",
        5.0,
        "A desk counts as used in an hour after this much presence [min].",
    ),
    _S(
        "desk_min_day_min",
        "float",
        30.0,
        "A desk counts as used in a day after this much presence [min].",
    ),
    _S(
        "collab_min_hour_min",
        "float",
        10.0,
        "A collaboration space counts as used in an hour after this much [min].",
    ),
    _S(
        "collab_min_day_min",
        "float",
        60.0,
        "A collaboration space counts as used in a day after this much [min].",
    ),
    _S(
        "target_low_pct",
        "float",
        60.0,
        "Below this utilization a space is under-used [%].",
    ),
    _S(
        "target_high_pct",
        "float",
        100.0,
        "Above this utilization a space is over-used [%].",
    ),
    _S(
        "stuck_after_h",
        "float",
        16.0,
        "A desk sensor reporting occupied without a break for longer than this is "
        "stuck: its run is excluded and reported as data quality [h] (at most 24).",
    ),
    _S(
        "free_desk_factor",
        "float",
        0.85,
        "Free desks at peak = desks x this factor - people at peak (Serraview).",
    ),
    _S(
        "retention_days",
        "int",
        90,
        "Raw events older than this are deleted; aggregates are kept.",
    ),
    # Dashboard
    _S("dashboard_host", "str", "127.0.0.1", "Address the dashboard listens on."),
    _S("dashboard_port", "int", 8050, "Port the dashboard listens on."),
    _S("language", "str", "en", "Dashboard language: en or nl."),
    _S(
        "auth_users",
        "str",
        None,
        "Dashboard users as user:password pairs separated by commas; unset: no login "
        "(development only).",
        secret=True,
    ),
    _S(
        "auth_proxy_header",
        "str",
        "",
        "Trust this header (e.g. X-Forwarded-User) set by a reverse proxy as the "
        "authenticated user instead of auth_users.",
    ),
    _S(
        "secret_key",
        "str",
        None,
        "Flask session secret of the dashboard (random per start when unset).",
        secret=True,
    ),
    # Ingest limits
    _S(
        "mqtt_fast_path",
        "bool",
        False,
        "Opt in to the ingester's lean paho path (PUBLISH without properties "
        "skips paho's message objects; buffered reads; one write per batch of "
        "acks). Used only with the tested paho-mqtt release, else stock paho.",
    ),
    _S(
        "batch_size_max",
        "int",
        0,
        "Largest batch the ingester writes in one transaction when a backlog is "
        "queued (the batch grows with it; a lone message is written alone); "
        "0: 5 × batch_size. Receive Maximum is 3 × this (capped by buffer_max).",
    ),
    _S(
        "device_rate_limit_per_s",
        "float",
        200.0,
        "Messages per second one device may send on average; beyond it (and the "
        "burst) its messages are refused as rate_limited (counted, not stored); "
        "0: no limit.",
    ),
    _S(
        "device_rate_burst",
        "int",
        2000,
        "Messages one device may send at once above its rate limit (token bucket).",
    ),
    _S(
        "max_event_age_days",
        "float",
        366.0,
        "A device time older than this many days before arrival is refused as "
        "too_old (a 1970 clock would force recomputes); 0: no horizon (replays).",
    ),
    _S(
        "unhealthy_after_failures",
        "int",
        3,
        "The ingester's /health answers 503 after this many failed batch attempts "
        "in a row (database down, a batch that keeps failing).",
    ),
    _S(
        "badge_payloads_stored",
        "str",
        "pseudonymised",
        "Rejected badge/BLE messages: 'pseudonymised' stores the payload with every "
        "MAC-like identifier replaced by its pseudonym, 'hash' stores only a "
        "SHA-256 of the raw bytes (and the reason).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _convert(spec: SettingSpec, raw: Any) -> Any:
    if raw is None:
        return None
    try:
        if spec.type == "int":
            return int(raw)
        if spec.type == "float":
            return float(raw)
        if spec.type == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if spec.type == "path":
            return Path(raw)
        if spec.type == "list":
            if isinstance(raw, (list, tuple)):
                return tuple(str(x) for x in raw)
            return tuple(x.strip() for x in str(raw).split(",") if x.strip())
        if spec.type == "days":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            days = tuple(str(d).strip().lower()[:3] for d in items if str(d).strip())
            bad = [d for d in days if d not in _DAYS]
            if bad:
                raise ValueError(f"unknown day(s) {bad}; use mon..sun")
            return tuple(sorted(set(days), key=_DAYS.index))
        if spec.type == "dates":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            return tuple(
                d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d).strip())
                for d in items
                if str(d).strip()
            )
        return str(raw)
    except ValueError as exc:
        raise SettingError(
            f"setting {spec.name} ({spec.env}): invalid value {raw!r}: {exc}"
        ) from exc


@dataclass(frozen=True)
class Settings:
    """All settings; build with :func:`load_settings`."""

    values: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        raise AttributeError(name)

    # Derived values -----------------------------------------------------
    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).resolve()

    @property
    def effective_database_url(self) -> str:
        url = self.values["database_url"]
        if url:
            return str(url)
        return f"postgresql://occupancy@127.0.0.1:{self.values['pg_port']}/occupancy"

    @property
    def effective_mqtt_url(self) -> str:
        url = self.values["mqtt_url"]
        if url:
            return str(url)
        return f"mqtt://127.0.0.1:{self.values['mqtt_port']}"

    @property
    def mqtt(self) -> MqttUrl:
        return parse_mqtt_url(self.effective_mqtt_url)

    @property
    def working_hours_range(self) -> tuple[dt.time, dt.time]:
        raw = str(self.values["working_hours"])
        try:
            start, end = (dt.time.fromisoformat(p.strip()) for p in raw.split("-"))
        except ValueError as exc:
            raise SettingError(
                f"setting working_hours: {raw!r} is not HH:MM-HH:MM"
            ) from exc
        if end <= start:
            raise SettingError(f"setting working_hours: {raw!r} ends before it starts")
        return start, end

    @property
    def working_weekdays(self) -> tuple[int, ...]:
        """Working days as Python weekday numbers (Monday = 0)."""
        return tuple(_DAYS.index(d) for d in self.values["working_days"])

    def replace(self, **overrides: Any) -> Settings:
        return load_settings(overrides, base=self)

    def describe(self) -> list[tuple[str, str, str, str]]:
        """(name, shown value, source, help) for every setting, secrets masked."""
        rows = []
        for spec in SETTINGS:
            value = self.values[spec.name]
            shown = _show(spec, value)
            rows.append((spec.name, shown, self.sources[spec.name], spec.help))
        return rows


def _show(spec: SettingSpec, value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    if spec.secret:
        if "://" in text:
            return mask_url(text)
        return "********"
    return text


def mask_url(url: str) -> str:
    """The URL with its password replaced by ****."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return parts._replace(netloc=netloc).geturl()


def _empty_allowed(spec: SettingSpec) -> bool:
    """An empty environment value sets a text setting that has a non-empty
    default to "" (e.g. OCCUPANCY_INGEST_GROUP= turns shared subscriptions off);
    for every other setting it means "not set"."""
    return spec.type in ("str", "list", "dates") and bool(spec.default)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    base: Settings | None = None,
) -> Settings:
    """Resolve every setting: explicit ``overrides`` > environment > default."""
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - set(_BY_NAME)
    if unknown:
        raise SettingError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        if spec.name in overrides:
            values[spec.name] = _convert(spec, overrides[spec.name])
            sources[spec.name] = "argument"
        elif base is not None:
            values[spec.name] = base.values[spec.name]
            sources[spec.name] = base.sources[spec.name]
        elif spec.env in env and (env[spec.env] != "" or _empty_allowed(spec)):
            values[spec.name] = _convert(spec, env[spec.env])
            sources[spec.name] = "environment"
        else:
            values[spec.name] = _convert(spec, spec.default)
            sources[spec.name] = "default"
    settings = Settings(values=values, sources=sources)
    settings.working_hours_range  # noqa: B018  (validates early)
    if settings.values["k_anonymity"] < 1:
        raise SettingError("setting k_anonymity must be at least 1")
    return settings


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def url(self, *, masked: bool = True) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        auth = ""
        if self.username:
            pw = "****" if masked else quote(self.password or "", safe="")
            auth = (
                quote(self.username, safe="")
                + (f":{pw}" if self.password else "")
                + "@"
            )
        return f"{scheme}://{auth}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttUrl:
    """Parse ``mqtt://user:pass@host:port`` (or ``mqtts://``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise SettingError(
            f"MQTT URL {mask_url(url)!r}: scheme must be mqtt:// or mqtts://"
        )
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise SettingError(f"MQTT URL {mask_url(url)!r} has no host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise SettingError(f"MQTT URL {mask_url(url)!r}: bad port") from exc
    return MqttUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def settings_fields() -> list[str]:
    return [s.name for s in SETTINGS]
