"""Pure dashboard functions with hand-built inputs and hand-worked results."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.auth import check_basic, parse_users
from dashboard.filters import ViewFilters, parse_query, to_query, with_query
from dashboard.i18n import LABELS, t
from dashboard.selection import live_states, select_spaces
from occupancy.settings import SettingError

TODAY = dt.date(2026, 11, 27)


def test_parse_query_defaults_to_28_days_ending_yesterday() -> None:
    f = parse_query("", TODAY, site="hq")
    assert f == ViewFilters(
        site="hq", start=dt.date(2026, 10, 30), end=dt.date(2026, 11, 26)
    )
    assert f.days == 28
    assert f.working_hours_only is True


def test_query_round_trip_and_short_links() -> None:
    f = ViewFilters(
        site="hq",
        floor="f1",
        department="it",
        start=dt.date(2026, 11, 2),
        end=dt.date(2026, 11, 8),
        working_hours_only=False,
    )
    q = to_query(f)
    assert q == "?site=hq&floor=f1&department=it&from=2026-11-02&to=2026-11-08&wh=0"
    assert parse_query(q, TODAY) == f


def test_parse_query_forgives_bad_and_backwards_input() -> None:
    f = parse_query("?from=2026-11-20&to=2026-11-10&zone=&floor=f2", TODAY)
    assert (f.start, f.end) == (dt.date(2026, 11, 10), dt.date(2026, 11, 20))
    assert f.zone is None and f.floor == "f2"
    g = parse_query("?from=yesterday&to=2026-11-10", TODAY)
    # bad "from" falls back to 28 days ending on "to"
    assert (g.start, g.end) == (dt.date(2026, 10, 14), dt.date(2026, 11, 10))


def test_previous_period_has_the_same_length_just_before() -> None:
    f = ViewFilters(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 8))
    p = f.previous()
    assert (p.start, p.end) == (dt.date(2026, 10, 26), dt.date(2026, 11, 1))


def test_utc_range_uses_local_midnights() -> None:
    # Amsterdam is UTC+1 in November: local midnight 2 Nov = 1 Nov 23:00 UTC.
    f = ViewFilters(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 2))
    lo, hi = f.utc_range("Europe/Amsterdam")
    assert lo == dt.datetime(2026, 11, 1, 23, 0, tzinfo=dt.UTC)
    assert hi == dt.datetime(2026, 11, 2, 23, 0, tzinfo=dt.UTC)


def test_with_query_adds_replaces_and_removes() -> None:
    assert with_query("?a=1&b=2", b="3", c="x") == "?a=1&b=3&c=x"
    assert with_query("?a=1", a=None) == ""


def test_parse_users_and_check_basic() -> None:
    users = parse_users(" fm:s3cret , ana:pa:ss ")
    assert users == {"fm": "s3cret", "ana": "pa:ss"}
    assert check_basic(users, "ana", "pa:ss")
    assert not check_basic(users, "ana", "pa")
    assert not check_basic(users, "bob", "s3cret")
    assert not check_basic(users, None, None)
    with pytest.raises(SettingError, match="auth_users"):
        parse_users("fm")


def test_every_label_has_english_and_dutch() -> None:
    for key, (en, nl) in LABELS.items():
        assert en and nl, key
    assert t("nav_floor_map", "nl") == "Plattegrond"
    assert t("empty_all_suppressed", "en", k=5).startswith(
        "Every cell covers fewer than 5 people"
    )


def test_live_states_from_people_counts() -> None:
    live = pd.DataFrame({"space_id": ["a", "b", "c"], "people": [2.0, 0.0, np.nan]})
    out = live_states(live)
    assert out["state"].tolist() == ["occupied", "free", "unknown"]


def _meta() -> dict[str, pd.DataFrame]:
    return {
        "buildings": pd.DataFrame(
            {
                "building_id": ["main", "annex"],
                "site_id": ["hq", "hq"],
                "name": ["M", "A"],
            }
        ),
        "floors": pd.DataFrame(
            {
                "floor_id": ["f0", "f1", "a0"],
                "building_id": ["main", "main", "annex"],
                "level": [0, 1, 0],
                "name": ["G", "1", "AG"],
                "width_m": [10.0, 10.0, 5.0],
                "height_m": [8.0, 8.0, 5.0],
            }
        ),
        "zones": pd.DataFrame(
            {
                "zone_id": ["z0", "z1", "z2"],
                "floor_id": ["f0", "f1", "a0"],
                "department_id": ["it", "hr", None],
                "name": ["Z0", "Z1", "Z2"],
                "kind": ["neighbourhood", "neighbourhood", "shared"],
                "capacity": [2, 1, 1],
            }
        ),
        "spaces": pd.DataFrame(
            {
                "space_id": ["d1", "d2", "d3", "r1"],
                "zone_id": ["z0", "z0", "z1", "z2"],
                "kind": ["desk", "desk", "desk", "meeting_room"],
                "floor_id": ["f0", "f0", "f1", "a0"],
                "name": ["D1", "D2", "D3", "R1"],
                "capacity": [1, 1, 1, 6],
                "x": [1.0, 3.0, 1.0, 1.0],
                "y": [1.0, 1.0, 1.0, 1.0],
                "width": [1.6, 1.6, 1.6, 3.0],
                "height": [0.8, 0.8, 0.8, 2.0],
            }
        ),
    }


def test_select_spaces_by_building_floor_and_department() -> None:
    meta = _meta()
    spaces, _, floors = select_spaces(meta, ViewFilters(building="main"))
    assert spaces["space_id"].tolist() == ["d1", "d2", "d3"]
    assert floors["floor_id"].tolist() == ["f0", "f1"]
    spaces, _, _ = select_spaces(meta, ViewFilters(department="hr"))
    assert spaces["space_id"].tolist() == ["d3"]
    spaces, _, _ = select_spaces(meta, ViewFilters(floor="a0"))
    assert spaces["space_id"].tolist() == ["r1"]


def test_every_rejection_code_the_ingester_writes_has_words() -> None:
    """Each ``Rejection("<code>", ...)`` in the ingester and the core (and
    each code the docs list) is shown in words on the Devices page."""
    import re
    from pathlib import Path

    from dashboard.i18n import REJECTION_REASONS

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "ingest").rglob("*.py"), *(root / "occupancy").rglob("*.py")]
    code = re.compile(r"Rejection\(\s*\"([a-z0-9_]+)\"")
    found = {m for p in sources for m in code.findall(p.read_text())}
    assert len(found) >= 10, found  # the pattern still finds the codes
    assert found <= set(REJECTION_REASONS), found - set(REJECTION_REASONS)
    docs = (root / "docs" / "ingest.md").read_text()
    listed = set(
        re.findall(
            r"\(`([a-z0-9_]+)`\)", docs.split("## Hostile input")[1].split("##")[0]
        )
    )
    assert listed and listed <= set(REJECTION_REASONS), listed - set(REJECTION_REASONS)
