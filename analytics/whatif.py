"""What-if scenarios against measured demand: a desk-sharing ratio, closing a
floor or zone on given weekdays, moving a department to another floor or
zone, department anchor days. Pure: DataFrames in, DataFrames out (rules:
docs/metrics.md, "What-if").

Demand is the measured simultaneous peak of each department's desks per local
hour (``peak_people`` of the department level, working hours), ``demand``
columns: day, hour, department_id, people. Supply is desks per zone
(``desks``: zone_id, floor_id, department_id, desks, rooms)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["KINDS", "SUMMARY_COLUMNS", "Scenario", "evaluate", "evaluate_all"]

KINDS = ("sharing", "close", "move", "anchor")
SUMMARY_COLUMNS = [
    "scenario",
    "kind",
    "space",
    "desks",
    "p50_day_people",
    "p90_day_people",
    "max_day_people",
    "fits_p90",
    "overflow_hours",
    "overflow_mean_people",
    "overflow_max_people",
    "overflow_people_hours",
    "desks_freed",
    "rooms_freed",
    "days_over",
    "breaking_days",
]


@dataclass(frozen=True)
class Scenario:
    """One scenario. ``kind``: sharing (``ratio`` desks per member, per
    department, headcounts in ``headcount``), close (``zones`` or ``floors``
    closed on ``weekdays``, 0 = Monday), move (``department`` to ``zones`` or
    ``floors``), anchor (``department`` only on ``weekdays``; several
    departments: ``anchors`` department → weekdays)."""

    name: str
    kind: str
    ratio: float | None = None
    zones: tuple[str, ...] = ()
    floors: tuple[str, ...] = ()
    weekdays: tuple[int, ...] = ()
    department: str | None = None
    anchors: dict[str, tuple[int, ...]] = field(default_factory=dict)


def _fit(
    name: str,
    kind: str,
    space: str,
    total: pd.Series,
    capacity: pd.Series | float,
    *,
    desks: float,
    desks_freed: float = 0.0,
    rooms_freed: int = 0,
) -> dict[str, object]:
    """Daily peaks of ``total`` (index day, hour) against ``capacity`` (per
    day, or one number): the summary row."""
    days = total.index.get_level_values("day")
    cap_h = (
        pd.Series(float(capacity), index=total.index)
        if not isinstance(capacity, pd.Series)
        else pd.Series(capacity.reindex(days).to_numpy(float), index=total.index)
    )
    over = (total - cap_h).clip(lower=0.0)
    peak = total.groupby(level="day").max()
    excess = (total - cap_h).groupby(level="day").max()
    breaking: list[dt.date] = sorted(excess.index[excess.to_numpy() > 1e-9])
    pos = over[over > 1e-9]
    q = (lambda s, x: float(np.quantile(s.to_numpy(float), x))) if len(peak) else None
    return {
        "scenario": name,
        "kind": kind,
        "space": space,
        "desks": float(desks),
        "p50_day_people": q(peak, 0.5) if q else math.nan,
        "p90_day_people": q(peak, 0.9) if q else math.nan,
        "max_day_people": float(peak.max()) if len(peak) else math.nan,
        "fits_p90": bool(q(excess, 0.9) <= 1e-9) if q else True,
        "overflow_hours": len(pos),
        "overflow_mean_people": float(pos.mean()) if len(pos) else 0.0,
        "overflow_max_people": float(pos.max()) if len(pos) else 0.0,
        "overflow_people_hours": float(over.sum()),
        "desks_freed": float(desks_freed),
        "rooms_freed": int(rooms_freed),
        "days_over": len(breaking),
        "breaking_days": ",".join(d.isoformat() for d in breaking),
    }


def _pivot(demand: pd.DataFrame) -> pd.DataFrame:
    return demand.pivot_table(
        index=["day", "hour"], columns="department_id", values="people", aggfunc="sum"
    ).fillna(0.0)


def _zones_of(desks: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    sel = desks["zone_id"].isin(sc.zones) | desks["floor_id"].isin(sc.floors)
    unknown = [z for z in sc.zones if z not in set(desks["zone_id"])] + [
        f for f in sc.floors if f not in set(desks["floor_id"])
    ]
    if unknown:
        raise ValueError(f"scenario {sc.name!r}: unknown zone/floor {unknown}")
    return desks[sel]


def evaluate(
    demand: pd.DataFrame,
    desks: pd.DataFrame,
    sc: Scenario,
    *,
    headcount: dict[str, int] | None = None,
) -> list[dict[str, object]]:
    """The summary rows of one scenario (sharing: one per department)."""
    if sc.kind not in KINDS:
        raise ValueError(f"scenario {sc.name!r}: kind {sc.kind!r}, use {KINDS}")
    piv = _pivot(demand)
    if sc.kind == "sharing":
        return _sharing(piv, desks, sc, headcount or {})
    if sc.kind == "close":
        shut = _zones_of(desks, sc)
        total_desks = float(desks["desks"].sum())
        days = pd.Index(sorted(set(piv.index.get_level_values("day"))))
        closed = np.array([d.weekday() in sc.weekdays for d in days])
        cap = pd.Series(
            np.where(closed, total_desks - float(shut["desks"].sum()), total_desks),
            index=days,
        )
        return [
            _fit(
                sc.name,
                sc.kind,
                "building",
                piv.sum(axis=1),
                cap,
                desks=total_desks,
                desks_freed=float(shut["desks"].sum()),
                rooms_freed=int(shut["rooms"].sum()),
            )
        ]
    if sc.kind == "move":
        return [_move(piv, desks, sc)]
    return [_anchor(piv, desks, sc, headcount or {})]


def _sharing(
    piv: pd.DataFrame, desks: pd.DataFrame, sc: Scenario, headcount: dict[str, int]
) -> list[dict[str, object]]:
    if sc.ratio is None or sc.ratio <= 0:
        raise ValueError(f"scenario {sc.name!r}: sharing needs ratio > 0")
    own = desks.dropna(subset=["department_id"]).groupby("department_id")["desks"]
    rows = []
    for dept in sorted(piv.columns):
        if dept not in headcount:
            continue
        supply = math.floor(sc.ratio * headcount[dept] + 1e-9)
        current = float(own.sum().get(dept, 0.0))
        rows.append(
            _fit(
                sc.name,
                sc.kind,
                str(dept),
                piv[dept],
                float(supply),
                desks=supply,
                desks_freed=current - supply,
            )
        )
    return rows


def _move(piv: pd.DataFrame, desks: pd.DataFrame, sc: Scenario) -> dict[str, object]:
    if sc.department is None or sc.department not in piv.columns:
        raise ValueError(f"scenario {sc.name!r}: no demand of {sc.department!r}")
    target = _zones_of(desks, sc)
    residents = set(target["department_id"].dropna()) - {sc.department}
    cols = [c for c in piv.columns if c in residents] + [sc.department]
    old = desks[
        (desks["department_id"] == sc.department)
        & ~desks["zone_id"].isin(target["zone_id"])
    ]
    return _fit(
        sc.name,
        sc.kind,
        ",".join(sorted(target["zone_id"])),
        piv[cols].sum(axis=1),
        float(target["desks"].sum()),
        desks=float(target["desks"].sum()),
        desks_freed=float(old["desks"].sum()),
    )


def _anchor(
    piv: pd.DataFrame, desks: pd.DataFrame, sc: Scenario, headcount: dict[str, int]
) -> dict[str, object]:
    """Each anchored department comes only on its weekdays: its week's
    demand of each hour of day (Σ over the week's days) spread evenly over its
    anchor days, capped at its headcount."""
    anchors = dict(sc.anchors)
    if sc.department is not None:
        anchors[sc.department] = sc.weekdays
    if not anchors or any(not w for w in anchors.values()):
        raise ValueError(f"scenario {sc.name!r}: anchor needs departments and days")
    new = piv.copy()
    day = pd.Series(piv.index.get_level_values("day"), index=piv.index)
    week = day.map(lambda d: d - dt.timedelta(days=d.weekday()))
    hour = piv.index.get_level_values("hour")
    wd = day.map(lambda d: d.weekday()).to_numpy()
    for dept, wds in anchors.items():
        if dept not in piv.columns:
            raise ValueError(f"scenario {sc.name!r}: no demand of {dept!r}")
        weekly = piv[dept].groupby([week.to_numpy(), hour]).transform("sum")
        spread = weekly / len(wds)
        cap = float(headcount.get(dept, math.inf))
        new[dept] = np.where(np.isin(wd, list(wds)), np.minimum(spread, cap), 0.0)
    total_desks = float(desks["desks"].sum())
    return _fit(
        sc.name, sc.kind, "building", new.sum(axis=1), total_desks, desks=total_desks
    )


def evaluate_all(
    demand: pd.DataFrame,
    desks: pd.DataFrame,
    scenarios: list[Scenario],
    *,
    headcount: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Every scenario's summary rows, with a ``baseline`` (today's desks
    against the same demand, building level) first."""
    total = float(desks["desks"].sum())
    rows = [
        _fit(
            "baseline",
            "baseline",
            "building",
            _pivot(demand).sum(axis=1),
            total,
            desks=total,
        )
    ]
    for sc in scenarios:
        rows.extend(evaluate(demand, desks, sc, headcount=headcount))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
