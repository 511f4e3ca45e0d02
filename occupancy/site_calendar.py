"""A site's own calendar in its building file (``site:`` country,
working_hours, working_days, holidays): what the file says, checked by the
rules of the settings of the same names. None: not given, the setting
applies. docs/building.md."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the pydantic schema only types an argument here: not
    # imported at run time, so `occupancy analyze` (via analytics.sites)
    # does not build the building file's models (~0.2 s CPU)
    from occupancy import building_schema as sch

logger = logging.getLogger(__name__)

__all__ = ["DAYS", "SiteCalendar", "check_site_calendar", "parse_working_hours"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SiteCalendar:
    """What a site's building file says of its calendar; None: not given."""

    country: str | None = None
    working_hours: str | None = None
    working_days: tuple[str, ...] | None = None
    holidays: tuple[dt.date, ...] | None = None


def parse_working_hours(raw: str) -> tuple[dt.time, dt.time]:
    """``HH:MM-HH:MM`` as (start, end); ValueError naming ``raw`` when not."""
    try:
        start, end = (dt.time.fromisoformat(p.strip()) for p in raw.split("-"))
    except ValueError:
        raise ValueError(f"{raw!r} is not HH:MM-HH:MM") from None
    if end <= start:
        raise ValueError(f"{raw!r} ends before it starts")
    return start, end


def check_site_calendar(
    site_in: sch.SiteIn, err: Callable[[str, str], Exception]
) -> SiteCalendar:
    """The calendar fields of the file's ``site:``, checked; ``err(path,
    message)`` builds the error raised for a bad one."""
    hours = site_in.working_hours
    if hours is not None:
        try:
            parse_working_hours(hours)
        except ValueError as exc:
            raise err("site.working_hours", str(exc)) from None
    days = site_in.working_days
    if days is not None:
        days = [d.strip().lower() for d in days]
        bad = [d for d in days if d not in DAYS]
        if bad:
            raise err(
                "site.working_days", f"{bad[0]!r} is not one of {', '.join(DAYS)}"
            )
    country = site_in.country
    if country is not None:
        import holidays as holidays_lib

        country = country.strip().upper()
        if country not in holidays_lib.list_supported_countries():
            raise err("site.country", f"{site_in.country!r}: no public holidays known")
    return SiteCalendar(
        country,
        hours,
        None if days is None else tuple(days),
        None if site_in.holidays is None else tuple(sorted(set(site_in.holidays))),
    )
