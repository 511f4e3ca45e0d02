"""``occupancy analyze`` in parallel gives the single-process rollups, row for
row: on a Dask ``LocalCluster`` with two workers and in two local processes,
on simulated days of the example building (desks, rooms, zone counters and
badge sightings, so every rollup table, co-location included, has rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from psycopg2 import sql

from analytics import store
from analytics.parallel import ParallelError
from analytics.pipeline import run_analyze
from occupancy.db import connect
from occupancy.settings import load_settings

pytestmark = pytest.mark.integration

DAYS = 4
START = dt.date(2026, 3, 6)  # a Friday: the days span a weekend and two weeks
KEY = "parallel-test-key"


@pytest.fixture(scope="module")
def simulated(database_url: str, example_site: Any) -> str:
    import sensors_sim
    from ingest import registry
    from ingest.badges import import_badges
    from ingest.context import DecodeContext
    from ingest.writer import Item, Writer

    result = sensors_sim.simulate(
        example_site, sensors_sim.load_scenario(None), START, days=DAYS, seed=11
    )
    writer = Writer(database_url, client_id="parallel-test")
    devices = writer.load_devices()
    ctx = DecodeContext.from_devices(
        devices,
        tz=example_site.tz,
        pseudonym_key=KEY,
        site=example_site.id,
        max_clock_skew_s=300.0,
    )
    msgs = result.messages
    received = pd.to_datetime(msgs["send_at"], utc=True).tolist()
    items = [
        Item(topic, payload, at, registry.decode_message(topic, payload, at, ctx))
        for topic, payload, at in zip(
            msgs["topic"].tolist(), msgs["payload"].tolist(), received, strict=True
        )
    ]
    by_id = {d.device_id: d for d in devices}
    for i in range(0, len(items), 50_000):
        writer.write(items[i : i + 50_000], by_id, len(items[i : i + 50_000]))
    writer.close()
    badges = result.truth["badges"]
    conn = connect(database_url)
    try:
        import_badges(
            conn,
            KEY,
            list(
                zip(
                    badges["badge_id"].astype(str),
                    badges["department_id"].astype(str),
                    strict=True,
                )
            ),
        )
    finally:
        conn.close()
    return database_url


def _columns(cur: Any, table: str) -> sql.Composable:
    cur.execute(
        """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass
            AND attnum > 0 AND NOT attisdropped AND attname <> 'computed_at'
            ORDER BY attnum""",
        (table,),
    )
    return sql.SQL(", ").join(sql.Identifier(r[0]) for r in cur.fetchall())


def _snapshot(conn: Any, tag: str) -> dict[str, int]:
    """Every rollup table copied to ``<table>__<tag>`` (without computed_at);
    rows per table."""
    rows = {}
    with conn, conn.cursor() as cur:
        for table in store.ROLLUP_TABLES:
            snap = sql.Identifier(f"{table[:40]}__{tag}")
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(snap))
            cur.execute(
                sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
                    snap, _columns(cur, table), sql.Identifier(table)
                )
            )
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(snap))
            rows[table] = cur.fetchone()[0]
    return rows


def _differences(conn: Any, a: str, b: str) -> dict[str, int]:
    """Rows of the ``a`` snapshot not in ``b`` or the reverse (multisets:
    EXCEPT ALL; values compared by the server, floats exactly), per table."""
    out = {}
    with conn, conn.cursor() as cur:
        for table in store.ROLLUP_TABLES:
            ta = sql.Identifier(f"{table[:40]}__{a}")
            tb = sql.Identifier(f"{table[:40]}__{b}")
            cur.execute(
                sql.SQL(
                    "SELECT (SELECT count(*) FROM (TABLE {a} EXCEPT ALL TABLE {b}) x)"
                    " + (SELECT count(*) FROM (TABLE {b} EXCEPT ALL TABLE {a}) y)"
                ).format(a=ta, b=tb)
            )
            out[table] = cur.fetchone()[0]
    return out


def _with_conn(url: str, fn: Any, *args: Any) -> Any:
    conn = connect(url)
    try:
        return fn(conn, *args)
    finally:
        conn.close()


def _analyze(url: str, **kw: Any) -> Any:
    settings = load_settings({"database_url": url, **kw.pop("settings", {})})
    conn = connect(url)
    try:
        return run_analyze(conn, settings, full=True, progress=lambda m: None, **kw)
    finally:
        conn.close()


def test_dask_cluster_and_local_processes_give_the_single_process_rows(
    simulated: str, dask_scheduler: str
) -> None:
    url = simulated
    # Chunks of 2 days: three partitions or more over the days with events.
    small = {"analyze_chunk_days": 2}
    one = _analyze(url, settings=small)
    assert one.chunks >= 3
    reference = _with_conn(url, _snapshot, "one")
    empty = [t for t, n in reference.items() if n == 0]
    assert empty == [], f"rollup tables without rows: {empty}"

    # The setting, as a deployment gives it (OCCUPANCY_DASK_SCHEDULER).
    dask = _analyze(url, settings={**small, "dask_scheduler": dask_scheduler})
    assert (
        dask.chunks == one.chunks
        and dask.rows == one.rows
        and dask.events >= one.events
    )
    _with_conn(url, _snapshot, "dask")
    assert _with_conn(url, _differences, "one", "dask") == dict.fromkeys(reference, 0)

    local = _analyze(url, settings=small, workers=2)
    assert local.chunks == one.chunks and local.rows == one.rows
    _with_conn(url, _snapshot, "procs")
    assert _with_conn(url, _differences, "one", "procs") == dict.fromkeys(reference, 0)


def test_bad_parallel_settings_are_named(
    simulated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analytics import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(ParallelError, match="tcp://host:8786"):
        _analyze(simulated, scheduler="localhost:8786")
    with pytest.raises(ParallelError, match="--workers"):
        _analyze(simulated, workers=0, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ParallelError, match="cannot reach the Dask scheduler"):
        _analyze(simulated, settings={"dask_scheduler": "tcp://127.0.0.1:9"})
