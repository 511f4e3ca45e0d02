"""What one ``occupancy analyze`` run computes: its partitions, each one site
× one chunk of consecutive local days of that site (:mod:`analytics.sites`:
every site in its own time zone, working hours and closed days).

A partition is computed from the database alone (its site's events with one
day of context on each side, its sightings) and written in one transaction
that replaces only its site's rows of its days, so partitions are
independent: in one process (:mod:`analytics.chunk_io`) or in parallel
(:mod:`analytics.parallel`), the rows are the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from analytics.pipeline import AnalyzeParams, DayRun, compute_days, day_runs
from analytics.sites import SitePlan, SiteScope, site_plans, years_of
from analytics.watermark import Arrivals, local_days
from occupancy.db import Connection
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["AnalyzePlan", "Partition", "plan_analyze"]


class Partition(NamedTuple):
    """One site's chunk of consecutive local days, both included."""

    site: str
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class AnalyzePlan:
    """What a run computes: its sites (calendars and metadata), rules and
    partitions, in site order and each site's chunks in day order."""

    mode: str
    #: Every local day computed, of any site.
    days: frozenset[dt.date]
    runs: tuple[Partition, ...]
    sites: tuple[SitePlan, ...]
    params: AnalyzeParams
    badge_departments: pd.DataFrame

    def site(self, site_id: str) -> SitePlan:
        for s in self.sites:
            if s.site_id == site_id:
                return s
        raise KeyError(site_id)

    def compute(
        self, events: pd.DataFrame, sightings: pd.DataFrame, part: Partition
    ) -> dict[str, pd.DataFrame]:
        """The rollups of one partition from its site's events and sightings."""
        sp = self.site(part.site)
        frames = compute_days(
            events,
            sightings,
            self.badge_departments,
            sp.spaces,
            sp.zones,
            sp.cal,
            self.params,
            part.first,
            part.last,
        )
        badges = frames.get("analytics_coloc_badges_site")
        if badges is not None:
            frames["analytics_coloc_badges_site"] = badges.assign(site_id=sp.site_id)
        return frames


def _days_to_compute(
    conn: Connection,
    tz: str,
    mark: dt.datetime | None,
    first: dt.date | None,
    last: dt.date | None,
    scope: SiteScope | None = None,
    span: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None),
    arrivals: Arrivals | None = None,
) -> tuple[str, set[dt.date]]:
    """(mode, local days of time zone ``tz`` to recompute): with no watermark
    ``mark`` every day in [first, last] (default: the local days of ``span``,
    the first and last instant with events of any site); else the days
    touched by the site's events received after it and their neighbours
    (the only site's: the days of ``arrivals``, what arrived after ``mark``,
    when given)."""
    from analytics import store

    if mark is None:
        if span[0] is None or span[1] is None:
            return "full", set()
        lo, hi = span[0].tz_convert(tz).date(), span[1].tz_convert(tz).date()
        a, b = first or lo, last or hi
        return "full", {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}
    if scope is None and arrivals is not None and arrivals.since == mark:
        touched = local_days(conn, arrivals.bins, tz)
    else:
        touched = store.touched_days(conn, mark, tz, scope)
    days = {d + dt.timedelta(days=o) for d in touched for o in (-1, 0, 1)}
    if first:
        days = {d for d in days if d >= first}
    if last:
        days = {d for d in days if d <= last}
    return "incremental", days


def _chunk_days(settings: Settings) -> int:
    n = int(settings.analyze_chunk_days)
    if n < 1:
        raise ValueError(f"setting analyze_chunk_days {n}: must be at least 1")
    return n


def plan_analyze(
    conn: Connection,
    settings: Settings,
    mark: dt.datetime | None,
    first: dt.date | None,
    last: dt.date | None,
    arrivals: Arrivals | None = None,
) -> AnalyzePlan:
    """The partitions to compute (see :func:`analytics.pipeline.run_analyze`)
    and what they need; ``arrivals``: what arrived after ``mark``, if known."""
    from analytics import store
    from analytics.site_io import event_ts_range, read_sites

    sites = read_sites(conn)
    spaces, zones = store.read_metadata(conn)
    if sites.empty:  # no building loaded: setting site's time zone (as before)
        sites = pd.DataFrame(
            {
                "site_id": [settings.site],
                "timezone": [store.site_timezone(conn, settings)],
            }
        )
    # The days first (they need only the time zones), then the calendars with
    # the public holidays of those years.
    mode, per_site = "full" if mark is None else "incremental", {}
    span = event_ts_range(conn) if mark is None else (None, None)
    for sp in site_plans(sites, spaces, zones, settings, ()):
        mode, per_site[sp.site_id] = _days_to_compute(
            conn, sp.cal.timezone, mark, first, last, sp.scope, span, arrivals
        )
    every = set().union(*per_site.values()) if per_site else set()
    plans = site_plans(sites, spaces, zones, settings, years_of(every))
    n = _chunk_days(settings)
    runs = tuple(
        Partition(sp.site_id, *run)
        for sp in plans
        for run in day_runs(per_site.get(sp.site_id, set()), n)
    )
    return AnalyzePlan(
        mode=mode,
        days=frozenset(every),
        runs=runs,
        sites=tuple(plans),
        params=AnalyzeParams.from_settings(settings),
        badge_departments=store.read_badge_departments(conn),
    )


def run_of(part: Partition) -> DayRun:
    """The chunk of days of ``part``."""
    return DayRun(part.first, part.last)
