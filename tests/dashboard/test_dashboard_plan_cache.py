"""The Plan page's forecast callback, called as a plain function against a
real database (plan_rows' hourly rows): an edit of the building file's
planned changes (``sites.planned_changes``, migration 0014, written by
``load_site`` as ``occupancy load-building`` does) shows on the next callback,
without a restart; the same key without an edit is reused (issue #18)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import yaml
from plan_rows import FIRST, LAST, insert_levels

from conftest import EXAMPLE_BUILDING

pytestmark = pytest.mark.integration

QUERY = f"?site=hq&from={FIRST}&to={LAST}&wh=1"
CHANGE = LAST + dt.timedelta(days=8)  # the second forecast week's Monday


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    insert_levels(database_url)
    app = create_app(load_settings({"database_url": database_url}))
    yield app
    app.server.extensions["occupancy_dashboard"].close()


def _load_file(url: str, changes: list[dict[str, Any]]) -> None:
    from occupancy.building import parse_building
    from occupancy.db import connect
    from occupancy.metadata import load_site

    doc = copy.deepcopy(yaml.safe_load(EXAMPLE_BUILDING.read_text()))
    doc["site"]["planned_changes"] = changes
    conn = connect(url)
    try:
        load_site(conn, parse_building(doc))
    finally:
        conn.close()


def _forecast_y(fig: Any) -> np.ndarray:
    """The y values of the figure's traces, concatenated."""
    ys = [np.asarray(tr.y, dtype=float) for tr in fig.data if tr.y is not None]
    return np.concatenate(ys) if ys else np.array([])


def test_an_edit_of_the_planned_changes_shows_on_the_next_callback(
    app: Any, database_url: str
) -> None:
    from dashboard.app import page_module

    plan = page_module("plan")
    calls: list[int] = []
    with app.server.test_request_context("/"):
        fig0, _, listed0 = plan.update_forecast(QUERY, "building", 2)
        assert "× 1.5" not in str(listed0)
        _load_file(database_url, [{"date": CHANGE, "factor": 1.5, "note": "3 days"}])
        fig1, _, listed1 = plan.update_forecast(QUERY, "building", 2)
        # Listed, and the forecast from the change's date rises.
        assert "× 1.5" in str(listed1) and "3 days" in str(listed1)
        y0, y1 = _forecast_y(fig0), _forecast_y(fig1)
        assert y0.shape == y1.shape and len(y0)
        assert np.nanmax(y1 - y0) > 1.0
        # The same key without an edit: reused, not recomputed.
        data = app.server.extensions["occupancy_dashboard"]
        real = data.cached

        def counting(key: Any, compute: Any) -> Any:
            return real(key, lambda: (calls.append(1), compute())[1])

        data.cached = counting
        try:
            fig2, _, _ = plan.update_forecast(QUERY, "building", 2)
        finally:
            data.cached = real
        assert calls == []
        np.testing.assert_array_equal(_forecast_y(fig2), y1)
        # Removed again: back to the forecast without it.
        _load_file(database_url, [])
        fig3, _, listed3 = plan.update_forecast(QUERY, "building", 2)
        assert "× 1.5" not in str(listed3)
        np.testing.assert_allclose(_forecast_y(fig3), y0)
