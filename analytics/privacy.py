"""k-anonymity: the one place where aggregates covering fewer than k distinct
people are suppressed (value removed, ``suppressed`` = True), never shown as 0."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["suppress"]


def suppress(
    frame: pd.DataFrame,
    people_cols: str | Sequence[str],
    value_cols: Sequence[str],
    k: int,
) -> pd.DataFrame:
    """Copy of ``frame`` where every row whose distinct-people count (the
    smallest of ``people_cols``) is below ``k`` has ``value_cols`` and the
    people columns set to NaN and ``suppressed`` = True (others False)."""
    cols = [people_cols] if isinstance(people_cols, str) else list(people_cols)
    out = frame.copy()
    if len(out) == 0:
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    people = out[cols].astype(float).min(axis=1).fillna(0.0)
    hide = (people < k).to_numpy()
    for col in [*value_cols, *cols]:
        out[col] = out[col].astype(float).where(~hide, np.nan)
    out["suppressed"] = hide
    return out
