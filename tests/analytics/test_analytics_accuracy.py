"""Accuracy against the simulator's ground truth: simulate a short period of the
example building, decode every message with the ingester's decoders, store
them with its writer, run analyze, and compare with the truth."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics import store
from analytics.calendar import Calendar
from analytics.colocation import colocation_matrix
from analytics.evaluate import (
    colocation_error,
    desk_floor_error,
    room_headcount_error,
    truth_presence,
)
from analytics.pipeline import run_analyze
from occupancy.db import connect
from occupancy.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = int(os.environ.get("OCCUPANCY_ACCURACY_DAYS", "5"))
START = dt.date(2026, 3, 2)  # a Monday
KEY = "accuracy-test-key"


@pytest.fixture(scope="module")
def simulated(database_url: str, example_site: Any) -> dict[str, Any]:
    import sensors_sim
    from ingest import registry
    from ingest.badges import import_badges
    from ingest.context import DecodeContext
    from ingest.writer import Item, Writer

    result = sensors_sim.simulate(
        example_site, sensors_sim.load_scenario(None), START, days=DAYS, seed=7
    )
    writer = Writer(database_url, client_id="accuracy-test")
    devices = writer.load_devices()
    by_id = {d.device_id: d for d in devices}
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
    for i in range(0, len(items), 50_000):
        writer.write(items[i : i + 50_000], by_id, len(items[i : i + 50_000]))
    writer.close()
    conn = connect(database_url)
    try:
        badges = result.truth["badges"]
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
        settings = load_settings({"database_url": database_url})
        run_analyze(conn, settings, progress=lambda m: None)
        cal = Calendar.from_settings(settings, timezone=example_site.timezone)
        spaces, zones = store.read_metadata(conn)
        last = START + dt.timedelta(days=DAYS - 1)
        sd = store.read_rollup(conn, "analytics_space_daily", START, last)
        hc = store.read_rollup(conn, "analytics_room_headcount", START, last)
        meas = store.read_colocation(
            conn, START, last, settings=settings, by_source=False
        )
    finally:
        conn.close()
    return {
        "result": result,
        "url": database_url,
        "truth": result.truth,
        "cal": cal,
        "spaces": spaces,
        "zones": zones,
        "sd": sd,
        "hc": hc,
        "coloc": meas,
        "settings": settings,
    }


def test_desk_time_used_per_floor_within_2_points(simulated: dict[str, Any]) -> None:
    err = desk_floor_error(
        simulated["truth"], simulated["sd"], simulated["spaces"], simulated["cal"]
    )
    print("\n" + err.to_string())
    assert len(err) == 3
    assert (err["true_pct"] > 5).all()  # the comparison means something
    assert err["error_pp"].abs().max() <= 2.0


def test_room_headcount_mean_within_0_3_people(simulated: dict[str, Any]) -> None:
    err = room_headcount_error(
        simulated["truth"], simulated["hc"], simulated["spaces"], simulated["cal"]
    )
    print("\n" + err.describe().to_string())
    assert len(err) >= 15
    # Over all rooms together (time-weighted by nothing: each room once).
    assert abs(err["measured_mean"].mean() - err["true_mean"].mean()) <= 0.3
    assert err["error"].abs().mean() <= 0.3


def test_colocation_within_5_percent_on_unsuppressed_cells(
    simulated: dict[str, Any],
) -> None:
    s = simulated["settings"]
    tp = truth_presence(simulated["truth"], simulated["zones"], simulated["cal"])
    tm = colocation_matrix(
        tp, bucket_minutes=float(s.bucket_minutes), k=1, by_source=False
    )
    ce = colocation_error(tm, simulated["coloc"])
    print("\n" + ce.sort_values("rel_error").tail(8).to_string())
    assert len(ce) >= 10
    total = (ce["minutes"] - ce["true_minutes"]).abs().sum() / ce["true_minutes"].sum()
    print(
        f"total relative error {100 * total:.2f} %, largest cell {100 * ce['rel_error'].max():.2f} %"
    )
    assert total <= 0.05


def test_evaluate_command_prints_errors_per_measure(
    simulated: dict[str, Any], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from app.cli import main

    simulated["result"].write_truth(tmp_path / "truth")
    res = CliRunner().invoke(
        main,
        [
            "--database-url",
            simulated["url"],
            "evaluate",
            "--ground-truth",
            str(tmp_path / "truth"),
        ],
    )
    assert res.exit_code == 0, res.output
    print(res.output)
    assert "desk time used per floor" in res.output and " pp" in res.output
    assert "room head count while occupied: mean abs error" in res.output
    assert "co-location (all sources" in res.output
    missing = CliRunner().invoke(
        main,
        [
            "--database-url",
            simulated["url"],
            "evaluate",
            "--ground-truth",
            str(tmp_path / "nope"),
        ],
    )
    assert missing.exit_code != 0 and "nope" in missing.output


def test_level_sums_without_gathering_equal_the_gathered_ones(
    simulated: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulated week's rollups with the group sums taken from slices
    (consecutive member rows) are bit-identical to gathering every member."""
    from analytics import levels  # level_buckets looks group_row_sums up here
    from analytics.calendar import local_days_utc_range
    from analytics.groupsum import group_row_sums
    from analytics.pipeline import CONTEXT, AnalyzeParams, compute_days

    cal, settings = simulated["cal"], simulated["settings"]
    last = START + dt.timedelta(days=DAYS - 1)
    start, end = local_days_utc_range(cal, START, last)
    conn = connect(simulated["url"])
    try:
        spaces, zones = simulated["spaces"], simulated["zones"]
        events = store.read_events(conn, start - CONTEXT, end + CONTEXT)
        sightings = store.read_sightings(conn, start, end)
        badges = store.read_badge_departments(conn)
    finally:
        conn.close()
    args = (events, sightings, badges, spaces, zones, cal)
    params = AnalyzeParams.from_settings(settings)
    sliced = compute_days(*args, params, START, last)
    monkeypatch.setattr(
        levels,
        "group_row_sums",
        lambda mat, members, firsts: group_row_sums(
            mat, members, firsts, gather_all=True
        ),
    )
    gathered = compute_days(*args, params, START, last)
    assert len(sliced["analytics_level_buckets"]) > 1000
    for table, frame in gathered.items():
        pd.testing.assert_frame_equal(sliced[table], frame, check_exact=True, obj=table)
