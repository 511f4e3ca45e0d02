"""One frozen, typed settings object for every part of the pipeline.

Precedence: explicit argument > environment (``OCCUPANCY_<NAME>``) > default.
Every setting is declared once, as a typed field of :class:`Settings` with its
default and help text (``name: type = _S(default, "help")``); :data:`SETTINGS`
is derived from those fields, and ``occupancy settings`` prints them all with
their current values, secrets masked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, dataclass_transform
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
_T = TypeVar("_T")

#: A comma-separated list of text values (env ``a,b``), as a tuple.
Topics = tuple[str, ...]
#: Weekdays mon..sun (env ``mon,tue``), in week order.
Days = tuple[str, ...]
#: ISO dates (env ``2026-12-25,2026-12-26``).
Dates = tuple[dt.date, ...]

#: Annotation of a field (without ``| None``) -> the kind its raw values parse as.
_KINDS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "Path": "path",
    "Topics": "list",
    "Days": "days",
    "Dates": "dates",
}


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    type: str  # str | int | float | bool | path | list | days | dates
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _S(default: Any, help: str, *, secret: bool = False) -> Any:
    """Declare a setting: its raw default (as it could be written in the
    environment; ``None``: not set), its help text, whether it is a secret.
    The value itself has no dataclass default: :func:`load_settings` resolves
    every one."""
    return field(metadata={"default": default, "help": help, "secret": secret})


@dataclass_transform(frozen_default=True, field_specifiers=(_S, field))
def _settings_class(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)`` that type checkers know takes ``_S`` fields."""
    return dataclass(frozen=True)(cls)


@_settings_class
class Settings:
    """All settings, typed; build with :func:`load_settings`.

    To add a setting, add one field here (in the block of its area):
    ``name: type = _S(default, "help text")``; type is one of str, int, float,
    bool, Path, Topics, Days, Dates, optionally ``| None``.
    """

    #: Where each value came from: argument, environment or default.
    sources: Mapping[str, str] = field(repr=False, compare=False)

    # Connections
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
    # The site
    site: str = _S("hq", "Site id: the <site> segment of our MQTT topics.")
    building_file: Path = _S(
        "examples/office.yaml",
        "Building model (YAML) used by the demo and the simulator by default.",
    )
    timezone: str = _S(
        "Europe/Amsterdam",
        "IANA time zone of the site: working hours, days and local device clocks.",
    )
    working_hours: str = _S(
        "08:00-18:00", "Available time of a working day, local time, as HH:MM-HH:MM."
    )
    working_days: Days = _S(
        "mon,tue,wed,thu,fri", "Days the building is open, comma separated (mon..sun)."
    )
    holidays: Dates = _S(
        "",
        "Closed days, comma-separated ISO dates (2026-12-25,...); not available time.",
    )
    # Ingest
    topic_root: str = _S(
        "occupancy",
        "First segment of our own topic format occupancy/<site>/<device>/<kind>.",
    )
    ingest_topics: Topics = _S(
        "occupancy/#", "Topic filters the ingester subscribes to, comma separated."
    )
    ingest_group: str = _S(
        "ingest",
        "Shared-subscription group ($share/<group>/...); empty to subscribe plainly.",
    )
    ingest_client_id: str = _S(
        "occupancy-ingest-1",
        "Fixed MQTT client id of this ingester (its persistent session).",
    )
    batch_size: int = _S(1000, "Events written per database transaction at most.")
    buffer_max: int = _S(
        20000,
        "Messages held in memory while the database is unreachable; beyond this the "
        "ingester stops taking messages (the broker keeps them).",
    )
    device_health_interval_s: float = _S(
        5.0,
        "Seconds between the ingester's device_health writes (last seen, battery, "
        "online; merged in between, all written at stop); 0: with every batch.",
    )
    max_payload_bytes: int = _S(65536, "Larger payloads are rejected.")
    max_clock_skew_s: int = _S(
        300,
        "A device timestamp further than this from arrival time is not trusted: "
        "the arrival time is used and the event flagged.",
    )
    pseudonym_key: str | None = _S(
        None,
        "Key of the keyed hash (HMAC-SHA256) that pseudonymises badge ids at ingest. "
        "Required by the ingester; keep it secret, rotate as in docs/privacy.md.",
        secret=True,
    )
    metrics_port: int = _S(
        9108,
        "Port of the ingester's Prometheus /metrics and /health endpoint (0: off).",
    )
    metrics_host: str = _S(
        "127.0.0.1",
        "Address the metrics endpoint listens on (0.0.0.0 inside a container so "
        "Prometheus can scrape it).",
    )
    # Analytics
    k_anonymity: int = _S(
        5, "Aggregates covering fewer than this many distinct people are suppressed."
    )
    bucket_minutes: int = _S(15, "Width of the time buckets of the rollups.")
    gap_bridge_min: float = _S(
        15.0, "Vacant gaps shorter than this inside a session count as occupied [min]."
    )
    heartbeat_timeout_min: float = _S(
        20.0, "A sensor silent for longer than this has unknown state [min]."
    )
    desk_min_hour_min: float = _S(
        5.0, "A desk counts as used in an hour after this much presence [min]."
    )
    desk_min_day_min: float = _S(
        30.0, "A desk counts as used in a day after this much presence [min]."
    )
    collab_min_hour_min: float = _S(
        10.0, "A collaboration space counts as used in an hour after this much [min]."
    )
    collab_min_day_min: float = _S(
        60.0, "A collaboration space counts as used in a day after this much [min]."
    )
    target_low_pct: float = _S(
        60.0, "Below this utilization a space is under-used [%]."
    )
    target_high_pct: float = _S(
        100.0, "Above this utilization a space is over-used [%]."
    )
    stuck_after_h: float = _S(
        16.0,
        "A desk sensor reporting occupied without a break for longer than this is "
        "stuck: its run is excluded and reported as data quality [h] (at most 24).",
    )
    free_desk_factor: float = _S(
        0.85, "Free desks at peak = desks x this factor - people at peak (Serraview)."
    )
    retention_days: int = _S(
        90, "Raw events older than this are deleted; aggregates are kept."
    )
    # Dashboard
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

    # Ingest limits
    mqtt_fast_path: bool = _S(
        False,
        "Opt in to the ingester's lean paho path (PUBLISH without properties "
        "skips paho's message objects; buffered reads; one write per batch of "
        "acks). Used only with the tested paho-mqtt release, else stock paho.",
    )
    batch_size_max: int = _S(
        0,
        "Largest batch the ingester writes in one transaction when a backlog is "
        "queued (the batch grows with it; a lone message is written alone); "
        "0: 5 × batch_size. Receive Maximum is 3 × this (capped by buffer_max).",
    )
    device_rate_limit_per_s: float = _S(
        200.0,
        "Messages per second one device may send on average; beyond it (and the"
        " burst) its messages are refused as rate_limited (counted, not "
        "stored); 0: no limit.",
    )
    device_rate_burst: int = _S(
        2000,
        "Messages one device may send at once above its rate limit (token bucket).",
    )
    max_event_age_days: float = _S(
        366.0,
        "A device time older than this many days before arrival is refused as "
        "too_old (a 1970 clock would force recomputes); 0: no horizon "
        "(replays).",
    )
    unhealthy_after_failures: int = _S(
        3,
        "The ingester's /health answers 503 after this many failed batch "
        "attempts in a row (database down, a batch that keeps failing).",
    )
    badge_payloads_stored: str = _S(
        "pseudonymised",
        "Rejected badge/BLE messages: 'pseudonymised' stores the payload with "
        "every MAC-like identifier replaced by its pseudonym, 'hash' stores "
        "only a SHA-256 of the raw bytes (and the reason).",
    )

    # Integrations (api/, notify/): webhooks, alerts, weekly report
    notify_interval_s: float = _S(
        1.0,
        "Seconds between two rounds of `occupancy webhooks run` / `occupancy "
        "alerts run` (live state read, alert rules, webhook deliveries).",
    )
    notify_health_file: str = _S(
        "",
        "File the notifier touches after every successful round (a container "
        "health check reads its age); empty: none.",
    )
    webhook_debounce_s: float = _S(
        30.0,
        "A space's new live state must hold this long before a space.state "
        "webhook announces it (a flapping sensor sends nothing) [s].",
    )
    webhook_timeout_s: float = _S(
        5.0,
        "Time a webhook receiver has to answer one delivery [s].",
    )
    webhook_retry_base_s: float = _S(
        1.0,
        "First retry delay of a failed webhook delivery; doubled per attempt [s].",
    )
    webhook_retry_max_s: float = _S(
        30.0,
        "Longest delay between two attempts of a webhook delivery [s].",
    )
    webhook_max_failures: int = _S(
        20,
        "Consecutive failed deliveries after which a subscription is disabled "
        "(`occupancy webhooks enable ID` turns it on again).",
    )
    alert_device_silent_min: float = _S(
        60.0,
        "Alert rule: a device silent for longer than this [min] (0: rule off).",
    )
    alert_battery_pct: float = _S(
        15.0,
        "Alert rule: a device whose battery is below this [%] (0: rule off).",
    )
    alert_room_capacity_factor: float = _S(
        1.0,
        "Alert rule: a room whose live head count is above capacity x this (0: off).",
    )
    alert_data_gap_min: float = _S(
        30.0,
        "Alert rule: no event from any device of the site for longer than this "
        "[min] during working hours (0: rule off).",
    )
    alert_ingest_lag_s: float = _S(
        60.0,
        "Alert rule: median arrival lag (received_at - ts) of the last 5 "
        "minutes of events above this [s] (0: rule off).",
    )
    alert_rejected_pct: float = _S(
        5.0,
        "Alert rule: share of rejected messages in the last 10 minutes above "
        "this [%] (with at least 20 messages; 0: rule off).",
    )
    smtp_url: str | None = _S(
        None,
        "SMTP server for alert and report email: smtp://user:pass@host:port "
        "(smtps:// for TLS, smtp+starttls:// for STARTTLS). Unset: no email.",
        secret=True,
    )
    smtp_from: str = _S(
        "occupancy@localhost",
        "Sender address of alert email.",
    )
    alert_email_to: Topics = _S(
        "",
        "Recipients of alert email, comma separated (empty: no alert email).",
    )

    # Deployment and security (issue 13, deploy)
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

    # Building area: calendars (bookings sync)
    caldav_username: str | None = _S(
        None,
        "User name for `occupancy bookings sync --caldav` (unset: no authentication).",
    )
    caldav_password: str | None = _S(
        None,
        "Password for `occupancy bookings sync --caldav`.",
        secret=True,
    )
    bookings_sync_days_back: int = _S(
        90,
        "Bookings sync: how many days before today to read room calendars [days].",
    )
    bookings_sync_days_ahead: int = _S(
        180,
        "Bookings sync: how many days after today to read room calendars [days].",
    )

    # Plan: forecast, what-if, stacking plan, intervention (analytics/plan_*.py)
    country: str = _S(
        "NL",
        "ISO country code of the site: its public holidays (the holidays "
        "package) are closed days in the forecast.",
    )
    school_holiday_region: str = _S(
        "middle",
        "Dutch school-holiday region (none, north, middle, south): a regressor "
        "of the forecast known in advance.",
    )
    forecast_history_weeks: int = _S(
        26,
        "Weeks of history the forecast model is fitted on (the latest ones).",
    )
    forecast_half_life_weeks: float = _S(
        6.0,
        "Half-life of the forecast's discounted least squares weights [weeks].",
    )

    # --- dask19 ---
    analyze_workers: int = _S(
        1,
        "Processes `occupancy analyze` computes its chunks of days in (1: in "
        "this process, as before). Same rollups for any number.",
    )
    analyze_chunk_days: int = _S(
        14,
        "Local days per chunk of `occupancy analyze` (the unit read, computed in "
        "parallel and written in one transaction). Same rollups for any size.",
    )
    dask_scheduler: str | None = _S(
        None,
        "Dask distributed scheduler (tcp://host:8786) whose workers compute the "
        "chunks of `occupancy analyze` instead of local processes; the workers "
        "read the events from database_url themselves. Unset: no cluster.",
    )

    # Derived values -----------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        """Every setting's value by name."""
        return {spec.name: getattr(self, spec.name) for spec in SETTINGS}

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"postgresql://occupancy@127.0.0.1:{self.pg_port}/occupancy"

    @property
    def effective_mqtt_url(self) -> str:
        if self.mqtt_url:
            return self.mqtt_url
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def mqtt(self) -> MqttUrl:
        return parse_mqtt_url(self.effective_mqtt_url)

    @property
    def working_hours_range(self) -> tuple[dt.time, dt.time]:
        raw = self.working_hours
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
        return tuple(_DAYS.index(d) for d in self.working_days)

    def replace(self, **overrides: Any) -> Settings:
        return load_settings(overrides, base=self)

    def describe(self) -> list[tuple[str, str, str, str]]:
        """(name, shown value, source, help) for every setting, secrets masked."""
        rows = []
        for spec in SETTINGS:
            shown = _show(spec, getattr(self, spec.name))
            rows.append((spec.name, shown, self.sources[spec.name], spec.help))
        return rows


def _specs() -> tuple[SettingSpec, ...]:
    specs = []
    for f in dataclasses.fields(Settings):
        if f.name == "sources":
            continue
        annotation = str(f.type).removesuffix(" | None")
        if annotation not in _KINDS:
            raise TypeError(f"setting {f.name}: unsupported type {f.type!r}")
        meta = f.metadata
        specs.append(
            SettingSpec(
                f.name,
                _KINDS[annotation],
                meta["default"],
                meta["help"],
                meta["secret"],
            )
        )
    return tuple(specs)


#: Every setting, in declaration order, with help text (derived from :class:`Settings`).
SETTINGS: tuple[SettingSpec, ...] = _specs()
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
            values[spec.name] = getattr(base, spec.name)
            sources[spec.name] = base.sources[spec.name]
        elif spec.env in env and (env[spec.env] != "" or _empty_allowed(spec)):
            values[spec.name] = _convert(spec, env[spec.env])
            sources[spec.name] = "environment"
        else:
            values[spec.name] = _convert(spec, spec.default)
            sources[spec.name] = "default"
    settings = Settings(sources=sources, **values)
    settings.working_hours_range  # noqa: B018  (validates early)
    if settings.k_anonymity < 1:
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
