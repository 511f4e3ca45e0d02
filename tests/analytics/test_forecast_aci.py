"""Adaptive conformal inference and pooled relative errors over the backtest
(analytics/forecast_aci.py, forecast_calib.py) on hand-built backtest rows
whose score distributions are known here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.forecast_aci import aci_levels
from analytics.forecast_calib import block_levels, interval_z, pooled_relative
from analytics.forecast_model import calibrate


def _bt(scales: list[float], seed: int = 3, weeks: int = 2) -> pd.DataFrame:
    """Backtest rows of one model: origins 2 weeks apart, ``weeks`` weeks
    ahead × 5 days × 10 hours, |y − ŷ| ÷ sd = |N(0, 1)| × the origin's scale."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, s in enumerate(scales):
        n = weeks * 50
        parts.append(
            pd.DataFrame(
                {
                    "origin": 10 + 2 * i,
                    "week_ahead": np.repeat(np.arange(1, weeks + 1), 50),
                    "hour": np.tile(np.repeat(np.arange(8, 18), 5), weeks),
                    "y": s * rng.standard_normal(n),
                    "yhat": 0.0,
                    "sd": 1.0,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_exchangeable_scores_keep_the_levels_near_the_targets() -> None:
    lv80, lv95 = aci_levels(_bt([1.0] * 10), (0.2, 0.05))
    assert lv80 == pytest.approx(0.8, abs=0.1)
    assert lv95 == pytest.approx(0.95, abs=0.05)


def test_errors_growing_over_the_origins_raise_the_levels() -> None:
    """The later origins' errors are twice the earlier ones: the split-
    conformal 80 % quantile of all of them under-covers the next, ACI widens."""
    bt = _bt([1.0] * 5 + [2.0] * 5)
    lv80, lv95 = aci_levels(bt, (0.2, 0.05))
    assert lv80 > 0.9
    assert lv95 > 0.97
    z80, _ = calibrate(bt, np.array([1]), np.array([8]), (lv80, lv95))
    z80_split, _ = calibrate(bt, np.array([1]), np.array([8]))
    assert z80[0] > z80_split[0]


def test_shrinking_errors_lower_the_level() -> None:
    lv80, _ = aci_levels(_bt([2.0] * 5 + [1.0] * 5), (0.2, 0.05))
    assert lv80 < 0.75


def test_only_points_before_each_origin_calibrate_it() -> None:
    """Origins 2 weeks apart, 8 weeks ahead: at the second origin only the
    first 2 weeks of the first are known; its later weeks, however large,
    change nothing. Fewer than 50 points in all: the levels unchanged."""
    bt = _bt([1.0, 3.0], weeks=8)
    late = (bt["origin"] == 10) & (bt["week_ahead"] > 2)
    big = bt.assign(y=np.where(late, 100 * bt["y"], bt["y"]))
    assert aci_levels(big, (0.2, 0.05)) == aci_levels(bt, (0.2, 0.05))
    assert aci_levels(bt, (0.2,))[0] > 0.85
    assert aci_levels(bt.head(20), (0.2,)) == pytest.approx((0.8,))


def test_pooled_relative_errors_set_the_half_width_of_every_group() -> None:
    """Two groups, two models: only each group's chosen model is pooled; the
    half-width of a target row is the pooled quantile of |y − ŷ| ÷ (ŷ + 1)
    times ŷ + 1, whatever the group's own sd."""
    u = np.arange(1, 101) / 100
    rows = []
    for col, yhat in ((0, 9.0), (1, 99.0)):
        for model, err in (("dls", u), ("log_shift", 50 * u)):
            rows.append(
                pd.DataFrame(
                    {
                        "col": col,
                        "model": model,
                        "week_ahead": 1,
                        "hour": 8,
                        "y": yhat + err * (yhat + 1),
                        "yhat": yhat,
                        "sd": 1.0,
                    }
                )
            )
    bt = pd.concat(rows, ignore_index=True)
    pooled = pooled_relative(bt, ["dls", "dls"])
    assert set(pooled["model"]) == {"dls"} and len(pooled) == 200
    mean, sd = np.array([19.0, 199.0]), np.array([2.0, 0.5])
    z80, z95 = interval_z(
        pd.DataFrame(), pooled, np.array([1, 1]), np.array([8, 8]), (mean, sd), False
    )
    q80, q95 = np.quantile(np.concatenate([u, u]), [0.8, 0.95])
    assert z80 * sd == pytest.approx(q80 * (mean + 1))
    assert z95 * sd == pytest.approx(q95 * (mean + 1))


def test_block_levels_count_the_origins_not_the_points() -> None:
    """10 origins of 100 points each: the 80 % level is ⌈11 · 0.8⌉ ÷ 10 = 0.9,
    the 95 % one ⌈10.45⌉ ÷ 10 capped at 1; 40 origins: ⌈32.8⌉ ÷ 40."""
    bt = _bt([1.0] * 10)
    assert block_levels(bt, (0.8, 0.95)) == pytest.approx((0.9, 1.0))
    assert block_levels(_bt([1.0] * 40), (0.8,)) == pytest.approx((33 / 40,))
    z80, _ = interval_z(
        bt, None, np.array([1]), np.array([8]), (np.ones(1), np.ones(1)), False, True
    )
    at90, _ = calibrate(bt, np.array([1]), np.array([8]), (0.9, 1.0))
    assert z80[0] == pytest.approx(at90[0])
    assert z80[0] > calibrate(bt, np.array([1]), np.array([8]))[0][0]
