"""Adaptive conformal inference (ACI, Gibbs & Candès 2021) on the rolling-
origin backtest: the miscoverage level of the forecast's intervals, updated
online over the backtest's points in time order (rules: docs/metrics.md,
"Forecast", "Prediction intervals").

At each backtest origin o the calibration set is the normalised scores
|y − ŷ| ÷ sd of the points of earlier origins whose week lies before o (what a
forecast made at o could have known). Each point of origin o, in the order of
its week and hour, is inside when its score ≤ the conformal (1 − αₜ) quantile
of that set (the ⌈(1 − αₜ)(n + 1)⌉-th smallest; αₜ ≤ 0: the whole line), and
αₜ₊₁ = αₜ + γ (α − errₜ), errₜ = 1 for a miss. The level after the last point
is the one the forecast's intervals use. γ = ACI_GAMMA = 0.005, the step of
Gibbs & Candès' own experiments; pure numpy, no fit to any benchmark.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The ACI step (Gibbs & Candès 2021, their experiments' value).
ACI_GAMMA = 0.005
#: Fewer calibration scores than this before an origin: no update there.
MIN_SCORES = 50


def aci_levels(
    bt: pd.DataFrame, alphas: tuple[float, ...], gamma: float = ACI_GAMMA
) -> tuple[float, ...]:
    """The quantile levels 1 − α_T (clipped to [0, 1]) of one model's backtest
    rows ``bt`` (origin, week_ahead, hour, y, yhat, sd) after the ACI walk
    for each target miscoverage in ``alphas``; 1 − α unchanged without
    enough points."""
    ok = bt[bt["sd"] > 1e-9] if len(bt) else bt
    if len(ok) < MIN_SCORES:
        return tuple(1.0 - a for a in alphas)
    ok = ok.assign(
        r=(ok["y"] - ok["yhat"]).abs() / ok["sd"],
        tw=ok["origin"] + ok["week_ahead"] - 1,
    ).sort_values(["origin", "week_ahead", "hour"], kind="stable")
    r, tw, orig = (ok[c].to_numpy() for c in ("r", "tw", "origin"))
    out = []
    for target in alphas:
        a = target
        for o in np.unique(orig):
            known = np.sort(r[(orig < o) & (tw < o)])
            if len(known) < MIN_SCORES:
                continue
            a = _walk(known, r[orig == o], a, target, gamma)
        out.append(min(max(1.0 - a, 0.0), 1.0))
    return tuple(out)


def _walk(
    known: np.ndarray, scores: np.ndarray, a: float, target: float, gamma: float
) -> float:
    """α after the points ``scores`` of one origin, each against the
    conformal quantile of the sorted calibration scores ``known``."""
    n = len(known)
    for s in scores.tolist():
        k = math.ceil((1.0 - a) * (n + 1))
        q = math.inf if k > n else float(known[max(k, 1) - 1])
        a += gamma * (target - (1.0 if s > q else 0.0))
    return a
