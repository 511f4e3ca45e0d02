"""The Portfolio page's weekly trend figure: a line per building over every
Monday of the span (a week without data is a gap, not a straight line across
it), and the 12-week window up to the period's end."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from dashboard.filters import ViewFilters
from dashboard.portfolio_figures import TREND_WEEKS, trend_figure, trend_filters


def _weekly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": [dt.date(2026, 3, 2), dt.date(2026, 3, 16), dt.date(2026, 3, 2)],
            "name": ["Building pa", "Building pa", "Building pb"],
            "utilization_pct": [40.0, 50.0, 30.0],
        }
    )


def test_a_week_without_data_is_a_gap_in_its_buildings_line() -> None:
    fig = trend_figure(_weekly(), "en")
    lines = {tr.name: tr for tr in fig.data}
    assert sorted(lines) == ["Building pa", "Building pb"]
    pa = lines["Building pa"]
    assert [pd.Timestamp(x).date() for x in pa.x] == [
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 16),
    ]
    assert pa.y[0] == 40.0 and math.isnan(pa.y[1]) and pa.y[2] == 50.0
    assert pa.connectgaps is False
    pb = lines["Building pb"].y
    assert pb[0] == 30.0 and math.isnan(pb[1]) and math.isnan(pb[2])
    assert "12 weeks" in fig.layout.title.text


def test_no_data_is_an_empty_figure_that_says_so() -> None:
    fig = trend_figure(_weekly().iloc[0:0], "nl")
    assert fig.data == ()
    assert "Geen" in str(fig.layout.annotations[0].text)


def test_the_window_is_the_whole_weeks_up_to_the_periods_end() -> None:
    f = ViewFilters(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 8))
    wide = trend_filters(f)
    assert wide.end == f.end and wide.start is not None
    assert wide.start.weekday() == 0
    assert (f.end - wide.start).days + 1 == 7 * TREND_WEEKS
    long = ViewFilters(start=dt.date(2026, 1, 5), end=dt.date(2026, 11, 8))
    assert trend_filters(long).start == long.start
