"""Settings of one area. Building area: calendars (bookings sync)."""

from __future__ import annotations

from occupancy.settings_areas.spec import _S, _settings_class


@_settings_class
class BookingsSettings:
    """Building area: calendars (bookings sync)."""

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
