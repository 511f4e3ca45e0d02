"""The query parameters of the plan reports (forecast, whatif, stack,
intervention, scorecard): typed, bounded versions of ``occupancy export
<report> --plan KEY=VALUE`` and of ``occupancy plan <report>``'s options,
turned into the same plan options (pure)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["PLAN_PARAMS", "PlanParam", "PlanParamError", "check_value", "plan_options"]


class PlanParamError(ValueError):
    """A plan parameter's value is outside its schema; the message names it."""


_INT = "integer"


@dataclass(frozen=True)
class PlanParam:
    """One query parameter: ``name`` in the URL, ``key`` of the plan option
    (``--plan KEY=VALUE``), its JSON Schema (of one value) and help text.
    ``many``: repeatable (``?close=f2:fri&close=f1-project:mon``); ``join``:
    the values are joined with commas into one option (``levels=a,b``)."""

    name: str
    key: str
    schema: Mapping[str, object]
    description: str
    many: bool = False
    join: bool = False
    required: bool = False


def _int(name: str, lo: int, hi: int, default: int, desc: str) -> PlanParam:
    schema = {"type": _INT, "minimum": lo, "maximum": hi, "default": default}
    return PlanParam(name, name.replace("_", "-"), schema, desc)


def _show(*values: str) -> PlanParam:
    schema = {"type": "string", "enum": list(values), "default": values[0]}
    return PlanParam("show", "show", schema, "Which table: " + " or ".join(values))


_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "format": "date"}

#: report → its parameters (besides from/to and the paging ones).
PLAN_PARAMS: dict[str, tuple[PlanParam, ...]] = {
    "forecast": (
        _int("horizon", 1, 8, 4, "Weeks to forecast after `to`."),
        PlanParam(
            "levels",
            "levels",
            {"type": "string", "enum": ["building", "floor", "zone", "department"]},
            "Levels to forecast (repeat; default all four).",
            many=True,
            join=True,
        ),
        PlanParam(
            "planned_change",
            "planned-change",
            {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}:\d+(\.\d+)?$"},
            "A change announced in advance, DATE:FACTOR (repeat).",
            many=True,
        ),
        _show("forecast", "scores"),
    ),
    "whatif": (
        PlanParam(
            "sharing",
            "sharing",
            {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
            "Desk-sharing ratio, desks per member (repeat).",
            many=True,
        ),
        PlanParam(
            "close",
            "close",
            _TEXT,
            "Close SPACE:DAYS, e.g. f2:fri (repeat).",
            many=True,
        ),
        PlanParam(
            "move",
            "move",
            _TEXT,
            "Move DEPT:SPACE, e.g. finance:f2 (repeat).",
            many=True,
        ),
        PlanParam(
            "anchor",
            "anchor",
            _TEXT,
            "Anchor days DEPT:DAYS, e.g. sales:tue,thu (repeat).",
            many=True,
        ),
        _show("scenarios", "desk-sharing"),
    ),
    "stack": (
        PlanParam(
            "pair",
            "pair",
            _TEXT,
            "Department pair A:B to bring together (repeat).",
            many=True,
        ),
        _int("lowest", 1, 50, 3, "Without pair: this many lowest-lift pairs."),
        _int("floor_value", 0, 1000, 20, "Value of a wanted pair on one floor."),
        _int("neutral_value", 0, 1000, 10, "Value of a pair beside a neutral zone."),
        _int("move_cost", 0, 1000, 1, "Cost of moving one person of demand."),
        _int("time_limit", 1, 30, 10, "Solver time limit [s] (the CLI allows 600)."),
        _show("plan", "pairs"),
    ),
    "intervention": (
        PlanParam(
            "change", "change", _DATE, "Day the change took effect.", required=True
        ),
        PlanParam(
            "zones",
            "zones",
            _TEXT,
            "A zone the change touched (repeat).",
            many=True,
            required=True,
        ),
        PlanParam(
            "control",
            "control",
            _TEXT,
            "An untouched zone to compare with (repeat).",
            many=True,
        ),
    ),
    "scorecard": (_show("scorecard", "weekly"),),
}


def _number(p: PlanParam, raw: str) -> float:
    kind = p.schema["type"]
    try:
        value = float(int(raw)) if kind == _INT else float(raw)
    except ValueError:
        raise PlanParamError(f"{p.name}={raw!r} is not {'an integer' if kind == _INT else 'a number'}") from None  # fmt: skip
    lo, hi = p.schema.get("minimum"), p.schema.get("maximum")
    above = p.schema.get("exclusiveMinimum")
    if (
        (isinstance(lo, int) and value < lo)
        or (isinstance(hi, int) and value > hi)
        or (isinstance(above, int) and value <= above)
        or math.isnan(value)
    ):
        raise PlanParamError(f"{p.name}={raw} is outside its range (see the OpenAPI document)")  # fmt: skip
    return value


def check_value(p: PlanParam, raw: str) -> None:
    """Refuse a value outside ``p``'s schema (type, range, enum, pattern, date)."""
    if p.schema["type"] in (_INT, "number"):
        _number(p, raw)
        return
    enum = p.schema.get("enum")
    if isinstance(enum, list) and raw not in enum:
        raise PlanParamError(f"{p.name}={raw!r}: use one of {', '.join(enum)}")
    pattern = p.schema.get("pattern")
    if isinstance(pattern, str) and not re.fullmatch(pattern, raw):
        raise PlanParamError(f"{p.name}={raw!r} does not match {pattern}")
    if p.schema.get("format") == "date":
        try:
            dt.date.fromisoformat(raw)
        except ValueError:
            raise PlanParamError(f"{p.name}={raw!r} is not YYYY-MM-DD") from None


def plan_options(
    report: str, values: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """The plan options of ``report`` from the query's values (name → the
    strings given, in order); absent parameters are left to the report's own
    defaults, as ``--plan`` leaves them. A value outside its schema, or a
    required one missing, is a :class:`PlanParamError`."""
    out: dict[str, list[str]] = {}
    for p in PLAN_PARAMS[report]:
        given = [v for v in values.get(p.name, []) if v != ""]
        if not given:
            if p.required:
                raise PlanParamError(f"{p.name} is required")
            continue
        for raw in given:
            check_value(p, raw)
        if not p.many:
            given = given[-1:]
        out[p.key] = [",".join(given)] if p.join else list(given)
    return out
