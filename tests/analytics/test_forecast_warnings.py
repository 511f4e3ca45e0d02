"""The MASE scale of a series without a week-apart pair is NaN, without
numpy's "Mean of empty slice" warning; worked by hand. The calibration's
choice of the latest backtest origins."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analytics.forecast import _recent
from analytics.forecast_model import Cal, mase_scales


def test_mase_scale_without_pairs_is_nan_without_a_warning() -> None:
    cal = Cal(
        week=np.array([0, 1, 0, 1]),
        how=np.array([9, 9, 10, 10]),
        hour=np.array([9, 9, 10, 10]),
        school=np.zeros(4, dtype=bool),
        day=np.arange(4),
    )
    y = np.array([[1.0, np.nan], [3.0, np.nan], [2.0, 1.0], [2.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mase_scales(cal, y)
        empty = mase_scales(cal.take(np.array([], dtype=int)), np.zeros((0, 2)))
    # column 0: |3 − 1| and |2 − 2| → 1; column 1: no pair
    np.testing.assert_allclose(got[0], 1.0)
    assert np.isnan(got[1]) and np.isnan(empty).all()


def test_calibration_on_the_latest_origins_keeps_only_those() -> None:
    bt = pd.DataFrame({"origin": [3, 1, 2, 3, 1], "y": [0, 1, 2, 3, 4]})
    assert _recent(bt, None) is bt
    assert _recent(bt, 2)["y"].tolist() == [0, 2, 3]
    assert _recent(bt, 5)["y"].tolist() == [0, 1, 2, 3, 4]
    assert _recent(bt.iloc[:0], 2).empty
