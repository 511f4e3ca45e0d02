"""The dashboard's one I/O module: a connection pool, cached metadata, and
cached calls of the analytics read API.

Historic views read only the analytics rollups through the typed
:mod:`analytics.api` (imported directly; k-suppressed frames): pages call
``data.read(api.read_utilization, f, level="floor")``. Metadata (spaces, zones,
floors, devices, device health, rejected messages) is read directly. Callbacks
get the instance of the running app with :func:`current`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import flask
import pandas as pd
import psycopg2.errors
from psycopg2.pool import ThreadedConnectionPool

from analytics import api
from analytics.api import Filters
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings, mask_url

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = [
    "AnalyticsUnavailable",
    "DashboardData",
    "RangeRead",
    "current",
    "report_csv",
    "report_levels",
]

EXTENSION_KEY = "occupancy_dashboard"
#: Metadata is re-read after this long, so a reloaded building file shows up [s].
METADATA_TTL_S = 300.0
#: Rollup reads are reused this long unless `occupancy analyze` ran meanwhile [s].
RESULT_TTL_S = 600.0
#: How often the analyze watermark is checked for new rollups [s].
VERSION_CHECK_S = 5.0
#: Cached rollup reads kept at most (oldest dropped first).
RESULT_CACHE_SIZE = 256
#: Device lists and health, and rejected-message counts, are reused this long
#: [s] (the overview's live panel refreshes every 30 s; a device is offline
#: after minutes of silence).
DEVICE_TTL_S = 15.0


class AnalyticsUnavailable(RuntimeError):
    """The analytics rollups cannot be read (their tables are missing: the
    analytics migrations have not run); the message says what to do."""


class RangeRead(Protocol):
    """An :mod:`analytics.api` reader over local dates [start, end]."""

    def __call__(
        self,
        conn: Connection,
        start: dt.date,
        end: dt.date,
        /,
        *,
        filters: Filters | None = ...,
        settings: Settings | None = ...,
    ) -> pd.DataFrame: ...


class DashboardData:
    """Database access for one app: a small pool of connections (Dash serves
    callbacks on several threads) and metadata cached for :data:`METADATA_TTL_S`."""

    def __init__(self, settings: Settings, *, max_connections: int = 4) -> None:
        self.settings = settings
        self._url = settings.effective_database_url
        self._max = max_connections
        self._pool: ThreadedConnectionPool | None = None
        self._lock = threading.Lock()
        self._meta: dict[str, pd.DataFrame] = {}
        self._meta_at = 0.0
        self._meta_version: dt.datetime | None = None
        #: (spaces, zones) as analytics.api.read_metadata returns them, read
        #: with the dashboard's metadata and given to every rollup read.
        self._analytics_meta: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self._live: dict[Hashable, tuple[float, pd.DataFrame]] = {}
        self._results: OrderedDict[Hashable, tuple[Any, float, Any]] = OrderedDict()
        self._version: dt.datetime | None = None
        self._version_at = -VERSION_CHECK_S

    # connections ---------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection in autocommit mode (dashboard reads only)."""
        with self._lock:
            if self._pool is None:
                logger.info("dashboard database %s", mask_url(self._url))
                self._pool = ThreadedConnectionPool(
                    1,
                    self._max,
                    self._url,
                    connect_timeout=self.settings.db_connect_timeout_s,
                    application_name="occupancy-dashboard",
                    # Reads of well under a second: JIT compilation costs
                    # more than it saves (10-100 ms per query, more under load).
                    options="-c jit=off",
                )
            pool = self._pool
        conn = pool.getconn()
        broken = False
        try:
            conn.autocommit = True
            yield conn
        except Exception:
            broken = bool(conn.closed)
            raise
        finally:
            pool.putconn(conn, close=broken)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None

    # cached rollup reads ------------------------------------------------------
    def rollup_version(self) -> dt.datetime | None:
        """When ``occupancy analyze`` last wrote rollups (its watermark), checked
        at most every :data:`VERSION_CHECK_S` seconds."""
        now = time.monotonic()
        if now - self._version_at >= VERSION_CHECK_S:
            with self.connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT to_regclass('analytics_watermark') IS NOT NULL")
                row = cur.fetchone()
                version = None
                if row and row[0]:
                    cur.execute("SELECT max(computed_at) FROM analytics_watermark")
                    got = cur.fetchone()
                    version = got[0] if got else None
            self._version, self._version_at = version, now
        return self._version

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, reused for the same ``key`` until new rollups are
        written or :data:`RESULT_TTL_S` passes. Callers must not modify the
        result (frames are shared between requests)."""
        version = self.rollup_version()
        now = time.monotonic()
        with self._lock:
            hit = self._results.get(key)
            if hit is not None and hit[0] == version and now - hit[1] < RESULT_TTL_S:
                self._results.move_to_end(key)
                value: T = hit[2]
                return value
        value = compute()
        with self._lock:
            self._results[key] = (version, now, value)
            while len(self._results) > RESULT_CACHE_SIZE:
                self._results.popitem(last=False)
        return value

    def clear_cache(self) -> None:
        with self._lock:
            self._results.clear()
            self._meta = {}
            self._analytics_meta = None
            self._live.clear()

    def _live_cached(
        self, key: Hashable, compute: Callable[[], pd.DataFrame]
    ) -> pd.DataFrame:
        """``compute()``, reused for :data:`DEVICE_TTL_S` (device state)."""
        now = time.monotonic()
        with self._lock:
            hit = self._live.get(key)
        if hit is not None and now - hit[0] < DEVICE_TTL_S:
            return hit[1]
        value = compute()
        with self._lock:
            self._live[key] = (now, value)
        return value

    # metadata --------------------------------------------------------------
    def metadata(self) -> dict[str, pd.DataFrame]:
        """sites, buildings, floors, zones, spaces, departments (cached)."""
        now = time.monotonic()
        version = self.rollup_version()
        if (
            self._meta
            and now - self._meta_at < METADATA_TTL_S
            and version == self._meta_version
        ):
            return self._meta
        from occupancy.metadata import read_spaces, read_zones

        with self.connection() as conn:
            analytics_meta = api.read_metadata(conn)
            meta = {
                "sites": read_frame(
                    conn, "SELECT site_id, name, timezone FROM sites ORDER BY site_id"
                ),
                "buildings": read_frame(
                    conn,
                    "SELECT building_id, site_id, name FROM buildings ORDER BY building_id",
                ),
                "floors": read_frame(
                    conn,
                    "SELECT floor_id, building_id, level, name, width_m, height_m "
                    "FROM floors ORDER BY building_id, level",
                ),
                "zones": read_zones(conn),
                "spaces": read_spaces(conn),
                "departments": read_frame(
                    conn,
                    "SELECT department_id, site_id, name, headcount, color "
                    "FROM departments ORDER BY department_id",
                ),
            }
        with self._lock:
            self._meta, self._meta_at, self._meta_version = meta, now, version
            self._analytics_meta = analytics_meta
        return meta

    def analytics_metadata(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(spaces, zones) as ``analytics.api.read_metadata`` returns them,
        cached with :meth:`metadata` (re-read after :data:`METADATA_TTL_S` or
        a new ``occupancy analyze`` run); do not modify."""
        self.metadata()
        given = self._analytics_meta
        if given is None:  # cleared meanwhile
            with self.connection() as conn:
                given = api.read_metadata(conn)
        return given

    def devices(self) -> pd.DataFrame:
        """Every device with its health row (last_seen, battery_pct, online),
        reused for :data:`DEVICE_TTL_S`; do not modify."""
        return self._live_cached("devices", self._read_devices)

    def _read_devices(self) -> pd.DataFrame:
        with self.connection() as conn:
            frame: pd.DataFrame = read_frame(
                conn,
                """SELECT d.device_id, d.kind, d.family, d.space_id, d.zone_id,
                          d.assigned, h.last_seen, h.battery_pct, h.online
                     FROM devices d LEFT JOIN device_health h USING (device_id)
                    ORDER BY d.device_id""",
            )
        return frame

    def device_observations(self) -> pd.DataFrame:
        """Devices heard but not placed in the building (devices, migration
        0110): family, kinds, last topic and payload (NULL for BLE messages);
        reused for :data:`DEVICE_TTL_S`."""
        return self._live_cached("observations", self._read_observations)

    def _read_observations(self) -> pd.DataFrame:
        with self.connection() as conn:
            frame: pd.DataFrame = read_frame(
                conn,
                """SELECT device_id, family, kinds, last_topic, last_payload,
                          last_heard, messages
                     FROM device_observations ORDER BY device_id""",
            )
        return frame

    def rejected_by_reason(self, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
        """Rejected messages received in [start, end) counted by reason,
        reused for :data:`DEVICE_TTL_S`. An ``end`` in the future is moved to
        the next multiple of that time (no message is received in the future,
        so the counts are the same), which makes repeated calls hit."""
        if end.tzinfo is not None and end > dt.datetime.now(dt.UTC):
            step = int(DEVICE_TTL_S)
            end = dt.datetime.fromtimestamp(
                -(-int(end.timestamp()) // step) * step, dt.UTC
            )

        def compute() -> pd.DataFrame:
            with self.connection() as conn:
                frame: pd.DataFrame = read_frame(
                    conn,
                    """SELECT reason, count(*) AS messages, max(received_at) AS last_at
                         FROM rejected_messages
                        WHERE received_at >= %s AND received_at < %s
                        GROUP BY reason ORDER BY messages DESC, reason""",
                    (start, end),
                )
            return frame

        return self._live_cached(("rejected", start, end), compute)

    # analytics ---------------------------------------------------------------
    @contextmanager
    def _analytics_read(self) -> Iterator[Connection]:
        """A connection for analytics reads, which use the cached metadata."""
        spaces, zones = self.analytics_metadata()
        with (
            self.connection() as conn,
            _rollups_missing(),
            api.given_metadata(spaces, zones),
        ):
            yield conn

    def read(
        self, func: RangeRead, f: Filters, **options: str | bool | int
    ) -> pd.DataFrame:
        """``func(conn, f.start, f.end, filters=f, settings=..., **options)``,
        reused until the next ``occupancy analyze`` (see :meth:`cached`)."""
        start, end = _range(f)

        def compute() -> pd.DataFrame:
            with self._analytics_read() as conn:
                return func(
                    conn, start, end, filters=f, settings=self.settings, **options
                )

        return self.cached((func, f, tuple(sorted(options.items()))), compute)

    def live_state(self, now: dt.datetime) -> pd.DataFrame:
        """Current state of every space (``analytics.api.read_live``, the
        reader of the API's ``/live`` too): columns ``api.LIVE_COLUMNS``,
        state occupied, vacant, unknown or private."""
        spaces = self.metadata()["spaces"]
        with self.connection() as conn, _rollups_missing():
            return api.read_live(conn, now, settings=self.settings, spaces=spaces)

    def report(
        self, name: str, f: Filters, *, level: str | None = None
    ) -> pd.DataFrame:
        """The exact frame ``occupancy export`` writes for these filters."""
        start, end = _range(f)

        def compute() -> pd.DataFrame:
            with self._analytics_read() as conn:
                return api.build_report(
                    conn,
                    name,
                    start,
                    end,
                    level=level,
                    filters=f,
                    settings=self.settings,
                )

        return self.cached(("report", name, level, f), compute)


def _range(f: Filters) -> tuple[dt.date, dt.date]:
    if f.start is None or f.end is None:
        raise ValueError(f"the view has no date range: {f}")
    return f.start, f.end


@contextmanager
def _rollups_missing() -> Iterator[None]:
    try:
        yield
    except psycopg2.errors.UndefinedTable as exc:
        raise AnalyticsUnavailable(
            f"the analytics tables are missing ({exc.diag.message_primary}): "
            "run `occupancy db migrate` and `occupancy analyze`"
        ) from exc


def report_levels() -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Every ``occupancy export`` report: name -> (levels, default level)."""
    return {
        name: (tuple(spec.levels), spec.default_level)
        for name, spec in api.REPORTS.items()
    }


def report_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as the CSV bytes ``occupancy export --format csv`` writes."""
    buf = io.BytesIO()
    api.write_report(frame, "csv", buf)
    return buf.getvalue()


def current() -> DashboardData:
    """The :class:`DashboardData` of the app serving this request."""
    data: DashboardData = flask.current_app.extensions[EXTENSION_KEY]
    return data
