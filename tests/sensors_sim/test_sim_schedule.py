"""Schedule statistics against the scenario: office days per week, weekday
shape, arrival/departure, lunch, holidays, desk occupancy, meetings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sensors_sim import Scenario, simulate
from sensors_sim.scenario import dutch_holidays

NO_FAULTS = dict.fromkeys(
    [
        "duplicate",
        "late",
        "out_of_order",
        "malformed",
        "clock_skew",
        "stuck",
        "battery_drain",
        "offline",
    ],
    0.0,
)


def light(**changes: Any) -> Scenario:
    """Few messages per day: the schedule is what these tests look at."""
    sensors = {"desk_heartbeat_s": 3600, "battery_report_s": 43200}
    return Scenario().replace(sensors=sensors | {"ble_idle_report_s": 3600}, **changes)


START = dt.date(2026, 6, 1)  # a Monday; 8 weeks without Dutch holidays
WEEKS = 8


@pytest.fixture(scope="module")
def result(example_site: Any) -> Any:
    sc = light(vacation_share=0.0, holidays="none", faults=NO_FAULTS)
    return simulate(example_site, sc, START, WEEKS * 7, seed=3)


def _person_days(result: Any) -> pd.DataFrame:
    iv = result.truth["intervals"]
    local = iv["start"].dt.tz_convert("Europe/Amsterdam")
    return pd.DataFrame(
        {"person_id": iv["person_id"], "date": local.dt.date}
    ).drop_duplicates()


def test_mean_office_days_per_week_matches_scenario(result: Any) -> None:
    people = result.truth["people"]
    pd_ = _person_days(result)
    realised = len(pd_) / len(people) / WEEKS
    # expected: Σ min(1, days/5 · weekday weight) over a week, mean over people
    w = np.array(Scenario().weekday_weights)
    w = w / w.mean()
    odpw = people["office_days_per_week"].to_numpy()
    expected = np.clip(odpw[:, None] / 5 * w[None, :], 0, 1).sum(axis=1).mean()
    # binomial sd of the mean over 400 people × 40 days is ≈ 0.01 days/week
    assert abs(realised - expected) < 0.06, (realised, expected)
    assert 2.0 < realised < 3.0  # the building file's departments: 2.0-3.2


def test_weekday_shape_and_closed_weekends(result: Any) -> None:
    pd_ = _person_days(result)
    per_wd = pd.Series([d.weekday() for d in pd_["date"]]).value_counts()
    assert 5 not in per_wd and 6 not in per_wd
    assert min(per_wd[1], per_wd[2], per_wd[3]) > max(per_wd[0], per_wd[4])


def test_arrival_departure_lunch_windows(result: Any) -> None:
    iv = result.truth["intervals"]
    local = iv.assign(
        s=iv["start"].dt.tz_convert("Europe/Amsterdam"),
        e=iv["end"].dt.tz_convert("Europe/Amsterdam"),
    )
    day = local.groupby(["person_id", local["s"].dt.date])
    arr = day["s"].min()
    dep = day["e"].max()
    arr_h = arr.dt.hour + arr.dt.minute / 60
    dep_h = dep.dt.hour + dep.dt.minute / 60
    assert 8.0 < arr_h.median() < 10.0
    assert 16.5 < dep_h.median() < 18.5
    lunch = local[local["activity"] == "lunch"]
    lh = lunch["s"].dt.hour + lunch["s"].dt.minute / 60
    assert 12.0 < lh.median() < 13.5
    assert set(lunch["zone_id"]) == {"f0-cafe"}


def test_peak_desk_occupancy_in_dutch_range(example_site: Any) -> None:
    # the default scenario (with leave and sickness), three weeks without holidays
    iv = simulate(example_site, light(), START, 21, seed=5).truth["intervals"]
    desk = iv[iv["activity"] == "desk"]
    shares = []
    for d in pd.date_range(START, periods=21, freq="D"):
        if d.weekday() not in (1, 2, 3):
            continue
        t = pd.Timestamp(f"{d.date()} 11:00", tz="Europe/Amsterdam")
        shares.append(((desk["start"] <= t) & (desk["end"] > t)).sum() / 298)
    assert 0.45 <= float(np.mean(shares)) <= 0.62, np.mean(shares)


def test_meetings_rooms_noshows_walkins(result: Any) -> None:
    m = result.truth["meetings"]
    minutes = (m["end"] - m["start"]).dt.total_seconds() / 60
    assert ((minutes >= 30) & (minutes <= 60)).mean() > 0.75
    booked = m[m["booked"]]
    assert 0.05 < booked["no_show"].mean() < 0.15
    assert (m.loc[m["no_show"], "attendees"] == 0).all()
    assert 0.08 < (~m["booked"] & (m["expected_attendees"] > 1)).mean() < 0.2
    rooms = {r.id: r.capacity for r in result_site_rooms(m)}
    cap = m["room_id"].map(rooms)
    assert (cap >= m["expected_attendees"]).all()
    assert (
        m["expected_attendees"] <= cap / 2
    ).mean() > 0.2  # small groups in big rooms
    # nobody is in two places at once
    iv = result.truth["intervals"].sort_values(["person_id", "start"])
    same = iv["person_id"].eq(iv["person_id"].shift())
    assert (iv["start"][same] >= iv["end"].shift()[same]).all()
    # a desk holds at most one person
    sc_ = result.truth["space_counts"]
    assert sc_.loc[sc_["space_id"].str.contains("-d"), "people"].max() == 1


def result_site_rooms(m: pd.DataFrame) -> list[Any]:

    from occupancy.building import load_building

    site = load_building(
        Path(__file__).resolve().parents[2] / "examples" / "office.yaml"
    )
    return list(site.rooms())


def test_dutch_holidays_closed(example_site: Any) -> None:
    hol = dutch_holidays(2026)
    assert (
        dt.date(2026, 4, 27) in hol and dt.date(2026, 5, 14) in hol
    )  # King's, Ascension
    assert (
        dt.date(2026, 4, 6) in hol and dt.date(2026, 5, 25) in hol
    )  # Easter/Whit Monday
    r = simulate(example_site, light(), dt.date(2026, 4, 27), 1, seed=1)
    assert r.truth["intervals"].empty
