"""The scenario: who comes to the office when, what they do there, how the
devices behave and which faults they have. Read from YAML (see
``examples/scenario.yaml`` and ``docs/simulator.md``); every field has a default.

Times of day are local ``HH:MM`` strings, durations carry their unit in the name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SCENARIO",
    "Faults",
    "Scenario",
    "ScenarioError",
    "Sensors",
    "dutch_holidays",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "examples" / "scenario.yaml"


class ScenarioError(ValueError):
    """The scenario file is invalid; the message names the bad field."""


@dataclass(frozen=True)
class Sensors:
    """How the simulated devices sample and report."""

    desk_heartbeat_s: int = 300  # heartbeat period of desk sensors [s]
    detection_delay_s: tuple[float, float] = (5.0, 30.0)  # presence → report [s]
    vacancy_hold_s: tuple[float, float] = (60.0, 120.0)  # PIR hold after leaving [s]
    missed_detection_per_hour: float = 0.05  # sitting-still dropouts per seated hour
    missed_detection_min: tuple[float, float] = (3.0, 10.0)  # dropout length [min]
    counter_period_s: int = 60  # count report period while non-zero [s]
    count_error_share: float = 0.05  # share of count reports off by ±1
    ble_scan_window_s: int = 60  # one ble message per window with beacons [s]
    ble_idle_report_s: int = 600  # an empty ble message this often when none seen [s]
    rssi_dbm: tuple[float, float] = (-70.0, 6.0)  # mean and sd of beacon RSSI [dBm]
    battery_report_s: int = 21600  # battery message period [s]
    battery_drain_pct_per_day: float = 0.05  # normal battery decline [%/day]


@dataclass(frozen=True)
class Faults:
    """Fault rates. Per message: ``duplicate``, ``late``, ``out_of_order``,
    ``malformed`` (share of eligible messages). Per device: ``clock_skew``,
    ``stuck`` (desk sensors), ``battery_drain`` (share of devices). Per device-day:
    ``offline`` (probability of one offline period)."""

    duplicate: float = 0.002
    late: float = 0.001
    out_of_order: float = 0.001
    malformed: float = 0.0005
    clock_skew: float = 0.02
    stuck: float = 0.01
    battery_drain: float = 0.03
    offline: float = 0.01
    offline_min: tuple[float, float] = (20.0, 240.0)  # offline period length [min]
    late_min: tuple[float, float] = (2.0, 180.0)  # delay of late messages [min]
    clock_skew_s: tuple[float, float] = (30.0, 1800.0)  # |device clock offset| [s]
    battery_drain_pct_per_day: float = 4.0  # decline of draining batteries [%/day]


@dataclass(frozen=True)
class Scenario:
    """Everything about the simulated people and devices except the building."""

    name: str = "default"
    office_days_per_week: dict[str, float] = field(default_factory=dict)
    default_office_days_per_week: float = 2.5
    person_office_days_sd: float = 0.7  # spread between people [days/week]
    weekday_weights: tuple[float, ...] = (0.85, 1.08, 1.12, 1.08, 0.87)  # Mon..Fri
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Python weekdays the site opens
    holidays: str = "dutch"  # "dutch" or "none": public holidays the site is closed
    closed_days: tuple[dt.date, ...] = ()  # extra closed days
    vacation_share: float = 0.15  # share of weeks a person is away (leave, sick)
    arrival: str = "08:45"
    arrival_sd_min: float = 35.0
    arrival_window: tuple[str, str] = ("07:00", "11:00")
    workday_h: float = 8.4  # mean time in the building [h]
    workday_sd_min: float = 45.0
    lunch_share: float = 0.8  # share of office days with lunch in the café
    lunch: str = "12:25"
    lunch_sd_min: float = 20.0
    lunch_min: tuple[float, float] = (20.0, 45.0)
    lunch_zone: str | None = None  # default: the first shared zone named *caf*
    breaks_per_day: float = 1.5  # mean coffee breaks per office day
    break_min: tuple[float, float] = (5.0, 15.0)
    home_desk_share: float = 0.85  # hot desking inside the home neighbourhood
    meetings_per_person_day: float = 0.45  # meetings organised per person present
    meeting_sizes: dict[int, float] = field(
        default_factory=lambda: (
            {1: 0.12, 2: 0.3, 3: 0.18, 4: 0.15, 5: 0.09}
            | {6: 0.07, 8: 0.05, 10: 0.03, 14: 0.01}
        )
    )  # invited people → weight; size 1 = a walk-in call in a booth
    meeting_minutes: dict[int, float] = field(
        default_factory=lambda: {30: 0.45, 60: 0.4, 90: 0.1, 120: 0.05}
    )
    multi_department_share: float = 0.35  # meetings with attendees of other depts
    oversize_room_share: float = 0.25  # small groups booking a bigger room
    no_show_share: float = 0.1  # booked meetings nobody came to
    walk_in_share: float = 0.15  # unbooked meetings
    attendee_absent_share: float = 0.08  # invited people who do not come
    badge_share: float = 0.6  # share of people carrying a BLE badge beacon
    badge_offset: int = 0  # first badge index - 1 (buildings of a portfolio differ)
    # Demand effects (sensors_sim/effects.py; all off by default)
    headcount_growth_pct: float = 0.0  # staff growth over the simulated period [%]
    policy_change_date: str | None = None  # ISO date a hybrid-policy change starts
    policy_office_days_factor: float = 1.0  # attendance factor from that date
    school_holidays: str = "none"  # none | north | middle | south (Dutch regions)
    school_holiday_factor: float = 0.75  # attendance factor in school holidays
    winter_sickness_dip: float = 0.0  # attendance lost at the 1 Feb peak (0-1)
    events: dict[str, float] = field(default_factory=dict)  # ISO date -> factor
    intervention_date: str | None = None  # ISO date the planted effect starts
    intervention_zones: tuple[str, ...] = ()  # zones that get the extra visits
    intervention_visit_share: float = 0.0  # person-days with one extra visit (0-1)
    intervention_visit_min: tuple[float, float] = (15.0, 30.0)  # visit length [min]
    sensors: Sensors = field(default_factory=Sensors)
    faults: Faults = field(default_factory=Faults)

    def replace(self, **changes: object) -> Scenario:
        """A copy with fields changed; ``sensors``/``faults`` may be dicts.
        Values are not checked here (as ``dataclasses.replace``): callers pass
        what ``parse_scenario`` validated or what tests set."""
        fields: dict[str, Any] = dict(changes)
        for key in ("sensors", "faults"):
            part = fields.get(key)
            if isinstance(part, dict):
                fields[key] = dataclasses.replace(getattr(self, key), **part)
        return dataclasses.replace(self, **fields)

    def closed(self, start: dt.date, days: int) -> set[dt.date]:
        """Public holidays and closed days within ``days`` days from ``start``."""
        out = set(self.closed_days)
        if self.holidays == "dutch":
            for year in {start.year, (start + dt.timedelta(days=days)).year}:
                out |= dutch_holidays(year)
        return out


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def dutch_holidays(year: int) -> set[dt.date]:
    """Dutch public holidays most offices close on: New Year, Good Friday,
    Easter Monday, King's Day, Liberation Day (lustrum years), Ascension,
    Whit Monday, Christmas."""
    e = _easter(year)
    kings = dt.date(year, 4, 27)
    if kings.weekday() == 6:
        kings = dt.date(year, 4, 26)
    days = {
        dt.date(year, 1, 1),
        e - dt.timedelta(days=2),
        e + dt.timedelta(days=1),
        kings,
        e + dt.timedelta(days=39),
        e + dt.timedelta(days=50),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
    }
    if year % 5 == 0:
        days.add(dt.date(year, 5, 5))
    return days


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Convert a YAML value to the type of the field's default."""
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise TypeError("must be true or false")
            return value
        if isinstance(default, (int, float)):
            return _number(value, default)
        if isinstance(default, tuple):
            return _sequence(name, value, default)
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise TypeError("must be a mapping")
            if name in ("meeting_sizes", "meeting_minutes"):
                return {int(k): float(v) for k, v in value.items()}
            return {str(k): float(v) for k, v in value.items()}
        if isinstance(default, str) or default is None:
            if name in ("arrival", "lunch"):
                dt.time.fromisoformat(str(value))
            if name in ("policy_change_date", "intervention_date") and value:
                value = dt.date.fromisoformat(str(value)).isoformat()
            return None if value is None else str(value)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{name}: {value!r} {exc}") from exc
    return value


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("must be a number")
    if value < 0:
        raise ValueError("must be ≥ 0")
    return type(default)(value)


def _sequence(name: str, value: Any, default: tuple[Any, ...]) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError("must be a list")
    if name == "working_days":
        return tuple(_DAYS.index(str(d).lower()[:3]) for d in value)
    if name == "closed_days":
        return tuple(dt.date.fromisoformat(str(d)) for d in value)
    if name == "intervention_zones":
        return tuple(str(v) for v in value)
    if default and len(value) != len(default):
        raise ValueError(f"must have {len(default)} items")
    return tuple(float(v) if isinstance(default[0], float) else str(v) for v in value)


def _build(cls: Any, data: Any, path: str) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ScenarioError(f"{path or '(top)'}: must be a mapping")
    defaults = cls()
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in known:
            raise ScenarioError(f"{where}: unknown field (misspelt?)")
        if key == "sensors":
            kwargs[key] = _build(Sensors, value, where)
        elif key == "faults":
            kwargs[key] = _build(Faults, value, where)
        else:
            kwargs[key] = _coerce(where, value, getattr(defaults, key))
    return cls(**kwargs)


def parse_scenario(data: object) -> Scenario:
    """Validate a parsed YAML document into a :class:`Scenario`."""
    sc: Scenario = _build(Scenario, data, "")
    if sc.holidays not in ("dutch", "none"):
        raise ScenarioError(f"holidays: {sc.holidays!r} must be dutch or none")
    if len(sc.weekday_weights) != 5:
        raise ScenarioError("weekday_weights: must list 5 weights (Mon..Fri)")
    _check_effects(sc)
    return sc


def _check_effects(sc: Scenario) -> None:
    """The demand-effect fields (sensors_sim/effects.py) make sense."""
    from occupancy.schoolholidays import REGIONS

    if sc.school_holidays not in REGIONS:
        raise ScenarioError(
            f"school_holidays: {sc.school_holidays!r} must be one of {', '.join(REGIONS)}"
        )
    for name in ("winter_sickness_dip", "intervention_visit_share"):
        if not 0.0 <= getattr(sc, name) <= 1.0:
            raise ScenarioError(f"{name}: {getattr(sc, name)!r} must be in 0..1")
    for day in sc.events:
        try:
            dt.date.fromisoformat(day)
        except ValueError as exc:
            raise ScenarioError(f"events: {day!r} is not an ISO date") from exc
    if sc.intervention_visit_share > 0 and not (
        sc.intervention_date and sc.intervention_zones
    ):
        raise ScenarioError(
            "intervention_visit_share needs intervention_date and intervention_zones"
        )


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario YAML file; ``None`` gives the default scenario
    (``examples/scenario.yaml`` if present, else the built-in defaults)."""
    p = Path(path) if path is not None else DEFAULT_SCENARIO
    if path is None and not p.exists():
        return Scenario()
    try:
        data = yaml.safe_load(p.read_text("utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{p}: not valid YAML: {exc}") from exc
    try:
        return parse_scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{p}: {exc}") from exc
