"""The plan reports behind ``occupancy plan ...`` and ``occupancy export
<name> --plan KEY=VALUE``: option parsing and one builder per report
(forecast, whatif, stack, intervention, scorecard)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from occupancy.db import Connection
from occupancy.settings import Settings

if TYPE_CHECKING:
    from analytics.forecast_changes import PlannedChange
    from analytics.whatif import Scenario

#: Report options: key → its values (``--plan KEY=VALUE``, repeatable).
_Options = dict[str, list[str]]

logger = logging.getLogger(__name__)

__all__ = ["PLAN_REPORTS", "PlanOptionError", "parse_plan_options", "plan_report"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PlanOptionError(ValueError):
    """A --plan option or scenario string is malformed; the message names it."""


def weekdays(text: str) -> tuple[int, ...]:
    """``mon,fri`` → (0, 4)."""
    out = []
    for part in text.split(","):
        p = part.strip().lower()[:3]
        if p not in _DAYS:
            raise PlanOptionError(f"weekday {part!r}: use mon..sun")
        out.append(_DAYS.index(p))
    return tuple(out)


def _pair(text: str, what: str) -> tuple[str, str]:
    if ":" not in text:
        raise PlanOptionError(f"{what} {text!r}: expected A:B")
    a, b = text.split(":", 1)
    if not a or not b:
        raise PlanOptionError(f"{what} {text!r}: expected A:B")
    return a, b


def scenarios_from(opts: dict[str, list[str]], floors: set[str]) -> list[Scenario]:
    """What-if scenarios from options: sharing=RATIO, close=SPACE:DAYS,
    move=DEPT:SPACE, anchor=DEPT:DAYS (SPACE a floor or zone id, DAYS mon,fri)."""
    from analytics.whatif import Scenario

    out: list[Scenario] = []
    for text in opts.get("sharing", []):
        try:
            ratio = float(text)
        except ValueError as exc:
            raise PlanOptionError(f"sharing {text!r}: expected a ratio") from exc
        out.append(Scenario(f"sharing {ratio:g}", "sharing", ratio=ratio))
    for text in opts.get("close", []):
        space, days = _pair(text, "close")
        fl, zo = ((space,), ()) if space in floors else ((), (space,))
        out.append(
            Scenario(
                f"close {text}", "close", weekdays=weekdays(days), floors=fl, zones=zo
            )
        )
    for text in opts.get("move", []):
        dept, space = _pair(text, "move")
        fl, zo = ((space,), ()) if space in floors else ((), (space,))
        out.append(
            Scenario(f"move {text}", "move", department=dept, floors=fl, zones=zo)
        )
    anchors = {}
    for text in opts.get("anchor", []):
        dept, days = _pair(text, "anchor")
        anchors[dept] = weekdays(days)
    if anchors:
        label = "; ".join(opts["anchor"])
        out.append(Scenario(f"anchor {label}", "anchor", anchors=anchors))
    return out


def _one(opts: dict[str, list[str]], key: str, default: str | None = None) -> str:
    vals = opts.get(key) or ([default] if default is not None else [])
    if not vals:
        raise PlanOptionError(f"missing --plan {key}=...")
    return vals[-1]


def _int(opts: dict[str, list[str]], key: str, default: int) -> int:
    text = _one(opts, key, str(default))
    try:
        return int(text)
    except ValueError as exc:
        raise PlanOptionError(f"{key} {text!r}: expected a whole number") from exc


def _forecast(
    conn: Connection, a: dt.date, b: dt.date, opts: _Options, s: Settings
) -> pd.DataFrame:
    from analytics.plan_io import FORECAST_LEVELS, read_forecast

    levels = _one(opts, "levels", ",".join(FORECAST_LEVELS)).split(",")
    fc, scores = read_forecast(
        conn,
        a,
        b,
        horizon_weeks=_int(opts, "horizon", 4),
        levels=levels,
        settings=s,
        planned=planned_changes(opts.get("planned-change", [])),
    )
    if _one(opts, "show", "forecast") == "scores":
        return scores
    return fc


def planned_changes(texts: list[str]) -> tuple[PlannedChange, ...]:
    """``planned-change=DATE:FACTOR`` options → PlannedChange (by date); a
    malformed one is a PlanOptionError naming it."""
    from analytics.forecast_changes import PlannedChangeError, parse_planned_changes

    try:
        return parse_planned_changes(texts)
    except PlannedChangeError as exc:
        raise PlanOptionError(str(exc)) from exc


def _whatif(
    conn: Connection, a: dt.date, b: dt.date, opts: _Options, s: Settings
) -> pd.DataFrame:
    from analytics.plan_io import read_desks, read_whatif

    floors = set(read_desks(conn)["floor_id"])
    summary, sharing = read_whatif(conn, a, b, scenarios_from(opts, floors), settings=s)
    if _one(opts, "show", "scenarios") == "desk-sharing":
        return sharing
    return summary


def _stack(
    conn: Connection, a: dt.date, b: dt.date, opts: _Options, s: Settings
) -> pd.DataFrame:
    from analytics.plan_io import read_stack
    from analytics.stacking import StackParams

    pairs = [_pair(t, "pair") for t in opts.get("pair", [])]
    p = StackParams(
        floor_value=_int(opts, "floor-value", 20),
        neutral_value=_int(opts, "neutral-value", 10),
        move_cost=_int(opts, "move-cost", 1),
        time_limit_s=float(_int(opts, "time-limit", 10)),
    )
    r = read_stack(
        conn, a, b, pairs=pairs, lowest=_int(opts, "lowest", 3), params=p, settings=s
    )
    if _one(opts, "show", "plan") == "pairs":
        return r.pairs
    return r.assignment.assign(
        solver_status=r.status, objective=r.objective, objective_today=r.objective_today
    )


def _dates(opts: dict[str, list[str]], key: str) -> dt.date:
    text = _one(opts, key)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PlanOptionError(f"{key} {text!r}: expected YYYY-MM-DD") from exc


def _intervention(
    conn: Connection, a: dt.date, b: dt.date, opts: _Options, s: Settings
) -> pd.DataFrame:
    from analytics.plan_io_coloc import read_intervention

    zones = [z for t in opts.get("zones", []) for z in t.split(",") if z]
    if not zones:
        raise PlanOptionError("missing --plan zones=ZONE[,ZONE] (the touched spaces)")
    control = [z for t in opts.get("control", []) for z in t.split(",") if z] or None
    return read_intervention(
        conn,
        a,
        b,
        change=_dates(opts, "change"),
        zones=zones,
        control=control,
        settings=s,
    )


def _scorecard(
    conn: Connection, a: dt.date, b: dt.date, opts: _Options, s: Settings
) -> pd.DataFrame:
    from analytics.plan_io_coloc import read_scorecard

    card, weekly = read_scorecard(conn, a, b, settings=s)
    return weekly if _one(opts, "show", "scorecard") == "weekly" else card


#: report name → builder(conn, first, last, options, settings)
PLAN_REPORTS: dict[
    str, Callable[[Connection, dt.date, dt.date, _Options, Settings], pd.DataFrame]
] = {
    "forecast": _forecast,
    "whatif": _whatif,
    "stack": _stack,
    "intervention": _intervention,
    "scorecard": _scorecard,
}


def parse_plan_options(items: tuple[str, ...]) -> dict[str, list[str]]:
    """``KEY=VALUE`` items → key → values (a key may repeat)."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise PlanOptionError(f"--plan {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def plan_report(
    conn: Connection,
    name: str,
    first: dt.date,
    last: dt.date,
    options: dict[str, list[str]],
    settings: Settings,
) -> pd.DataFrame:
    """The plan report ``name`` (a key of :data:`PLAN_REPORTS`)."""
    return PLAN_REPORTS[name](conn, first, last, options, settings)
