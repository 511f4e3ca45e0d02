"""Department reports one level up the hierarchy (team → department →
division), the one place reports roll up (``occupancy export ... --rollup``,
``build_report(rollup=True)``; the dashboard can call it on any
department-keyed frame).

Each department is replaced by its parent (departments without a parent stay
themselves); counts and durations are summed; the ratios whose formula is
known are recomputed (no_show_pct, lift), other ratios and means are left
empty rather than guessed. A parent row is suppressed when any of its
children was (their values are missing, so a sum would be too low) or when
it covers fewer than k people. People counts are summed over the child
departments: exact when nobody moved between two of them inside the range."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from occupancy.db import Connection, read_frame

logger = logging.getLogger(__name__)

__all__ = ["ADDITIVE", "read_department_parents", "rollup_departments"]

#: Columns that add up across departments.
ADDITIVE = frozenset(
    {
        "minutes",
        "expected_minutes",
        "people",
        "people_a",
        "people_b",
        "bookings",
        "booked_s",
        "no_show_s",
        "occupied_s",
        "measured_s",
        "available_s",
        "capacity",
        "seats",
        "spaces",
        "sessions",
        "dwell_s",
        "headcount",
    }
)
_DEPT_COLUMNS = ("department_id", "department_a", "department_b")
#: Numeric columns that say *which* row (keys), not how much.
_NUMERIC_KEYS = frozenset({"hour", "weekday", "week", "day", "band"})
_PEOPLE = ("people", "people_a", "people_b")


def read_department_parents(conn: Connection) -> dict[str, str | None]:
    frame = read_frame(conn, "SELECT department_id, parent_id FROM departments")
    return {
        str(d): (None if p is None or pd.isna(p) else str(p))
        for d, p in zip(frame["department_id"], frame["parent_id"], strict=True)
    }


def _up(values: pd.Series, parents: dict[str, str | None]) -> pd.Series:
    return values.map(lambda d: parents.get(d) or d if isinstance(d, str) else d)


def _has_departments(frame: pd.DataFrame) -> bool:
    if any(c in frame.columns for c in _DEPT_COLUMNS):
        return True
    return "level" in frame.columns and bool((frame["level"] == "department").any())


def rollup_departments(
    frame: pd.DataFrame, parents: dict[str, str | None], k: int
) -> pd.DataFrame:
    """``frame`` with every department column one level up, re-aggregated."""
    if not _has_departments(frame):
        # Nothing to roll up (devices, sessions, a floor level): regrouping by
        # the other columns would only blank its ratios, or fail with no
        # additive column to sum (devices).
        return frame.copy()
    f = frame.copy()
    for col in _DEPT_COLUMNS:
        if col in f.columns:
            f[col] = _up(f[col], parents)
    if {"level", "level_id"} <= set(f.columns):
        is_dept = f["level"] == "department"
        f.loc[is_dept, "level_id"] = _up(f.loc[is_dept, "level_id"], parents)
    if {"department_a", "department_b"} <= set(f.columns):
        swap = (f["department_a"] > f["department_b"]).to_numpy()
        pair = [c for c in ("department_a", "department_b") if c in f.columns]
        if {"people_a", "people_b"} <= set(f.columns):
            pair += ["people_a", "people_b"]
        flipped = [pair[1], pair[0], *pair[:1:-1]] if len(pair) == 4 else pair[::-1]
        if swap.any():
            f.loc[swap, pair] = f.loc[swap, flipped].to_numpy()
    additive = [c for c in f.columns if c in ADDITIVE]
    numeric = [
        c
        for c in f.columns
        if pd.api.types.is_numeric_dtype(f[c]) and c != "suppressed"
    ]
    keys = [
        c
        for c in f.columns
        if c not in additive and c not in numeric and c != "suppressed"
    ]
    if not keys or not len(f):
        return f
    agg: dict[str, Any] = {c: "sum" for c in additive}
    if "suppressed" in f.columns:
        agg["suppressed"] = "any"
    out = f.groupby(keys, dropna=False, sort=False).agg(agg).reset_index()
    for c in numeric:
        if c not in out.columns:
            out[c] = np.nan
    _ratios(out)
    return _suppress(out, k)[list(frame.columns)]


def _ratios(out: pd.DataFrame) -> None:
    if {"no_show_pct", "no_show_s", "booked_s"} <= set(out.columns):
        out["no_show_pct"] = (
            100.0 * out["no_show_s"] / out["booked_s"].where(out["booked_s"] > 0)
        )
    if {"lift", "minutes", "expected_minutes"} <= set(out.columns):
        out["lift"] = out["minutes"] / out["expected_minutes"].where(
            out["expected_minutes"] > 0
        )


def _suppress(out: pd.DataFrame, k: int) -> pd.DataFrame:
    people = [c for c in _PEOPLE if c in out.columns]
    small = np.zeros(len(out), dtype=bool)
    for c in people:
        small |= (out[c] < k).to_numpy()
    if "suppressed" not in out.columns:
        return out[~small].reset_index(drop=True) if people else out
    out["suppressed"] = out["suppressed"].astype(bool) | small
    values = [c for c in out.columns if c in ADDITIVE or c in ("lift", "no_show_pct")]
    values = [c for c in values if c not in people and c != "bookings"]
    out.loc[out["suppressed"], values + people] = np.nan
    return out
