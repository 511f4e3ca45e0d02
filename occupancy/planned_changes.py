"""Planned changes of a site's demand, announced in advance (a hybrid policy
from 2.5 to 3 office days a week from a date: factor 3 ÷ 2.5 = 1.2), as the
building file's ``site: planned_changes:`` gives them (docs/building.md) and
the forecast uses them (analytics/forecast_changes.py, docs/metrics.md
"Planned changes"). A change applies to the whole site, or only to the named
floors and/or departments."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from occupancy import building_schema as sch

logger = logging.getLogger(__name__)

__all__ = [
    "FACTOR_MAX",
    "PlannedChange",
    "check_planned_changes",
    "factor_problem",
    "from_records",
    "to_records",
]

#: The factor of a planned change must lie in (0, FACTOR_MAX].
FACTOR_MAX = 10.0


@dataclass(frozen=True)
class PlannedChange:
    """From ``start`` (a local day, included) on, demand × ``factor``; of the
    whole site, or (``floors`` and/or ``departments`` given) of the people of
    those floors' zones, of those departments' neighbourhoods, or (both) of
    those departments' neighbourhoods on those floors."""

    start: dt.date
    factor: float
    floors: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    note: str = ""

    @property
    def scoped(self) -> bool:
        return bool(self.floors or self.departments)

    def label(self) -> str:
        """``2026-09-07 × 1.2 (floors f2; departments sales)``."""
        scope = []
        if self.floors:
            scope.append("floors " + ", ".join(self.floors))
        if self.departments:
            scope.append("departments " + ", ".join(self.departments))
        where = f" ({'; '.join(scope)})" if scope else ""
        return f"{self.start} × {self.factor:g}{where}"


def factor_problem(factor: float) -> str | None:
    """Why ``factor`` cannot be a planned change's factor; None when it can."""
    if not math.isfinite(factor) or not 0 < factor <= FACTOR_MAX:
        return (
            f"factor {factor:g} must be > 0 and ≤ {FACTOR_MAX:g}"
            " (1.2 = 20 % more demand, 0.8 = 20 % less)"
        )
    return None


def check_planned_changes(
    site_in: sch.SiteIn,
    floor_ids: Iterable[str],
    department_ids: Iterable[str],
    err: Callable[[str, str], Exception],
) -> tuple[PlannedChange, ...]:
    """The file's ``site.planned_changes``, checked (factor range, known floors
    and departments, no change given twice), by date; ``err(path, message)``
    builds the error raised for a bad one."""
    floors, depts = set(floor_ids), set(department_ids)
    out: list[PlannedChange] = []
    seen: dict[tuple[dt.date, tuple[str, ...], tuple[str, ...]], int] = {}
    for i, c in enumerate(site_in.planned_changes):
        path = f"site.planned_changes[{i}]"
        problem = factor_problem(c.factor)
        if problem is not None:
            raise err(f"{path}.factor", problem)
        for name, ids, known in (
            ("floors", c.floors or [], floors),
            ("departments", c.departments or [], depts),
        ):
            bad = [x for x in ids if x not in known]
            if bad:
                raise err(
                    f"{path}.{name}", f"{bad[0]!r} is not a {name[:-1]} of the file"
                )
        change = PlannedChange(
            c.date,
            float(c.factor),
            tuple(sorted(set(c.floors or []))),
            tuple(sorted(set(c.departments or []))),
            c.note or "",
        )
        key = (change.start, change.floors, change.departments)
        if key in seen:
            raise err(
                path,
                f"the same change as planned_changes[{seen[key]}]"
                f" ({change.label()}): give one factor per date and scope",
            )
        seen[key] = i
        out.append(change)
    return tuple(sorted(out, key=lambda c: c.start))


def to_records(changes: Sequence[PlannedChange]) -> list[dict[str, object]]:
    """The changes as JSON-ready records (the ``sites.planned_changes`` column)."""
    return [
        {
            "date": c.start.isoformat(),
            "factor": c.factor,
            "floors": list(c.floors),
            "departments": list(c.departments),
            "note": c.note,
        }
        for c in changes
    ]


def from_records(records: object) -> tuple[PlannedChange, ...]:
    """:func:`to_records` back (None or an empty list: none)."""
    if not isinstance(records, list):
        return ()
    out = [
        PlannedChange(
            dt.date.fromisoformat(str(r["date"])),
            float(r["factor"]),
            tuple(str(x) for x in r.get("floors") or ()),
            tuple(str(x) for x in r.get("departments") or ()),
            str(r.get("note") or ""),
        )
        for r in records
        if isinstance(r, dict)
    ]
    return tuple(sorted(out, key=lambda c: c.start))
