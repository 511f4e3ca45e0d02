"""One frozen, typed settings object for every part of the pipeline.

Precedence: explicit argument > environment (``OCCUPANCY_<NAME>``) > default.
Every setting is declared once, as a typed field of :class:`Settings` with its
default and help text (``name: type = _S(default, "help")``); :data:`SETTINGS`
is derived from those fields, and ``occupancy settings`` prints them all with
their current values, secrets masked.

The fields live per area in :mod:`occupancy.settings_areas` (one frozen
dataclass per area; :class:`Settings` inherits them all). The declaration
machinery (``_S``, the kinds, parsing, masking, MQTT URLs) is in
:mod:`occupancy.settings_areas.spec`; all of it is importable from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from occupancy.settings_areas.analytics import AnalyticsSettings
from occupancy.settings_areas.bookings import BookingsSettings
from occupancy.settings_areas.connections import ConnectionSettings
from occupancy.settings_areas.dashboard import DashboardSettings
from occupancy.settings_areas.deploy import DeploySettings
from occupancy.settings_areas.ingest import IngestSettings
from occupancy.settings_areas.integrations import IntegrationsSettings
from occupancy.settings_areas.site import SiteSettings
from occupancy.settings_areas.spec import (
    _S,
    DAYS,
    ENV_PREFIX,
    KINDS,
    Dates,
    Days,
    MqttUrl,
    SettingError,
    SettingSpec,
    SettingValue,
    Topics,
    _settings_class,
    convert,
    empty_allowed,
    mask_url,
    parse_mqtt_url,
    show,
)

__all__ = [
    "ENV_PREFIX",
    "SETTINGS",
    "Dates",
    "Days",
    "MqttUrl",
    "SettingError",
    "SettingSpec",
    "SettingValue",
    "Settings",
    "Topics",
    "load_settings",
    "mask_url",
    "parse_mqtt_url",
]


# The areas in reverse reading order: a dataclass takes its bases' fields from
# the last base to the first, so ``SETTINGS`` (and ``occupancy settings``) list
# connections first and the fields declared in this class last.
@_settings_class
class Settings(
    BookingsSettings,
    DeploySettings,
    IntegrationsSettings,
    DashboardSettings,
    AnalyticsSettings,
    IngestSettings,
    SiteSettings,
    ConnectionSettings,
):
    """All settings, typed; build with :func:`load_settings`.

    To add a setting, add one field in the module of its area
    (``occupancy/settings_areas/<area>.py``), or in a block at the end of this
    class: ``name: type = _S(default, "help text")``; type is one of str, int,
    float, bool, Path, Topics, Days, Dates, optionally ``| None``.
    """

    #: Where each value came from: argument, environment or default.
    sources: Mapping[str, str] = field(repr=False, compare=False)

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
    forecast_planned_changes: str = _S(
        "",
        "Demand changes announced in advance, DATE:FACTOR separated by commas "
        "(office days 2.5 -> 3 a week from 2026-09-07: 2026-09-07:1.2); the "
        "forecast applies those after its history (docs/metrics.md).",
    )

    # Derived values -----------------------------------------------------
    @property
    def values(self) -> dict[str, SettingValue]:
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
        return tuple(DAYS.index(d) for d in self.working_days)

    def replace(self, **overrides: object) -> Settings:
        return load_settings(overrides, base=self)

    def describe(self) -> list[tuple[str, str, str, str]]:
        """(name, shown value, source, help) for every setting, secrets masked."""
        rows = []
        for spec in SETTINGS:
            shown = show(spec, getattr(self, spec.name))
            rows.append((spec.name, shown, self.sources[spec.name], spec.help))
        return rows


def _specs() -> tuple[SettingSpec, ...]:
    specs = []
    for f in dataclasses.fields(Settings):
        if f.name == "sources":
            continue
        annotation = str(f.type).removesuffix(" | None")
        if annotation not in KINDS:
            raise TypeError(f"setting {f.name}: unsupported type {f.type!r}")
        meta = f.metadata
        specs.append(
            SettingSpec(
                f.name,
                KINDS[annotation],
                meta["default"],
                meta["help"],
                meta["secret"],
            )
        )
    return tuple(specs)


#: Every setting, in declaration order, with help text (derived from :class:`Settings`).
SETTINGS: tuple[SettingSpec, ...] = _specs()
_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(
    overrides: Mapping[str, object] | None = None,
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
            values[spec.name] = convert(spec, overrides[spec.name])
            sources[spec.name] = "argument"
        elif base is not None:
            values[spec.name] = getattr(base, spec.name)
            sources[spec.name] = base.sources[spec.name]
        elif spec.env in env and (env[spec.env] != "" or empty_allowed(spec)):
            values[spec.name] = convert(spec, env[spec.env])
            sources[spec.name] = "environment"
        else:
            values[spec.name] = convert(spec, spec.default)
            sources[spec.name] = "default"
    settings = Settings(sources=sources, **values)
    settings.working_hours_range  # noqa: B018  (validates early)
    if settings.k_anonymity < 1:
        raise SettingError("setting k_anonymity must be at least 1")
    return settings
