"""The department network: an edge per pair with lift > 1, its width from
the lift (1 + 3·(lift − 1), at most 10 px, in 0.5 px steps), edges of one
width in one trace, each edge's hover label on both its ends."""

from __future__ import annotations

import math

import numpy as np

from dashboard.collab_figures import network_edges, network_figure

NAN = float("nan")
NAMES = ["Finance", "HR", "IT", "Sales"]
LIFT = np.array(
    [
        [NAN, 1.5, 0.8, 1.6],
        [1.5, NAN, 3.0, NAN],
        [0.8, 3.0, NAN, 9.0],
        [1.6, NAN, 9.0, NAN],
    ]
)


def test_edges_are_the_pairs_above_one_with_their_widths() -> None:
    e = network_edges(LIFT, NAMES)
    pairs = list(zip(e["i"], e["j"], strict=True))
    assert pairs == [(0, 1), (0, 3), (1, 2), (2, 3)]
    # 1 + 3·0.5 = 2.5; 1 + 3·0.6 = 2.8 → 3.0; 1 + 3·2 = 7; 25 → capped at 10
    assert list(e["width"]) == [2.5, 3.0, 7.0, 10.0]
    assert list(e["label"])[2] == "HR × IT: 3.00"


def test_one_trace_per_width_with_gaps_between_edges() -> None:
    fig = network_figure(LIFT, NAMES, ["#000"] * 4, "en")
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    assert [tr.line.width for tr in lines] == [2.5, 3.0, 7.0, 10.0]
    hr_it = lines[2]
    assert len(hr_it.x) == 3 and math.isnan(hr_it.x[2])
    # HR (index 1) sits at 90°, IT (index 2) at 180° on the unit circle
    assert math.isclose(hr_it.x[0], 0.0, abs_tol=1e-12) and hr_it.y[0] == 1.0
    assert hr_it.x[1] == -1.0 and math.isclose(hr_it.y[1], 0.0, abs_tol=1e-12)
    assert list(hr_it.text) == ["HR × IT: 3.00", "HR × IT: 3.00", ""]
    markers = [tr for tr in fig.data if tr.mode == "markers+text"]
    assert len(markers) == 1 and list(markers[0].text) == NAMES


def test_no_pair_above_one_draws_only_the_departments() -> None:
    low = np.where(np.isfinite(LIFT), 0.5, NAN)
    fig = network_figure(low, NAMES, ["#000"] * 4, "nl")
    assert [tr.mode for tr in fig.data] == ["markers+text"]
    one = network_figure(np.array([[NAN]]), ["IT"], ["#000"], "en")
    assert [tr.mode for tr in one.data] == ["markers+text"]
