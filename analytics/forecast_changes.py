"""Planned changes: demand changes announced in advance (a hybrid policy from
2.5 to 3 office days a week from a date: factor 3 ÷ 2.5 = 1.2), an optional
input of the forecast. Rule (docs/metrics.md, "Forecast", "Planned changes"):
a change dated after the last day of the history multiplies the forecast of
every hour on or after its date (several changes: the product of those in
force); the spread grows with it and with the uncertainty of the change's
size. A change on or before the history's last day is left out: it is in the
data, where the log-scale models' level-shift detection picks it up. A change
of named floors or departments applies to the people of their zones: fully to
the groups made of those zones only, to a group containing some of them (the
building, a floor with a department's neighbourhood) as the share of those
zones' people in the group's recent history."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from occupancy.planned_changes import FACTOR_MAX, PlannedChange, factor_problem

__all__ = [
    "FACTOR_MAX",
    "FACTOR_SD_SHARE",
    "PlannedChange",
    "PlannedChangeError",
    "apply_planned",
    "change_shares",
    "check_scopes",
    "group_zones",
    "parse_planned_change",
    "parse_planned_changes",
    "planned_shares",
    "scope_zones",
    "zone_profile",
]

#: The realised size of an announced change is uncertain (not everybody
#: follows a new policy at once): its sd is taken as this share of the
#: announced change |factor − 1|.
FACTOR_SD_SHARE = 0.5


class PlannedChangeError(ValueError):
    """A planned change that cannot be read (the message names it)."""


_FORMAT = (
    "expected DATE:FACTOR[:floors=ID+ID][:departments=ID+ID],"
    " e.g. 2026-09-07:1.2 or 2026-09-07:1.2:departments=sales"
)


def _scope(text: str, parts: list[str]) -> dict[str, tuple[str, ...]]:
    scope: dict[str, tuple[str, ...]] = {}
    for part in parts:
        key, eq, ids = part.partition("=")
        key = key.strip()
        names = tuple(sorted({x.strip() for x in ids.split("+") if x.strip()}))
        if not eq or key not in ("floors", "departments") or key in scope:
            raise PlannedChangeError(f"planned change {text!r}: {_FORMAT}")
        if not names:
            raise PlannedChangeError(f"planned change {text!r}: {key}= names none")
        scope[key] = names
    return scope


def parse_planned_change(text: str) -> PlannedChange:
    """``DATE:FACTOR`` (ISO date, factor > 0), optionally
    ``:floors=ID+ID`` and/or ``:departments=ID+ID`` → PlannedChange; else
    PlannedChangeError naming ``text``."""
    parts = str(text).strip().split(":")
    if len(parts) < 2 or len(parts) > 4:
        raise PlannedChangeError(f"planned change {text!r}: {_FORMAT}")
    day_s, factor_s = (p.strip() for p in parts[:2])
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
    problem = factor_problem(factor)
    if problem is not None:
        raise PlannedChangeError(f"planned change {text!r}: {problem}")
    scope = _scope(text, parts[2:])
    return PlannedChange(
        start, factor, scope.get("floors", ()), scope.get("departments", ())
    )


def _key(c: PlannedChange) -> tuple[dt.date, tuple[str, ...], tuple[str, ...]]:
    return (c.start, c.floors, c.departments)


def parse_planned_changes(texts: Iterable[str]) -> tuple[PlannedChange, ...]:
    """Every change of ``texts``, by date; the same date and scope given
    twice is refused (which of the two would hold?)."""
    out = sorted((parse_planned_change(t) for t in texts), key=_key)
    for a, b in itertools.pairwise(out):
        if _key(a) == _key(b):
            where = PlannedChange(a.start, 1.0, a.floors, a.departments).label()
            where = where.replace(" × 1", "")
            raise PlannedChangeError(
                f"planned change on {where} given twice"
                f" ({a.factor:g} and {b.factor:g}): give one factor per date"
            )
    return tuple(sorted(out, key=lambda c: c.start))


def apply_planned(
    mean: np.ndarray,
    sd: np.ndarray,
    days: np.ndarray,
    last_history_day: dt.date,
    changes: Sequence[PlannedChange],
    shares: Sequence[np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast ``mean`` and ``sd`` (rows × columns; rows on local ``days``)
    with the planned changes dated after ``last_history_day`` applied. A
    change of factor f on the share s of a group (``shares``: per change an
    array rows × columns, :func:`change_shares`; None: the whole group, s = 1)
    gives the group's rows on or after its date the factor 1 + (f − 1)·s,
    of sd (f − 1)·s × FACTOR_SD_SHARE; several: the product F, of relative
    sd ≈ √Σ (sd_f ÷ f)², sd' = √((F · sd)² + (mean · sd_F)²). Returns
    (mean', sd', F rows × columns)."""
    day = np.asarray(days).astype("datetime64[D]")
    factor = np.ones(mean.shape)
    rel_var = np.zeros(mean.shape)
    for i, c in enumerate(changes):
        if c.start <= last_history_day:
            continue
        on = (day >= np.datetime64(c.start, "D"))[:, None]
        share = 1.0 if shares is None or shares[i] is None else shares[i]
        f = 1.0 + (c.factor - 1.0) * np.asarray(share, dtype=float)
        f = np.where(on, f, 1.0)
        factor *= f
        rel_var += (FACTOR_SD_SHARE * np.abs(f - 1.0) / f) ** 2
    sd_f = factor * np.sqrt(rel_var)
    sd_new = np.sqrt((factor * sd) ** 2 + (mean * sd_f) ** 2)
    return mean * factor, sd_new, factor


def scope_zones(change: PlannedChange, zones: pd.DataFrame) -> set[str]:
    """The zones a change applies to (``zones``: zone_id, floor_id,
    department_id of a neighbourhood): every zone; those on ``floors``; the
    neighbourhoods of ``departments``; both given: those departments'
    neighbourhoods on those floors."""
    on = np.ones(len(zones), dtype=bool)
    if change.floors:
        on &= zones["floor_id"].isin(change.floors).to_numpy()
    if change.departments:
        on &= zones["department_id"].isin(change.departments).to_numpy()
    return set(zones.loc[on, "zone_id"].astype(str))


def group_zones(key: tuple[str, str], zones: pd.DataFrame) -> set[str]:
    """The zones whose people make up group ``key`` (level, level_id): a
    building's, a floor's, the zone itself, a department's neighbourhoods."""
    level, gid = key
    col = {
        "building": "building_id",
        "floor": "floor_id",
        "zone": "zone_id",
        "department": "department_id",
    }.get(level)
    if col is None or col not in zones:
        return set()
    return set(zones.loc[zones[col].astype(str) == gid, "zone_id"].astype(str))


def check_scopes(changes: Sequence[PlannedChange], zones: pd.DataFrame) -> None:
    """PlannedChangeError for a change naming a floor or department the
    site does not have."""
    for c in changes:
        for name, ids, col in (
            ("floor", c.floors, "floor_id"),
            ("department", c.departments, "department_id"),
        ):
            known = set(zones[col].dropna().astype(str)) if col in zones else set()
            bad = [x for x in ids if x not in known]
            if bad:
                raise PlannedChangeError(
                    f"planned change {c.label()}: {bad[0]!r} is not a {name}"
                    " of the site (with zones)"
                )


def change_shares(
    change: PlannedChange,
    keys: Sequence[tuple[str, str]],
    zones: pd.DataFrame,
    profile: pd.DataFrame,
    how: np.ndarray,
) -> np.ndarray | None:
    """Per target row (hour of week ``how``) and group of ``keys``, the share
    s of the group's people the change applies to: 1 for a group all of
    whose zones are in its scope (:func:`scope_zones`; a floor or department
    it names), 0 for one with none of them, else Σ of the scope's zones ÷ Σ
    of the group's zones of ``profile`` (mean people per hour of week ×
    zone_id, of the recent history) at that hour of week (no people there:
    the share of the zones by count). None: the change is not scoped (s = 1)."""
    if not change.scoped:
        return None
    scope = scope_zones(change, zones)
    prof = profile.reindex(index=np.unique(how))
    out = np.zeros((len(how), len(keys)))
    for j, key in enumerate(keys):
        members = group_zones(key, zones)
        named = (key[0] == "floor" and key[1] in change.floors) or (
            key[0] == "department" and key[1] in change.departments
        )
        inside = members & scope
        if (members and inside == members) or (not members and named):
            out[:, j] = 1.0
        elif inside:
            out[:, j] = _partial_share(prof, members, inside).reindex(how).to_numpy()
    return out


def zone_profile(series: pd.DataFrame, last_day: dt.date, weeks: int) -> pd.DataFrame:
    """Mean people per hour of week (rows, weekday × 24 + hour) and zone
    (columns) of the zone rows of ``series`` (:func:`analytics.forecast.
    hourly_series`) over the ``weeks`` weeks up to ``last_day``."""
    z = series[series["level"] == "zone"]
    first = last_day - dt.timedelta(days=7 * weeks - 1)
    days = pd.to_datetime(pd.Series(z["day"]).astype(str))
    keep = ((days.dt.date >= first) & (days.dt.date <= last_day)).to_numpy()
    z, days = z[keep], days[keep]
    how = days.dt.weekday.to_numpy() * 24 + z["hour"].to_numpy()
    return (
        z.assign(how=how)
        .pivot_table(index="how", columns="level_id", values="people", aggfunc="mean")
        .rename(columns=str)
    )


def _partial_share(
    prof: pd.DataFrame, members: set[str], inside: set[str]
) -> pd.Series:
    cols = [z for z in prof.columns if z in members]
    total = prof[cols].sum(axis=1) if cols else pd.Series(0.0, index=prof.index)
    part = prof[[z for z in cols if z in inside]].sum(axis=1)
    by_count = len(inside) / len(members)
    share = (part / total.where(total > 0)).fillna(by_count)
    return share.clip(0.0, 1.0)


def planned_shares(
    planned: Sequence[PlannedChange],
    series: pd.DataFrame,
    keys: Sequence[tuple[str, str]],
    zones: pd.DataFrame | None,
    how: np.ndarray,
    last_day: dt.date,
    weeks: int,
) -> list[np.ndarray | None]:
    """Per planned change, the share of every group of ``keys`` it applies
    to at the target hours of week ``how`` (:func:`change_shares`, from the
    zone rows of ``series`` over the last ``weeks`` weeks; None: all of it)."""
    if not any(c.scoped for c in planned):
        return [None] * len(planned)
    if zones is None:
        raise PlannedChangeError(
            "planned changes of floors or departments need the site's zones"
        )
    prof = zone_profile(series, last_day, weeks)
    return [change_shares(c, keys, zones, prof, how) for c in planned]
