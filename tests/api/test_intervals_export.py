"""`occupancy export intervals`: every space's timeline after the analytics'
rules; the hour-of-week means of `export hour-of-week --level space` are
recomputed from it here and must match."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.intervals import INTERVAL_EXPORT_COLUMNS, export_intervals
from app.cli import main

from .conftest import WEEK

pytestmark = pytest.mark.integration

TZ = "Europe/Amsterdam"


def test_export_intervals_pure() -> None:
    """Two spaces over [0, 100) s: known pieces clipped, gaps unknown, a
    space without data one unknown interval."""
    iv = pd.DataFrame(
        {
            "space_id": ["a", "a", "r", "b"],
            "start": [-10.0, 30.0, 20.0, 90.0],
            "end": [20.0, 50.0, 60.0, 200.0],
            "value": [1.0, 0.0, 3.0, 1.0],
            "is_count": [False, False, True, False],
        }
    )
    spaces = pd.DataFrame(
        {
            "space_id": ["a", "r", "z"],
            "kind": ["desk", "meeting_room", "desk"],
            "zone_id": ["z1", "z1", "z2"],
            "floor_id": ["f0", "f0", "f1"],
        }
    )
    out = export_intervals(iv, spaces, 0.0, 100.0)
    t = lambda s: pd.Timestamp(s, unit="s", tz="UTC").as_unit("ns")  # noqa: E731
    expected = pd.DataFrame(
        {
            "space_id": ["a", "a", "a", "a", "r", "r", "r", "z"],
            "kind": ["desk"] * 4 + ["meeting_room"] * 3 + ["desk"],
            "zone_id": ["z1"] * 7 + ["z2"],
            "floor_id": ["f0"] * 7 + ["f1"],
            "start": [t(0), t(20), t(30), t(50), t(0), t(20), t(60), t(0)],
            "end": [t(20), t(30), t(50), t(100), t(20), t(60), t(100), t(100)],
            "state": ["occupied", "unknown", "vacant", "unknown", "unknown",
                      "occupied", "unknown", "unknown"],
            "people": [np.nan, np.nan, np.nan, np.nan, np.nan, 3.0, np.nan, np.nan],
        }
    )  # fmt: skip
    out["start"] = out["start"].dt.as_unit("ns")
    out["end"] = out["end"].dt.as_unit("ns")
    pd.testing.assert_frame_equal(out, expected)


def _export(url: str, *args: str) -> Any:
    runner = CliRunner()
    res = runner.invoke(main, ["export", *args], env={"OCCUPANCY_DATABASE_URL": url})
    assert res.exit_code == 0, res.output
    return res


def test_intervals_csv_and_parquet(demo_db: dict[str, Any], tmp_path: Any) -> None:
    url = demo_db["url"]
    res = _export(url, "intervals", "--from", WEEK[0], "--to", WEEK[1])
    csv = pd.read_csv(io.StringIO(res.stdout))
    assert list(csv.columns) == list(INTERVAL_EXPORT_COLUMNS)
    assert (
        csv["start"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$").all()
    )
    assert set(csv["state"]) == {"occupied", "vacant", "unknown"}
    # Each space's timeline covers the local week exactly, without overlap.
    lo = pd.Timestamp(WEEK[0], tz=TZ).tz_convert("UTC")
    hi = pd.Timestamp(WEEK[1], tz=TZ).tz_convert("UTC") + pd.Timedelta(days=1)
    for col in ("start", "end"):
        csv[col] = pd.to_datetime(csv[col], utc=True)
    for _, g in csv.groupby("space_id"):
        assert g["start"].iloc[0] == lo and g["end"].iloc[-1] == hi
        assert (g["start"].iloc[1:].to_numpy() == g["end"].iloc[:-1].to_numpy()).all()
    desk = demo_db["desks"][0]
    occ = csv[(csv["space_id"] == desk) & (csv["state"] == "occupied")]
    # Occupied 09:00-12:00 local on Tue and Wed; the last occupied heartbeat
    # at 11:50 holds until the vacant one at 12:00.
    assert list(occ["start"].dt.tz_convert(TZ).dt.strftime("%a %H:%M")) == [
        "Tue 09:00",
        "Wed 09:00",
    ]
    assert list(occ["end"].dt.tz_convert(TZ).dt.strftime("%H:%M")) == ["12:00", "12:00"]
    room = csv[(csv["space_id"] == demo_db["room"]) & (csv["state"] == "occupied")]
    assert list(room["people"]) == [4.0, 4.0]
    out = tmp_path / "iv.parquet"
    _export(url, "intervals", "--from", WEEK[0], "--to", WEEK[1], "--floor", "f0",
            "--format", "parquet", "-o", str(out))  # fmt: skip
    pq = pd.read_parquet(out)
    assert list(pq.columns) == list(INTERVAL_EXPORT_COLUMNS)
    assert set(pq["floor_id"]) == {"f0"} and len(pq) > 0
    assert (
        str(pq["start"].dtype).startswith("datetime64")
        and pq["start"].dt.tz is not None
    )


def _hour_of_week_from_intervals(iv: pd.DataFrame) -> pd.DataFrame:
    """What an analyst does with the export: split the known intervals at
    local hours, mean head count per (space, local day, hour) over the known
    time (a desk's occupied = 1 person), then the mean over weeks."""
    known = iv[iv["state"] != "unknown"].copy()
    known["n"] = np.where(
        known["state"] == "occupied", known["people"].fillna(1.0), 0.0
    )
    rows = []
    for r in known.itertuples():
        start = r.start.tz_convert(TZ)
        end = r.end.tz_convert(TZ)
        cut = start.floor("h")
        while cut < end:
            nxt = cut + pd.Timedelta(hours=1)
            a, b = max(start, cut), min(end, nxt)
            if b > a:
                s = (b - a).total_seconds()
                rows.append((r.space_id, cut.date(), cut.hour, s, s * r.n))
            cut = nxt
    h = pd.DataFrame(
        rows, columns=["space_id", "day", "hour", "measured_s", "people_s"]
    )
    h = h.groupby(["space_id", "day", "hour"], as_index=False).sum()
    h["people"] = h["people_s"] / h["measured_s"]
    h["weekday"] = pd.to_datetime(h["day"]).dt.weekday
    out = h.groupby(["space_id", "weekday", "hour"], as_index=False)["people"].mean()
    return out.rename(columns={"space_id": "level_id", "people": "people_mean"})


def test_hour_of_week_reproduced_from_intervals(demo_db: dict[str, Any]) -> None:
    url = demo_db["url"]
    iv = pd.read_csv(
        io.StringIO(
            _export(url, "intervals", "--from", WEEK[0], "--to", WEEK[1]).stdout
        )
    )
    for col in ("start", "end"):
        iv[col] = pd.to_datetime(iv[col], utc=True)
    how = pd.read_csv(io.StringIO(_export(
        url, "hour-of-week", "--from", WEEK[0], "--to", WEEK[1], "--level", "space", "--all-hours"
    ).stdout))  # fmt: skip
    mine = _hour_of_week_from_intervals(iv)
    theirs = how[["level_id", "weekday", "hour", "people_mean"]]
    merged = theirs.merge(mine, on=["level_id", "weekday", "hour"], how="outer",
                          suffixes=("_export", "_intervals"), indicator=True)  # fmt: skip
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert len(merged) > 100 and merged["people_mean_export"].gt(0).sum() > 20
    np.testing.assert_allclose(
        merged["people_mean_intervals"],
        merged["people_mean_export"],
        rtol=1e-6,
        atol=1e-6,
    )
