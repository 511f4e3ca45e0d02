"""The floor map's figure on the example building: every desk, department
tints with a legend, zone names (desk and room names on zoom), polygons where the building has
them (the columns are added here when the schema does not have them yet),
and the live layer's four states."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

ZONE_POLY = [[1.0, 1.0], [9.0, 1.0], [12.0, 6.0], [1.0, 8.0]]
ROOM_POLY = [[2.0, 2.0], [6.0, 2.0], [5.0, 5.0]]


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.db import connect
    from occupancy.settings import load_settings

    conn = connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("ALTER TABLE zones ADD COLUMN IF NOT EXISTS polygon jsonb NULL")
            cur.execute(
                "ALTER TABLE spaces ADD COLUMN IF NOT EXISTS polygon jsonb NULL"
            )
            cur.execute(
                "UPDATE zones SET polygon = %s WHERE zone_id = 'f0-operations'",
                (json.dumps(ZONE_POLY),),
            )
            cur.execute(
                "SELECT space_id FROM spaces WHERE kind = 'meeting_room' "
                "ORDER BY space_id LIMIT 1"
            )
            row = cur.fetchone()
            assert row is not None
            cur.execute(
                "UPDATE spaces SET polygon = %s WHERE space_id = %s",
                (json.dumps(ROOM_POLY), row[0]),
            )
    finally:
        conn.close()
    app = create_app(load_settings({"database_url": database_url}))
    with app.server.test_request_context("/"):
        yield app
    app.server.extensions["occupancy_dashboard"].close()


def _figure(values: pd.Series, measure: str, language: str = "en") -> dict[str, Any]:
    from dashboard.app import page_module
    from dashboard.data import current
    from dashboard.filters import ViewFilters

    fm = page_module("floor_map")
    data = current()
    meta = data.metadata()
    spaces, zones, floors = fm.select_spaces(meta, ViewFilters(site="hq"))
    zone_geo, space_geo = fm.geometry(data)
    fig: dict[str, Any] = fm.floor_figure(
        fm._without(spaces, space_geo, "space_id").merge(space_geo, on="space_id"),
        fm._without(zones, zone_geo, "zone_id").merge(zone_geo, on="zone_id"),
        floors,
        meta["departments"],
        values,
        measure,
        language,
    )
    return fig


def _trace(fig: dict[str, Any], name: str) -> dict[str, Any]:
    (one,) = [d for d in fig["data"] if d.get("name") == name]
    return one


def _outlines(fig: dict[str, Any], name: str) -> list[list[float]]:
    """The x coordinates of every outline the filled traces ``name`` draw
    (outlines are separated by gaps)."""
    out: list[list[float]] = []
    for d in fig["data"]:
        if d.get("name") != name:
            continue
        assert d["fill"] == "toself" and d["hoverinfo"] == "skip"
        cur: list[float] = []
        for x in d["x"]:
            if x is None:
                out.append(cur)
                cur = []
            else:
                cur.append(x)
        assert cur == []  # every outline ends with its gap
    return out


def _fills(fig: dict[str, Any]) -> set[str]:
    return {d["fillcolor"] for d in fig["data"] if d.get("fill") == "toself"}


def test_every_space_polygons_tints_names_and_legend(app: Any) -> None:
    values = pd.Series({"f0-operations-d001": 100.0, "f0-operations-d002": 0.0})
    fig = _figure(values, "time_used_pct")
    kinds = [c[1] for c in _trace(fig, "spaces")["customdata"]]
    assert kinds.count("desk") == 298 and len(kinds) == 298 + 25
    # Every space one closed outline, drawn as filled traces (one per colour),
    # not as layout shapes: the layout keeps only the floors' outlines.
    spaces = _outlines(fig, "space outlines")
    assert len(spaces) == 298 + 25
    assert all(s[0] == s[-1] for s in spaces)
    assert len(fig["layout"]["shapes"]) == len(current_meta()["floors"])
    # The polygon zone and the triangle room are drawn as their polygons, not
    # rectangles (4 and 3 corners, plus the closing point).
    assert [1.0, 9.0, 12.0, 1.0, 1.0] in _outlines(fig, "zones")
    assert [s for s in spaces if len(s) == 4] == [[2.0, 6.0, 5.0, 2.0]]
    fills = _fills(fig)
    # Cividis ends: 0 % dark blue, 100 % yellow.
    assert "rgb(0, 34, 78)" in fills and "rgb(254, 232, 56)" in fills
    # Operations' neighbourhood tinted with its colour (#E69F00 in office.yaml).
    assert "rgba(230,159,0,0.22)" in fills
    meta = current_meta()
    assert set(meta["zones"]["name"]) <= set(_trace(fig, "zone names")["text"])
    legend = [d["name"] for d in fig["data"] if d.get("legendgroup") == "departments"]
    depts = meta["departments"]
    shown = set(meta["zones"]["department_id"].dropna())
    assert sorted(legend) == sorted(depts[depts["department_id"].isin(shown)]["name"])
    # Desk and room names exist but wait for the zoom; they and the markers
    # are drawn above the outlines.
    labels = _trace(fig, "space names")
    assert labels["mode"] == "text" and labels["visible"] is False
    assert sorted(labels["text"]) == sorted(meta["spaces"]["name"])
    order = [d.get("name") for d in fig["data"]]
    assert order.index("space names") > max(
        i for i, n in enumerate(order) if n == "space outlines"
    )


def test_measure_colour_steps() -> None:
    """A measure is filled with the colour of its nearest 5 % step; no value
    is white; the hover label keeps the exact value."""
    from dashboard.floorplan import _space_colors

    fills, labels = _space_colors(
        pd.Series([0.0, 2.4, 2.6, 100.0, 130.0, None]), "time_used_pct", "en"
    )
    assert fills[0] == fills[1] == "rgb(0, 34, 78)" != fills[2]
    assert fills[3] == fills[4] == "rgb(254, 232, 56)"
    assert fills[5] == "rgba(255,255,255,0.9)"
    assert labels == ["0.0 %", "2.4 %", "2.6 %", "100.0 %", "130.0 %", "–"]


def current_meta() -> dict[str, pd.DataFrame]:
    from dashboard.data import current

    return current().metadata()


def test_live_layer_four_states(app: Any) -> None:
    from dashboard.selection import space_live_states
    from dashboard.theme import LIVE_COLORS

    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    live = pd.DataFrame(
        {
            "space_id": ["a", "b", "c", "d"],
            "state": ["occupied", "free", "unknown", "unknown"],
            "people": [1.0, 0.0, None, None],
        }
    )
    devices = pd.DataFrame(
        {
            "space_id": ["a", "b", "c", "d", "e", None],
            "online": [True, True, True, False, None, True],
            "last_seen": [now, now, now - dt.timedelta(hours=5), now, None, now],
        }
    )
    states = space_live_states(live, devices, now, timeout_min=30.0)
    # c: silent 5 h but not reported offline: unknown (no recent data);
    # d: reported offline; e: never heard: not a state of its own.
    assert states.to_dict() == {
        "a": "occupied",
        "b": "free",
        "c": "unknown",
        "d": "offline",
    }
    values = pd.Series(
        {
            "f0-operations-d001": "occupied",
            "f0-operations-d002": "free",
            "f0-operations-d003": "offline",
        }
    )
    fig = _figure(values, "live", "nl")
    fills = _fills(fig)
    for state in ("occupied", "free", "unknown", "offline"):
        assert LIVE_COLORS[state] in fills, state
    legend = [d["name"] for d in fig["data"] if d.get("legendgroup") == "live"]
    assert legend == ["Bezet", "Vrij", "Onbekend (geen recente data)", "Sensor offline"]


def test_a_department_without_colour_is_grey() -> None:
    from dashboard.floorplan import _rgba

    assert _rgba("#E69F00", 0.22) == "rgba(230,159,0,0.22)"
    assert _rgba(None, 0.5) == _rgba("nope", 0.5) == "rgba(150,150,150,0.5)"
