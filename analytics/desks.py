"""Desk-sharing advice: desks a neighbourhood needs at its p90 daily peak.

From ``analytics_level_buckets`` rows at the ``department`` level (desks in a
department's neighbourhood zones): each day's peak of simultaneously occupied
desks, the 90th percentile of those daily peaks (linear interpolation) over
the days in range, ``desks_needed`` = ceil(p90), ``desks_spare`` = desks −
needed, ``sharing_ratio`` = desks_needed ÷ desks.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["desk_sharing"]


def desk_sharing(
    lb: pd.DataFrame, *, level: str = "department", q: float = 0.9
) -> pd.DataFrame:
    """Columns level_id, desks, days, p90_daily_peak, max_daily_peak,
    desks_needed, desks_spare, sharing_ratio."""
    x = lb[(lb["level"] == level) & (lb["desks_measured"] > 0)]
    daily = (
        x.groupby(["level_id", "day"])
        .agg(peak=("peak_desks_occupied", "max"), desks=("desks_measured", "max"))
        .reset_index()
    )
    g = daily.groupby("level_id")
    out = g.agg(
        desks=("desks", "max"),
        days=("day", "nunique"),
        p90_daily_peak=("peak", lambda s: float(np.quantile(s.to_numpy(), q))),
        max_daily_peak=("peak", "max"),
    ).reset_index()
    out["desks_needed"] = np.ceil(out["p90_daily_peak"].to_numpy() - 1e-9).astype(int)
    out["desks_spare"] = out["desks"] - out["desks_needed"]
    out["sharing_ratio"] = out["desks_needed"] / out["desks"].where(out["desks"] > 0)
    return out.sort_values("level_id").reset_index(drop=True)
