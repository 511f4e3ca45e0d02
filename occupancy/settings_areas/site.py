"""Settings of one area. The site: id, building file, time zone, working time."""

from __future__ import annotations

from pathlib import Path

from occupancy.settings_areas.spec import _S, Dates, Days, _settings_class


@_settings_class
class SiteSettings:
    """The site: id, building file, time zone, working time."""

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
