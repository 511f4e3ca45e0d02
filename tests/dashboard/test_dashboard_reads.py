"""The collaboration page's faster reads (one weekly diversity read, the
combined matrix alone) show exactly what the reads they replaced gave, on the
demo week analysed by the real pipeline (conftest.seed_demo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(demo_db: dict[str, Any]) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    app = create_app(load_settings({"database_url": demo_db["url"]}))
    yield app
    app.server.extensions["occupancy_dashboard"].close()


def _old_diversity_by_week(data: Any, f: Any) -> pd.DataFrame:
    """The page's diversity before: one read_diversity call per week."""
    from analytics import api
    from dashboard.app import page_module

    # The loaded page module (importing it again would register the page twice).
    co = page_module("collaboration")
    parts = []
    for lo, hi in co.week_ranges(f.start, f.end)[-co.MAX_MIX_WEEKS :]:
        week = data.read(api.read_diversity, replace(f, start=lo, end=hi))
        if len(week):
            parts.append(week.assign(week=lo))
    if not parts:
        return pd.DataFrame(columns=["zone_id", "week", "simpson", "suppressed"])
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    "query",
    [
        "?site=hq&from=2026-11-02&to=2026-11-08&wh=1",
        # starts on a Wednesday: the first week is cut and labelled by it
        "?site=hq&from=2026-10-28&to=2026-11-04&wh=1",
        "?site=hq&from=2026-11-04&to=2026-11-04&wh=1",
        "?from=2026-08-03&to=2026-11-08&floor=f0",  # 14 weeks: the last 13
        "?from=2026-11-09&to=2026-11-15",  # no data
    ],
)
def test_diversity_by_week_equals_one_read_per_week(app: Any, query: str) -> None:
    from dashboard.app import current_filters, page_module
    from dashboard.data import current

    with app.server.test_request_context("/"):
        f = current_filters(query)
        data = current()
        data.clear_cache()
        got = page_module("collaboration").diversity_by_week(data, f)
        want = _old_diversity_by_week(data, f)
    if want.empty:
        assert got.empty
        return
    pd.testing.assert_frame_equal(got, want)


def test_demo_week_diversity_is_shown_and_suppressed_as_before(app: Any) -> None:
    """The demo's shared zone: 14 people (6 IT, 6 HR, 2 Legal) on Tue and Wed."""
    from dashboard.app import current_filters, page_module
    from dashboard.data import current

    with app.server.test_request_context("/"):
        f = current_filters("?site=hq&from=2026-11-02&to=2026-11-08&wh=1")
        div = page_module("collaboration").diversity_by_week(current(), f)
    assert div["week"].tolist() == [dt.date(2026, 11, 2)]
    assert div["people"].tolist() == [14.0]
    assert not bool(div["suppressed"].iloc[0])


def test_collaboration_matrix_is_the_combined_source(app: Any) -> None:
    """read_colocation without per-source cells gives the "all" rows of the
    full read: the page's matrix is unchanged (Legal's 2 people suppressed)."""
    from analytics import api
    from dashboard.app import current_filters
    from dashboard.data import current

    with app.server.test_request_context("/"):
        f = current_filters("?site=hq&from=2026-11-02&to=2026-11-08&wh=1")
        data = current()
        fast = data.read(api.read_colocation, f, by_source=False)
        full = data.read(api.read_colocation, f)
    want = full[full["source"] == "all"].reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, want)
    legal = fast[(fast["department_a"] == "legal") | (fast["department_b"] == "legal")]
    assert len(legal) and bool(legal["suppressed"].all())
    assert not bool(fast["suppressed"].all())


def test_styled_figures_equal_update_layout_figures(app: Any) -> None:
    """styled() assigns the template without re-validating it: the figure JSON
    is what fig.update_layout(**base_layout(...)) gave."""
    import json

    import numpy as np
    import plotly
    import plotly.graph_objects as go

    from dashboard.theme import base_layout, empty_figure, styled

    def as_json(fig: go.Figure) -> Any:
        return json.loads(json.dumps(fig, cls=plotly.utils.PlotlyJSONEncoder))

    def heat() -> go.Figure:
        return go.Figure(go.Heatmap(z=np.arange(168.0).reshape(7, 24)))

    old = heat()
    old.update_layout(
        **base_layout(height=300, title="t"), yaxis={"autorange": "reversed"}
    )
    new = styled(
        heat(), **base_layout(height=300, title="t"), yaxis={"autorange": "reversed"}
    )
    assert as_json(new) == as_json(old)
    assert as_json(new)["layout"]["template"]["layout"]["paper_bgcolor"] == "white"
    blank = go.Figure()
    blank.update_layout(**base_layout(), xaxis={"visible": False})
    got = as_json(empty_figure("x"))
    assert got["layout"]["template"] == as_json(blank)["layout"]["template"]
    assert got["layout"]["annotations"][0]["text"] == "x"
