"""The dashboard's cached metadata and narrower reads give what the readers
gave before (issue #16): every rollup reader called with the metadata given
(analytics.read_meta.given_metadata) returns the frame it returns reading the
metadata itself; the hour-of-week profile without percentiles is the full
profile without those columns; a page without a table swaps dash-ag-grid's
bundle for the stand-in. On the demo week analysed by the real pipeline
(conftest.seed_demo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from analytics.filters import Filters

WEEK = (dt.date(2026, 11, 2), dt.date(2026, 11, 8))

FILTERS = [
    Filters(site="hq"),
    Filters(site="hq", floor="f0"),
    Filters(site="hq", department="operations"),
    Filters(site="hq", floor="f0", working_hours_only=False),
]


def _readers() -> list[tuple[str, Callable[..., pd.DataFrame], dict[str, Any]]]:
    from analytics import api

    cases: list[tuple[str, Callable[..., pd.DataFrame], dict[str, Any]]] = [
        (f"utilization {lv}", api.read_utilization, {"level": lv})
        for lv in ("space", "zone", "floor", "building", "department", "room", "day")
    ]
    cases += [
        (f"hour_of_week {lv}", api.read_hour_of_week, {"level": lv})
        for lv in ("space", "zone", "building")
    ]
    cases += [
        ("room_sizing", api.read_room_sizing, {}),
        ("sessions", api.read_sessions, {}),
        ("desk_sharing", api.read_desk_sharing, {}),
        ("colocation", api.read_colocation, {}),
        ("diversity", api.read_diversity, {}),
    ]
    return cases


@pytest.fixture(scope="module")
def conn(demo_db: dict[str, Any]) -> Iterator[Any]:
    from occupancy.db import connect

    c = connect(demo_db["url"])
    c.autocommit = True
    yield c
    c.close()


@pytest.mark.integration
@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_readers_with_given_metadata_equal_readers_reading_it(
    conn: Any, filters: Filters
) -> None:
    from analytics import api
    from occupancy.settings import load_settings

    settings = load_settings({"site": "hq"})
    f = Filters(**{**filters.__dict__, "start": WEEK[0], "end": WEEK[1]})
    spaces, zones = api.read_metadata(conn)
    shown = 0
    for name, read, options in _readers():
        before = read(conn, *WEEK, filters=f, settings=settings, **options)
        with api.given_metadata(spaces, zones):
            after = read(conn, *WEEK, filters=f, settings=settings, **options)
        pd.testing.assert_frame_equal(after, before, obj=name)
        shown += len(before)
    assert shown > 0
    # The readers changed nothing of the frames given to them.
    pd.testing.assert_frame_equal(spaces, api.read_metadata(conn)[0])


@pytest.mark.integration
@pytest.mark.parametrize("level", ["zone", "building", "department", "space"])
@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_hour_of_week_means_only_is_the_profile_without_percentiles(
    conn: Any, filters: Filters, level: str
) -> None:
    from analytics import api
    from analytics.read_hour_of_week import PERCENTILE_COLUMNS
    from occupancy.settings import load_settings

    settings = load_settings({"site": "hq"})
    full = api.read_hour_of_week(
        conn, *WEEK, level=level, filters=filters, settings=settings
    )
    means = api.read_hour_of_week(
        conn, *WEEK, level=level, filters=filters, settings=settings, means_only=True
    )
    if full.empty:
        assert means.empty
        return
    assert set(PERCENTILE_COLUMNS) <= set(full.columns)
    assert not set(PERCENTILE_COLUMNS) & set(means.columns)
    pd.testing.assert_frame_equal(means, full.drop(columns=list(PERCENTILE_COLUMNS)))


def test_only_pages_with_a_table_load_the_grid_bundle() -> None:
    from dashboard.page_scripts import GRID_PAGES, page_scripts

    bundle = "/_dash-component-suites/dash_ag_grid/dash_ag_grid.v35_3_0m1.min.js"
    scripts = (
        '<script src="/_dash-component-suites/dash/deps/react@18.v3.min.js"></script>\n'
        f'<script src="{bundle}"></script>\n'
        '<script src="/assets/a11y.js?m=1"></script>'
    )
    for path in GRID_PAGES:
        assert page_scripts(scripts, path, "/assets/grid-lazy.js") == scripts
    lazy = page_scripts(scripts, "/floor-map", "/assets/grid-lazy.js")
    assert bundle not in lazy.replace(f'data-bundle="{bundle}"', "")
    assert (
        f'<script src="/assets/grid-lazy.js" data-bundle="{bundle}"></script>' in lazy
    )
    assert (
        lazy.replace(
            f'<script src="/assets/grid-lazy.js" data-bundle="{bundle}"></script>',
            f'<script src="{bundle}"></script>',
        )
        == scripts
    )


def test_versioned_assets_are_cached_long() -> None:
    from dashboard.page_scripts import versioned_asset

    assert versioned_asset("/assets/a11y.js", "1796289955.28")
    assert versioned_asset("/assets/plotly-cartesian-4.1.1.min.js", None)
    assert not versioned_asset("/assets/layout-early.js", None)
    assert not versioned_asset("/assets/style.css", "")


@pytest.mark.integration
def test_versioned_assets_are_served_with_a_long_cache_lifetime(
    demo_db: dict[str, Any],
) -> None:
    from dashboard.app import create_app
    from dashboard.page_scripts import ASSET_MAX_AGE_S
    from occupancy.settings import load_settings

    app = create_app(load_settings({"database_url": demo_db["url"]}))
    client = app.server.test_client()
    for url in ("/assets/a11y.js?m=1", "/assets/plotly-cartesian-4.1.1.min.js"):
        r = client.get(url)
        assert r.status_code == 200
        assert (
            r.cache_control.max_age == ASSET_MAX_AGE_S and not r.cache_control.no_cache
        )
    plain = client.get("/assets/layout-early.js")
    assert plain.status_code == 200 and plain.cache_control.max_age is None
    app.server.extensions["occupancy_dashboard"].close()
