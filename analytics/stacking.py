"""The stacking plan: which neighbourhood each department gets, so that its
measured demand fits and the pairs the facility manager wants to meet share a
floor or a department-neutral zone, against the cost of moves from today's
plan. Solved with OR-Tools CP-SAT, time-limited. Pure: DataFrames in, a
:class:`StackResult` out (rules: docs/metrics.md, "Stacking plan").

Objective (maximised, integers):

    Σ_{wanted (a, b)} w_ab · (floor_value · F_ab + neutral_value · N_ab)
      − move_cost · Σ_d demand_d · M_d

F_ab = 1 when a and b get neighbourhoods on the same floor, N_ab = 1 when
both their neighbourhoods touch one same neutral (shared) zone, M_d = 1 when
department d leaves its current neighbourhood(s), demand_d its p90
simultaneous people (whole people, rounded up). Constraints: every department
gets exactly one neighbourhood; Σ demand of the departments in a neighbourhood
≤ its desks."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import pandas as pd
from ortools.sat.python import cp_model

logger = logging.getLogger(__name__)

__all__ = ["StackParams", "StackResult", "StackingError", "adjacent_neutral", "solve"]


class StackingError(ValueError):
    """No plan: bad input or no assignment fits; the message says which."""


@dataclass(frozen=True)
class StackParams:
    """Objective weights [people moved per pair met] and the solver's limit."""

    floor_value: int = 20
    neutral_value: int = 10
    move_cost: int = 1
    time_limit_s: float = 10.0


@dataclass
class StackResult:
    """``assignment``: department_id, demand, current, proposed, floor_id,
    desks, moved; ``pairs``: department_a, department_b, weight, same_floor,
    shared_neutral (after the plan) and before; ``status``: OPTIMAL or
    FEASIBLE (time limit hit); ``objective``, ``objective_today``."""

    assignment: pd.DataFrame
    pairs: pd.DataFrame
    status: str
    objective: float
    objective_today: float


def adjacent_neutral(zones: pd.DataFrame, gap_m: float = 1.0) -> pd.DataFrame:
    """Neighbourhood → neutral zone pairs that touch: same floor, rectangles
    (x, y, width, height [m]) at most ``gap_m`` apart. zones: zone_id,
    floor_id, kind, x, y, width, height. Columns: zone_id, neutral_id."""
    n = zones[zones["kind"] == "neighbourhood"]
    s = zones[zones["kind"] == "shared"]
    j = n.merge(s, on="floor_id", suffixes=("", "_s"))
    dx = (j["x_s"] - (j["x"] + j["width"])).clip(lower=0) + (
        j["x"] - (j["x_s"] + j["width_s"])
    ).clip(lower=0)
    dy = (j["y_s"] - (j["y"] + j["height"])).clip(lower=0) + (
        j["y"] - (j["y_s"] + j["height_s"])
    ).clip(lower=0)
    near = j[(dx <= gap_m) & (dy <= gap_m)]
    return pd.DataFrame(
        {
            "zone_id": near["zone_id"].to_numpy(),
            "neutral_id": near["zone_id_s"].to_numpy(),
        }
    )


def _check(
    hoods: pd.DataFrame, demand: pd.DataFrame, pairs: pd.DataFrame
) -> dict[str, int]:
    need = {
        str(d): math.ceil(float(v) - 1e-9)
        for d, v in zip(demand["department_id"], demand["demand"], strict=True)
    }
    known = set(need)
    bad = sorted({*pairs["department_a"], *pairs["department_b"]} - known)
    if bad:
        raise StackingError(f"wanted pair with unknown department(s) {bad}")
    if hoods.empty:
        raise StackingError("no neighbourhoods with desks")
    too_big = [d for d, v in need.items() if v > int(hoods["desks"].max())]
    if too_big:
        raise StackingError(
            f"department(s) {too_big} need more desks than any neighbourhood has"
        )
    if sum(need.values()) > int(hoods["desks"].sum()):
        raise StackingError(
            f"demand {sum(need.values())} exceeds the {int(hoods['desks'].sum())} desks"
        )
    return need


def solve(
    hoods: pd.DataFrame,
    demand: pd.DataFrame,
    pairs: pd.DataFrame,
    current: dict[str, set[str]],
    neutral: pd.DataFrame,
    p: StackParams = StackParams(),
) -> StackResult:
    """The plan. ``hoods``: zone_id, floor_id, desks; ``demand``:
    department_id, demand (p90 simultaneous people); ``pairs``: department_a,
    department_b, weight (whole numbers ≥ 1); ``current``: department → its
    neighbourhoods today; ``neutral``: :func:`adjacent_neutral` rows."""
    pb = _problem(hoods, _check(hoods, demand, pairs), neutral, current)
    model = _build(pb, pairs, p)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(p.time_limit_s)
    solver.parameters.num_workers = 1  # deterministic, and the machine is shared
    status = solver.solve(model.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise StackingError(
            f"no plan found ({solver.status_name(status)}) in {p.time_limit_s} s"
        )
    return _result(solver, status == cp_model.OPTIMAL, pb, model, p)


@dataclass(frozen=True)
class _Problem:
    """The checked input, keyed by id: departments, neighbourhoods, each
    department's whole-people demand, each neighbourhood's floor and desks,
    neutral zone → the neighbourhoods it touches, and today's plan."""

    depts: list[str]
    zones: list[str]
    need: dict[str, int]
    floor: dict[str, str]
    desks: dict[str, int]
    touch: dict[str, list[str]]
    current: dict[str, set[str]]


@dataclass(frozen=True)
class _Pair:
    """A wanted pair and its model bools: same floor, shared neutral zone."""

    a: str
    b: str
    weight: int
    same_floor: cp_model.IntVar
    shared_neutral: cp_model.IntVar


@dataclass(frozen=True)
class _Model:
    """The CP-SAT model: x[d, z] = department d gets neighbourhood z,
    moved[d], and the wanted pairs."""

    m: cp_model.CpModel
    x: dict[tuple[str, str], cp_model.IntVar]
    moved: dict[str, cp_model.IntVar]
    met: list[_Pair]


def _problem(
    hoods: pd.DataFrame,
    need: dict[str, int],
    neutral: pd.DataFrame,
    current: dict[str, set[str]],
) -> _Problem:
    desks = dict(zip(hoods["zone_id"], hoods["desks"].astype(int), strict=True))
    touch: dict[str, list[str]] = {}
    for z, s in zip(neutral["zone_id"], neutral["neutral_id"], strict=True):
        if z in desks:
            touch.setdefault(str(s), []).append(str(z))
    return _Problem(
        depts=sorted(need),
        zones=list(hoods["zone_id"]),
        need=need,
        floor=dict(zip(hoods["zone_id"], hoods["floor_id"], strict=True)),
        desks=desks,
        touch=touch,
        current=current,
    )


def _build(pb: _Problem, pairs: pd.DataFrame, p: StackParams) -> _Model:
    """Variables, constraints and the objective (the module docstring)."""
    depts, zones, need, floor = pb.depts, pb.zones, pb.need, pb.floor
    m = cp_model.CpModel()
    x = {(d, z): m.new_bool_var(f"x_{d}_{z}") for d in depts for z in zones}
    for d in depts:
        m.add_exactly_one(x[d, z] for z in zones)
    for z in zones:
        m.add(sum(need[d] * x[d, z] for d in depts) <= pb.desks[z])
    on_floor = {
        (d, f): sum(x[d, z] for z in zones if floor[z] == f)
        for d in depts
        for f in set(floor.values())
    }
    terms, met = [], []
    for a, b, w in zip(
        pairs["department_a"], pairs["department_b"], pairs["weight"], strict=True
    ):
        fa = _both(m, [(on_floor[a, f], on_floor[b, f]) for f in set(floor.values())])
        na = _both(
            m,
            [
                (sum(x[a, z] for z in zs), sum(x[b, z] for z in zs))
                for zs in pb.touch.values()
            ],
        )
        terms += [int(w) * p.floor_value * fa, int(w) * p.neutral_value * na]
        met.append(_Pair(a, b, int(w), fa, na))
    moved = {}
    for d in depts:
        mv = m.new_bool_var(f"moved_{d}")
        stay = sum(x[d, z] for z in pb.current.get(d, set()) if z in pb.desks)
        m.add(mv == 1 - stay) if pb.current.get(d) else m.add(mv == 0)
        moved[d] = mv
        terms.append(-p.move_cost * need[d] * mv)
    m.maximize(sum(terms))
    return _Model(m, x, moved, met)


def _both(m: cp_model.CpModel, sides: list[tuple[object, object]]) -> cp_model.IntVar:
    """A bool that can be 1 only when for some (u, v) in ``sides`` both are 1."""
    out = m.new_bool_var("")
    ors = []
    for u, v in sides:
        y = m.new_bool_var("")
        m.add(y <= u)  # type: ignore[operator]
        m.add(y <= v)  # type: ignore[operator]
        ors.append(y)
    m.add(out <= sum(ors)) if ors else m.add(out == 0)
    return out


_PAIR_COLUMNS = [
    "department_a",
    "department_b",
    "weight",
    "same_floor",
    "shared_neutral",
    "same_floor_today",
    "shared_neutral_today",
]


def _result(
    solver: cp_model.CpSolver,
    optimal: bool,
    pb: _Problem,
    model: _Model,
    p: StackParams,
) -> StackResult:
    got = {
        d: next(z for z in pb.zones if solver.value(model.x[d, z])) for d in pb.depts
    }
    rows = [
        {
            "department_id": d,
            "demand": pb.need[d],
            "current": ",".join(sorted(pb.current.get(d, set()))),
            "proposed": got[d],
            "floor_id": pb.floor[got[d]],
            "desks": pb.desks[got[d]],
            "moved": bool(solver.value(model.moved[d])),
        }
        for d in pb.depts
    ]
    prow, before = _pair_rows(solver, pb, model.met, p)
    return StackResult(
        pd.DataFrame(rows),
        pd.DataFrame(prow, columns=_PAIR_COLUMNS),
        "OPTIMAL" if optimal else "FEASIBLE",
        float(solver.objective_value),
        before,
    )


def _pair_rows(
    solver: cp_model.CpSolver, pb: _Problem, met: list[_Pair], p: StackParams
) -> tuple[list[dict[str, object]], float]:
    """Each wanted pair after the plan and today, and today's objective."""
    floor = pb.floor
    near = {z: {s for s, zs in pb.touch.items() if z in zs} for z in pb.zones}
    today = {d: sorted(pb.current.get(d, set())) for d in pb.depts}
    prow: list[dict[str, object]] = []
    before = 0.0
    for q in met:
        a, b = q.a, q.b
        fl0 = bool(
            {floor[z] for z in today[a] if z in floor}
            & {floor[z] for z in today[b] if z in floor}
        )
        ne0 = bool(
            set().union(*[near.get(z, set()) for z in today[a]] or [set()])
            & set().union(*[near.get(z, set()) for z in today[b]] or [set()])
        )
        before += q.weight * (p.floor_value * fl0 + p.neutral_value * ne0)
        prow.append(
            {
                "department_a": a,
                "department_b": b,
                "weight": q.weight,
                "same_floor": bool(solver.value(q.same_floor)),
                "shared_neutral": bool(solver.value(q.shared_neutral)),
                "same_floor_today": fl0,
                "shared_neutral_today": ne0,
            }
        )
    return prow, before
