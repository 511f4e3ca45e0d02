"""Scores of the rolling-origin backtest and the interval multipliers the
forecast takes from it (rules: docs/metrics.md, "Forecast", "Prediction
intervals"): split conformal per group (analytics/forecast_model.calibrate),
optionally at ACI-adapted levels (analytics/forecast_aci.py), or from the
relative errors pooled over every group of the site.

Pooled relative errors: the score of a backtest point of group g is
|y − ŷ| ÷ (ŷ + 1) (the forecast's relative error; + 1 person keeps empty
hours finite), over the points of each group's chosen model, all groups and
levels together (building, floors, zones, departments: the building alone is
one series, the pool has one per group); the multipliers are its quantiles
per week ahead and hour group (the same cells and fall-backs as
``calibrate``), the half-width q · (ŷ + 1) of a target row, written as
z · sd for the forecast's own sd.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.forecast_aci import aci_levels
from analytics.forecast_model import calibrate

__all__ = ["block_levels", "interval_z", "pooled_relative", "score"]


def interval_z(
    sel: pd.DataFrame,
    pooled: pd.DataFrame | None,
    ahead: np.ndarray,
    hours: np.ndarray,
    forecast: tuple[np.ndarray, np.ndarray],
    aci: bool,
    block: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The 80 and 95 % multipliers of the target rows (``ahead``, ``hours``)
    of one group: from its chosen model's backtest rows ``sel`` (at ACI
    levels when ``aci``), or from ``pooled`` (:func:`pooled_relative`) for
    the ``forecast`` (mean, sd) of those rows; ``block``: at the finite-sample
    levels of :func:`block_levels`."""
    if pooled is None:
        lv = aci_levels(sel, (0.2, 0.05)) if aci else (0.8, 0.95)
        lv = block_levels(sel, lv) if block else lv
        return calibrate(sel, ahead, hours, (lv[0], lv[1]))
    q80, q95 = calibrate(pooled, ahead, hours)
    mean, sd = forecast
    ratio = np.where(
        sd > 1e-9, (np.maximum(mean, 0.0) + 1.0) / np.maximum(sd, 1e-9), 0.0
    )
    return q80 * ratio, q95 * ratio


def block_levels(sel: pd.DataFrame, lv: tuple[float, ...]) -> tuple[float, ...]:
    """The split-conformal finite-sample levels ⌈(n + 1) · level⌉ ÷ n (capped
    at 1) with n = the backtest origins of ``sel``: the errors of one origin
    share its bias, so the exchangeable units are the origins, not the
    points (Vovk et al. 2005; Lei et al. 2018, the (n + 1) correction)."""
    n = int(sel["origin"].nunique()) if len(sel) else 0
    if n < 1:
        return lv
    return tuple(min(math.ceil((n + 1) * v - 1e-9) / n, 1.0) for v in lv)


def pooled_relative(bt: pd.DataFrame, best: list[str]) -> pd.DataFrame:
    """The backtest rows of every column's chosen model (``best``), sd set
    to ŷ + 1 so that ``calibrate``'s score |y − ŷ| ÷ sd is the relative
    error."""
    if bt.empty:
        return bt
    chosen = (
        bt["model"].to_numpy() == np.asarray(best, dtype=object)[bt["col"].to_numpy()]
    )
    rows: pd.DataFrame = bt[chosen]
    return rows.assign(sd=np.maximum(rows["yhat"], 0.0) + 1.0)


def score(bt: pd.DataFrame, by: tuple[str, ...] = ("model",)) -> pd.DataFrame:
    """Per model (or ``by``): points, MAE [people], MASE (mean over points of
    |e| ÷ the point's origin scale), coverage80/95 [%] (share of y inside the
    interval)."""
    cols = [*by, "points", "mae", "mase", "coverage80", "coverage95"]
    if bt.empty:
        return pd.DataFrame(columns=cols)
    e = (bt["y"] - bt["yhat"]).abs()
    g = bt.assign(
        ae=e,
        se=e / bt["scale"],
        in80=(bt["y"] >= bt["lo80"] - 1e-9) & (bt["y"] <= bt["hi80"] + 1e-9),
        in95=(bt["y"] >= bt["lo95"] - 1e-9) & (bt["y"] <= bt["hi95"] + 1e-9),
    ).groupby(list(by), sort=True)
    out = pd.DataFrame(
        {
            "points": g.size(),
            "mae": g["ae"].mean(),
            "mase": g["se"].mean(),
            "coverage80": 100 * g["in80"].mean(),
            "coverage95": 100 * g["in95"].mean(),
        }
    )
    return out.reset_index()[cols]
