"""Planned changes: demand changes announced in advance (a hybrid policy from
2.5 to 3 office days a week from a date: factor 3 ÷ 2.5 = 1.2), an optional
input of the forecast. Rule (docs/metrics.md, "Forecast", "Planned changes"):
a change dated after the last day of the history multiplies the forecast of
every hour on or after its date (several changes: the product of those in
force); the spread grows with it and with the uncertainty of the change's
size. A change on or before the history's last day is left out: it is in the
data, where the log-scale models' level-shift detection picks it up."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FACTOR_MAX",
    "FACTOR_SD_SHARE",
    "PlannedChange",
    "PlannedChangeError",
    "apply_planned",
    "parse_planned_change",
    "parse_planned_changes",
]

#: The factor of a planned change must lie in (0, FACTOR_MAX].
FACTOR_MAX = 10.0
#: The realised size of an announced change is uncertain (not everybody
#: follows a new policy at once): its sd is taken as this share of the
#: announced change |factor − 1|.
FACTOR_SD_SHARE = 0.5


class PlannedChangeError(ValueError):
    """A planned change that cannot be read (the message names it)."""


@dataclass(frozen=True)
class PlannedChange:
    """From ``start`` (a local day, included) on, demand × ``factor``."""

    start: dt.date
    factor: float


_FORMAT = "expected DATE:FACTOR, e.g. 2026-09-07:1.2"


def parse_planned_change(text: str) -> PlannedChange:
    """``DATE:FACTOR`` (ISO date, factor > 0) → PlannedChange; else
    PlannedChangeError naming ``text``."""
    parts = str(text).strip().split(":")
    if len(parts) != 2:
        raise PlannedChangeError(f"planned change {text!r}: {_FORMAT}")
    day_s, factor_s = (p.strip() for p in parts)
    try:
        start = dt.date.fromisoformat(day_s)
    except ValueError as exc:
        raise PlannedChangeError(
            f"planned change {text!r}: date {day_s!r} is not a date YYYY-MM-DD"
        ) from exc
    try:
        factor = float(factor_s)
    except ValueError as exc:
        raise PlannedChangeError(
            f"planned change {text!r}: factor {factor_s!r} is not a number ({_FORMAT})"
        ) from exc
    if not math.isfinite(factor) or not 0 < factor <= FACTOR_MAX:
        raise PlannedChangeError(
            f"planned change {text!r}: factor {factor_s} must be > 0 and"
            f" ≤ {FACTOR_MAX:g} (1.2 = 20 % more demand, 0.8 = 20 % less)"
        )
    return PlannedChange(start, factor)


def parse_planned_changes(texts: Iterable[str]) -> tuple[PlannedChange, ...]:
    """Every ``DATE:FACTOR`` of ``texts``, by date; a date given twice is
    refused (which of the two would hold?)."""
    out = sorted((parse_planned_change(t) for t in texts), key=lambda c: c.start)
    for a, b in itertools.pairwise(out):
        if a.start == b.start:
            raise PlannedChangeError(
                f"planned change on {a.start} given twice"
                f" ({a.factor:g} and {b.factor:g}): give one factor per date"
            )
    return tuple(out)


def apply_planned(
    mean: np.ndarray,
    sd: np.ndarray,
    days: np.ndarray,
    last_history_day: dt.date,
    changes: Sequence[PlannedChange],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast ``mean`` and ``sd`` (rows × columns; rows on local ``days``)
    with the planned changes dated after ``last_history_day`` applied: rows on
    or after a change's date × its factor f (mean and sd), and the sd widened
    by the uncertainty of the change's size, sd_f = FACTOR_SD_SHARE × |f − 1|
    (for the product F of several: the sd of F ≈ F · √Σ (sd_f ÷ f)²):
    sd' = √((F · sd)² + (mean · sd_F)²). Returns (mean', sd', F per row)."""
    day = np.asarray(days).astype("datetime64[D]")
    factor = np.ones(len(day))
    rel_var = np.zeros(len(day))
    for c in changes:
        if c.start <= last_history_day:
            continue
        on = day >= np.datetime64(c.start, "D")
        factor[on] *= c.factor
        rel_var[on] += (FACTOR_SD_SHARE * abs(c.factor - 1.0) / c.factor) ** 2
    f = factor[:, None]
    sd_f = (factor * np.sqrt(rel_var))[:, None]
    sd_new = np.sqrt((f * sd) ** 2 + (mean * sd_f) ** 2)
    return mean * f, sd_new, factor
