"""k-anonymity: the one place where aggregates covering fewer than k distinct
people are suppressed (value removed, ``suppressed`` = True), never shown as 0."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["assigned_guard", "protect_assigned", "suppress"]


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


#: Columns that name or place a row: never blanked by a suppression rule.
KEY_COLUMNS = frozenset(
    {
        "level",
        "level_id",
        "space_id",
        "kind",
        "zone_id",
        "floor_id",
        "building_id",
        "site_id",
        "department_id",
        "day",
        "week",
        "weekday",
        "hour",
        "capacity",
        "suppressed",
        "assigned",
        "name",
    }
)


def assigned_guard(
    spaces: pd.DataFrame, k: int
) -> tuple[set[str], set[tuple[str, str]]]:
    """What the assigned-desk rule hides: (assigned desk ids, (level,
    level_id) groups that hold an assigned desk but fewer than k desks).

    A desk marked ``assigned: true`` in the building file belongs to one
    person: its figures describe that person. It is never reported alone,
    and a group that contains one is reported only when it has at least k
    desks, so the group is not the person either."""
    from analytics.utilization import membership

    if "assigned" not in spaces.columns or not bool(spaces["assigned"].any()):
        return set(), set()
    desks = spaces[spaces["kind"] == "desk"]
    mine = set(desks.loc[desks["assigned"].astype(bool), "space_id"].astype(str))
    mem = membership(spaces)
    mem = mem[mem["space_id"].isin(desks["space_id"])]
    n = mem.groupby(["level", "level_id"])["space_id"].nunique()
    has = mem[mem["space_id"].isin(mine)].groupby(["level", "level_id"]).size()
    small = n.reindex(has.index)
    hide = {(str(lv), str(i)) for lv, i in small[small < k].index}
    return mine, hide


def protect_assigned(frame: pd.DataFrame, spaces: pd.DataFrame, k: int) -> pd.DataFrame:
    """``frame`` with the rows of assigned desks (``space_id``, or ``level``
    ``space``) and of groups too small to hide one (``level``, ``level_id``)
    suppressed: their measure columns (every column but the keys) removed,
    ``suppressed`` True. Frames without such rows come back unchanged."""
    mine, groups = assigned_guard(spaces, k)
    if frame.empty or (not mine and not groups):
        return frame
    hide = np.zeros(len(frame), dtype=bool)
    if "level" in frame.columns and "level_id" in frame.columns:
        lv = frame["level"].astype(str).to_numpy()
        ids = frame["level_id"].astype(str).to_numpy()
        pairs = pd.MultiIndex.from_arrays([lv, ids])
        hide |= pairs.isin(list(groups)) if groups else hide
        hide |= (lv == "space") & np.isin(ids, list(mine))
    elif "space_id" in frame.columns:
        hide |= frame["space_id"].astype(str).isin(mine).to_numpy()
    if not hide.any():
        return frame
    out = frame.copy()
    for col in out.columns:
        if col in KEY_COLUMNS:
            continue
        if pd.api.types.is_numeric_dtype(out[col]) or out[col].dtype == object:
            out[col] = out[col].where(~hide)
    prior = out["suppressed"].astype(bool) if "suppressed" in out else False
    out["suppressed"] = hide | prior
    logger.debug("assigned-desk rule: %d rows suppressed", int(hide.sum()))
    return out
