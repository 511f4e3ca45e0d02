"""Data for the compose stack's analytics: days of the example building's
desks, rooms and BLE badge sightings, generated with the vectorized generator
of benchmarks/analytics.py for the spaces the stack's `migrate` loaded, and
COPYed into its TimescaleDB through psql in the database container (it is not
published); and a digest of every rollup table to compare two runs."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import sys
from typing import Any

import pandas as pd
from compose_stack import Stack, run

from analytics.db_io import ROLLUP_TABLES

from conftest import ROOT


def _bench() -> Any:
    name = "bench_analytics"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "benchmarks" / "analytics.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def psql_in(stack: Stack, command: str, data: str) -> str:
    """Run ``command`` (e.g. a ``\\copy ... FROM STDIN``) as the migrations
    owner in the database container with ``data`` on its stdin."""
    res = run(
        ["podman", "exec", "-i", "-e",
         f"PGPASSWORD={stack.env['POSTGRES_PASSWORD']}",
         stack.container("timescaledb"), "psql", "-h", "127.0.0.1", "-U",
         "occupancy", "-d", "occupancy", "-v", "ON_ERROR_STOP=1", "-c", command],
        input=data,
    )  # fmt: skip
    return res.stdout


def _csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False)
    return buf.getvalue()


def _nulls(column: pd.Series) -> pd.Series:
    """psql -A prints NULL as an empty string."""
    return column.where(column != "", None)


def stack_spaces(stack: Stack) -> pd.DataFrame:
    """The stack's spaces in the generator's columns."""
    rows = stack.psql(
        "SELECT s.space_id, s.kind, s.capacity, z.zone_id, z.kind,"
        " COALESCE(z.department_id, ''), z.floor_id"
        " FROM spaces s JOIN zones z USING (zone_id) ORDER BY s.space_id"
    )
    cols = ["space_id", "kind", "capacity", "zone_id", "zone_kind"]
    frame = pd.DataFrame(rows, columns=[*cols, "department_id", "floor_id"])
    frame["capacity"] = frame["capacity"].astype(int)
    frame["department_id"] = _nulls(frame["department_id"])
    return frame


def load_days(stack: Stack, first: dt.date, last: dt.date) -> tuple[int, int]:
    """Sensor events and badge sightings of local days ``first``..``last``
    (weekdays) for the stack's spaces, with the badges' departments; returns
    (events, sightings)."""
    bench = _bench()
    spaces = stack_spaces(stack)
    events = bench.generate(spaces, first, last, seed=19)
    # and a sensor of a space the building file does not have (a data-quality
    # row: occupied time of an unknown space)
    gone = events[events["space_id"] == events["space_id"].iloc[0]].copy()
    gone["space_id"] = "f9-removed-d001"
    events = pd.concat([events, gone], ignore_index=True)
    events = events.drop_duplicates(["space_id", "kind", "ts"])
    frame = pd.DataFrame(
        {
            "ts": events["ts"].dt.strftime("%Y-%m-%d %H:%M:%S.%f+00"),
            "device_id": events["space_id"],
            "space_id": events["space_id"],
            "kind": events["kind"],
            "value": events["value"],
        }
    )
    psql_in(
        stack,
        "\\copy sensor_events (ts, device_id, space_id, kind, value) FROM STDIN CSV",
        _csv(frame),
    )
    # every zone: the shared ones (lounges) have no spaces
    zones = pd.DataFrame(
        stack.psql("SELECT zone_id, kind, department_id FROM zones ORDER BY 1"),
        columns=["zone_id", "kind", "department_id"],
    )
    zones["department_id"] = _nulls(zones["department_id"])
    depts = bench.badge_departments(spaces)
    days = (last - first).days + 1
    sightings, register = bench.badge_sightings(zones, depts, first, days, seed=19)
    sightings["ts"] = sightings["ts"].dt.strftime("%Y-%m-%d %H:%M:%S+00")
    cols = ", ".join(sightings.columns)
    psql_in(stack, f"\\copy badge_sightings ({cols}) FROM STDIN CSV", _csv(sightings))
    psql_in(
        stack,
        "\\copy badge_departments (badge, department_id) FROM STDIN CSV",
        _csv(register),
    )
    return len(frame), len(sightings)


def clear_rollups(stack: Stack) -> None:
    """Empty every rollup table (as their owner), so the next run computes
    every row anew."""
    stack.psql(f"TRUNCATE {', '.join(ROLLUP_TABLES)}")


def rollup_digest(stack: Stack) -> dict[str, tuple[int, str]]:
    """Rows and an order-independent md5 of the rows of every rollup table
    (``computed_at`` left out); two queries."""
    names = ", ".join(f"'{t}'" for t in ROLLUP_TABLES)
    cols = dict(
        stack.psql(
            "SELECT attrelid::regclass::text,"
            " string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
            f" FROM pg_attribute WHERE attrelid = ANY(ARRAY[{names}]::regclass[])"
            " AND attnum > 0 AND NOT attisdropped AND attname <> 'computed_at'"
            " GROUP BY 1"
        )
    )
    query = " UNION ALL ".join(
        f"SELECT '{t}', count(*), md5(COALESCE(string_agg(r, '|' ORDER BY r), ''))"
        f" FROM (SELECT ({cols[t]})::text AS r FROM {t}) t"
        for t in ROLLUP_TABLES
    )
    return {t: (int(n), digest) for t, n, digest in stack.psql(query)}
