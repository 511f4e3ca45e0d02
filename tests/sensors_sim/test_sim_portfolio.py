"""The simulated portfolio: buildings in several cities and time zones whose
ids never collide (one database holds them all), deterministic, with their
own habits and costs; ``occupancy simulate portfolio`` writes loadable files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main
from occupancy.building import load_building
from sensors_sim import simulate
from sensors_sim.portfolio import CITIES, make_portfolio, portfolio_manifest


def test_portfolio_buildings_differ_and_ids_never_collide() -> None:
    items = make_portfolio(10, seed=3)
    assert [b.code for b in items][:6] == [
        "ams1",
        "rtm1",
        "lon1",
        "nyc1",
        "sin1",
        "ams2",
    ]
    assert {b.site.timezone for b in items} == {c.timezone for c in CITIES}
    assert len({b.desks for b in items}) > 3, "sizes should differ"
    for what in ("spaces", "zones", "floors", "devices"):
        ids: list[str] = []
        for b in items:
            sub = {
                "spaces": [s.id for s in b.site.spaces()],
                "zones": [z.id for z in b.site.zones()],
                "floors": [f.id for f in b.site.floors()],
                "devices": [d.id for d in b.site.devices],
            }[what]
            assert all(i.startswith(b.code) or i.split("-", 1)[1].startswith(b.code)
                       for i in sub), what  # fmt: skip
            ids += sub
        assert len(ids) == len(set(ids)), f"{what} ids collide across buildings"
    depts = [d.id for b in items for d in b.site.departments]
    assert len(depts) == len(set(depts))
    # habits: each city's arrival and holidays, and every cost case present
    sc = {b.code: b.scenario for b in items}
    assert sc["nyc1"].arrival == "08:30" and sc["ams1"].holidays == "dutch"
    assert sc["lon1"].holidays == "none"
    m = portfolio_manifest(items)
    assert m["cost_per_desk_year"].notna().any() and m["cost_per_m2_year"].notna().any()
    assert (m["cost_per_desk_year"].isna() & m["cost_per_m2_year"].isna()).any()


def test_portfolio_is_deterministic_and_badges_are_disjoint() -> None:
    a = make_portfolio(3, seed=5, scale=0.2)
    b = make_portfolio(3, seed=5, scale=0.2)
    assert [x.doc for x in a] == [y.doc for y in b]
    assert [x.doc for x in make_portfolio(3, seed=6, scale=0.2)] != [x.doc for x in a]
    badges = []
    for i, item in enumerate(a[:2]):
        r = simulate(item.site, item.scenario, dt.date(2026, 3, 2), 2, 1 + i)
        badges.append(set(r.truth["badges"]["badge_id"]))
        # local working hours: the first arrivals are in the morning, local time
        iv = r.truth["intervals"]
        hours = iv["start"].dt.tz_convert(item.site.timezone).dt.hour
        assert 6 <= int(hours.min()) <= 9, item.code
    assert badges[0] and badges[1] and not badges[0] & badges[1]


@pytest.mark.parametrize("bad", [["--buildings", "0"], ["--scale", "0"]])
def test_portfolio_cli_refuses_bad_options(bad: list[str], tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main, ["simulate", "portfolio", *bad, "--no-publish", "--out", str(tmp_path)]
    )
    assert out.exit_code == 2 and bad[0] in out.output


def test_portfolio_cli_writes_loadable_buildings_and_truth(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main,
        ["simulate", "portfolio", "--buildings", "3", "--scale", "0.2", "--weeks", "1",
         "--start", "2026-03-02", "--no-publish", "--truth-format", "csv",
         "--out", str(tmp_path)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    m = pd.read_csv(tmp_path / "portfolio.csv")
    assert list(m["building_id"]) == ["ams1", "rtm1", "lon1"]
    for row in m.itertuples():
        site = load_building(tmp_path / "buildings" / f"{row.building_id}.yaml")
        assert site.timezone == row.timezone
        assert sum(1 for _ in site.desks()) == row.desks
        truth = pd.read_csv(tmp_path / "truth" / str(row.building_id) / "intervals.csv")
        assert truth["person_id"].nunique() > 0
        assert row.true_person_days > 0
        assert (tmp_path / "bookings" / f"{row.building_id}.csv").exists()
    badges = pd.read_csv(tmp_path / "badges.csv")
    assert badges["badge_id"].is_unique
    assert set(badges["department_id"].str.split("-").str[0]) == {
        "ams1",
        "rtm1",
        "lon1",
    }
