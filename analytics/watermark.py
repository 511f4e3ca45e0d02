"""The analytics watermark: the newest arrival time the rollups have seen
(``analytics_watermark``), so an incremental ``analyze`` recomputes only the
days touched by events that arrived after it.

Light on purpose (no pandas): ``occupancy analyze`` asks :func:`pending`
first and stops there when nothing arrived. One statement gives both the new
watermark and the times of what arrived (:class:`Arrivals`): each statement
over the hypertables plans every chunk of both (a year: ~500 chunks, most of
a short run's database time), so the newest arrival is no longer a statement
of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from occupancy.db import Connection

__all__ = [
    "Arrivals",
    "arrivals_since",
    "local_days",
    "max_received_at",
    "pending",
    "read_watermark",
    "run_marks",
    "settled",
    "write_watermark",
]

#: The UTC bins arrivals are grouped in. Every time zone offset in use is a
#: multiple of 15 min, so a bin lies in one local day; :func:`local_days`
#: also counts the day of a bin's end, for an offset that is not.
BIN = dt.timedelta(minutes=15)

_ARRIVALS = """SELECT date_bin('15 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00+00'),
       max(received_at)
  FROM (SELECT ts, received_at FROM sensor_events WHERE received_at > %(s)s
        UNION ALL
        SELECT ts, received_at FROM badge_sightings WHERE received_at > %(s)s) t
 GROUP BY 1"""


@dataclass(frozen=True)
class Arrivals:
    """Events and sightings (any site's, known or not) received after the
    watermark ``since``: the newest arrival time (None: nothing arrived) and
    the UTC starts of the :data:`BIN` bins their times fall in."""

    since: dt.datetime
    received_at: dt.datetime | None
    bins: tuple[dt.datetime, ...]

    @property
    def mark(self) -> dt.datetime:
        """The newest arrival seen, or ``since`` when nothing arrived (the
        watermark after the run is this, :func:`settled`)."""
        return self.received_at or self.since


def max_received_at(conn: Connection) -> dt.datetime | None:
    """The newest arrival of all (a full run's new watermark)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT GREATEST((SELECT max(received_at) FROM sensor_events),"
            " (SELECT max(received_at) FROM badge_sightings))"
        )
        row = cur.fetchone()
    return row[0] if row else None


def arrivals_since(conn: Connection, since: dt.datetime) -> Arrivals:
    """What arrived after ``since``, in one statement (one snapshot: every
    arrival up to the new watermark that it sees is in its bins)."""
    with conn.cursor() as cur:
        # A parallel plan starts workers that open every chunk again (and
        # cost more than the few rows they scan); only this statement.
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute(_ARRIVALS, {"s": since})
        rows = cur.fetchall()
        cur.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    newest = max((r[1] for r in rows), default=None)
    return Arrivals(since, newest, tuple(sorted(r[0] for r in rows)))


def local_days(conn: Connection, bins: Sequence[dt.datetime], tz: str) -> set[dt.date]:
    """The local days of time zone ``tz`` (PostgreSQL's rules, as the reads
    use) that the bins starting at ``bins`` touch."""
    if not bins:
        return set()
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT (x AT TIME ZONE %(tz)s)::date
                 FROM unnest(%(b)s::timestamptz[]) b,
                      LATERAL (VALUES (b), (b + %(w)s - interval '1 microsecond')) v(x)""",
            {"tz": tz, "b": list(bins), "w": BIN},
        )
        return {r[0] for r in cur.fetchall()}


def read_watermark(conn: Connection) -> dt.datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT received_at FROM analytics_watermark WHERE name = 'events'")
        row = cur.fetchone()
    return row[0] if row else None


def pending(conn: Connection) -> Arrivals | None:
    """What arrived since the watermark; None when there is no watermark yet
    (the first run computes every day)."""
    mark = read_watermark(conn)
    return None if mark is None else arrivals_since(conn, mark)


def settled(
    conn: Connection,
    newest: dt.datetime | None,
    grace_s: float,
    since: dt.datetime | None = None,
) -> dt.datetime | None:
    """The watermark to store after a run that saw arrivals up to ``newest``:
    at most the database clock minus ``grace_s`` (a batch stamped before
    ``newest`` may still be committing), never before ``since`` (the
    watermark the run started from). Arrivals after it are read again by the
    next run, which recomputes their days (same rows)."""
    if newest is None or grace_s <= 0:
        return newest
    with conn.cursor() as cur:
        cur.execute("SELECT now() - make_interval(secs => %s)", (grace_s,))
        row = cur.fetchone()
    horizon: dt.datetime = row[0] if row else newest
    mark = min(newest, horizon)
    return mark if since is None else max(mark, since)


def run_marks(
    conn: Connection,
    full: bool,
    arrivals: Arrivals | None = None,
    grace_s: float = 0.0,
) -> tuple[Arrivals | None, dt.datetime | None, dt.datetime | None]:
    """(arrivals, watermark, the watermark after it) of a run: with no
    watermark yet or ``full``, (None, None, the newest arrival of all); else
    what arrived after the watermark (``arrivals`` if the caller asked
    :func:`pending` already). The watermark after it is :func:`settled`
    with ``grace_s``."""
    if not full and arrivals is None:
        arrivals = pending(conn)
    if full or arrivals is None:
        return None, None, settled(conn, max_received_at(conn), grace_s)
    return (
        arrivals,
        arrivals.since,
        settled(conn, arrivals.mark, grace_s, arrivals.since),
    )


def write_watermark(conn: Connection, received_at: dt.datetime) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO analytics_watermark (name, received_at) VALUES ('events', %s)
               ON CONFLICT (name) DO UPDATE SET received_at = EXCLUDED.received_at,
                   computed_at = now()""",
            (received_at,),
        )
