"""Did it work? Intervention analysis of a change in some spaces (a café moved,
a project space opened, a policy changed) on cross-department co-location,
diversity and utilization: before/after with a bootstrap confidence interval
over weeks, and difference-in-differences against untouched zones; and the
neutral-ground scorecard of shared zones. Pure: DataFrames in, DataFrames
out (rules: docs/metrics.md, "Did it work?").

Zone-week inputs come from the daily co-location rollups summed per local
week (Monday): ``pairs`` (week, zone_id, department_a, department_b,
buckets), ``zone`` (week, zone_id, buckets: anyone present), ``dept`` (week,
zone_id, department_id, buckets, people_buckets), ``people`` (week, zone_id,
people: distinct badges)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "METRICS",
    "bootstrap_effect",
    "intervention_effects",
    "scorecard",
    "zone_week_metrics",
]

#: outcome → what it is (docs/metrics.md)
METRICS = {
    "cross_pairs": "cross-department pairs present per occupied bucket",
    "simpson": "Simpson diversity of the zone's people-minutes",
    "utilization_pct": "people ÷ seats over measured time [%]",
}


def zone_week_metrics(
    pairs: pd.DataFrame,
    zone: pd.DataFrame,
    dept: pd.DataFrame,
    people: pd.DataFrame,
    *,
    k: int,
) -> pd.DataFrame:
    """Per zone and week: people (distinct), cross_pairs = Σ_{a<b} buckets both
    present ÷ buckets anyone present, simpson = 1 − Σ pᵢ² over departments'
    shares of people-buckets, suppressed (fewer than k people: values NaN)."""
    key = ["week", "zone_id"]
    cross = pairs[pairs["department_a"] < pairs["department_b"]]
    cp = cross.groupby(key)["buckets"].sum()
    zb = zone.groupby(key)["buckets"].sum()
    pb = dept.groupby([*key, "department_id"])["people_buckets"].sum()
    share = pb / pb.groupby(level=key).transform("sum")
    simpson = 1.0 - (share**2).groupby(level=key).sum()
    out = pd.DataFrame({"zone_buckets": zb})
    out["cross_pairs"] = cp.reindex(out.index).fillna(0.0) / out["zone_buckets"]
    out["simpson"] = simpson.reindex(out.index)
    ppl = people.set_index(key)["people"]
    out["people"] = ppl.reindex(out.index).fillna(0).astype(np.int64)
    out["suppressed"] = out["people"] < k
    for c in ("cross_pairs", "simpson"):
        out[c] = out[c].where(~out["suppressed"])
    return out.reset_index().drop(columns="zone_buckets")


def bootstrap_effect(
    pre: np.ndarray,
    post: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """mean(post) − mean(pre) and its 95 % percentile bootstrap interval:
    weeks resampled with replacement within each period (iid over weeks),
    ``n_boot`` replicates."""
    pre, post = np.asarray(pre, float), np.asarray(post, float)
    est = float(post.mean() - pre.mean())
    rng = np.random.default_rng(seed)
    bp = rng.choice(pre, size=(n_boot, len(pre)), replace=True).mean(axis=1)
    bq = rng.choice(post, size=(n_boot, len(post)), replace=True).mean(axis=1)
    lo, hi = np.quantile(bq - bp, [0.025, 0.975])
    return est, float(lo), float(hi)


def _weekly_mean(m: pd.DataFrame, zones: Iterable[str], metric: str) -> pd.Series:
    x = m[m["zone_id"].isin(list(zones)) & m[metric].notna()]
    return x.groupby("week")[metric].mean()


def intervention_effects(
    metrics: pd.DataFrame,
    *,
    change: dt.date,
    treated: list[str],
    control: list[str] | None = None,
    outcomes: Iterable[str] = ("cross_pairs", "simpson"),
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per outcome: the treated zones' weekly mean before and after the
    change week (the week of ``change`` and later: after), their difference
    with its bootstrap 95 % CI, and — with control zones — the control's
    before/after and the difference-in-differences (Δ treated − Δ control of
    the weekly means, weeks resampled jointly) with its CI. ``metrics``:
    :func:`zone_week_metrics` rows (week as a date, a Monday); suppressed
    zone-weeks are left out."""
    cw = change - dt.timedelta(days=change.weekday())
    rows = []
    for metric in outcomes:
        t = _weekly_mean(metrics, treated, metric)
        row: dict[str, object] = {"outcome": metric, "treated": ",".join(treated)}
        pre, post = t[t.index < cw], t[t.index >= cw]
        row.update(weeks_before=len(pre), weeks_after=len(post))
        if len(pre) < 2 or len(post) < 2:
            rows.append(row | {"note": "fewer than 2 weeks before or after"})
            continue
        est, lo, hi = bootstrap_effect(
            pre.to_numpy(), post.to_numpy(), n_boot=n_boot, seed=seed
        )
        row.update(
            before=float(pre.mean()),
            after=float(post.mean()),
            change=est,
            change_lo95=lo,
            change_hi95=hi,
        )
        if control:
            c = _weekly_mean(metrics, control, metric)
            d = (t - c).dropna()
            dpre, dpost = d[d.index < cw], d[d.index >= cw]
            if len(dpre) >= 2 and len(dpost) >= 2:
                est, lo, hi = bootstrap_effect(
                    dpre.to_numpy(), dpost.to_numpy(), n_boot=n_boot, seed=seed
                )
                row.update(
                    control=",".join(control),
                    control_before=float(c[c.index < cw].mean()),
                    control_after=float(c[c.index >= cw].mean()),
                    did=est,
                    did_lo95=lo,
                    did_hi95=hi,
                )
        rows.append(row)
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


EFFECT_COLUMNS = [
    "outcome",
    "treated",
    "weeks_before",
    "weeks_after",
    "before",
    "after",
    "change",
    "change_lo95",
    "change_hi95",
    "control",
    "control_before",
    "control_after",
    "did",
    "did_lo95",
    "did_hi95",
    "note",
]


def scorecard(
    pairs: pd.DataFrame,
    zone: pd.DataFrame,
    dept: pd.DataFrame,
    pair_people: pd.DataFrame,
    people: pd.DataFrame,
    weekly: pd.DataFrame,
    *,
    departments: int,
    k: int,
) -> pd.DataFrame:
    """Shared zones ranked by cross-department mixing over the whole range
    (inputs summed over it, no week column; ``pair_people``: zone_id,
    department_a, department_b, people_a, people_b distinct badges):

    - lift = Σ_{a<b} n_ab ÷ Σ_{a<b} n_a·n_b ÷ N (observed over independent
      co-presence; n: buckets present, N: buckets anyone present);
    - simpson diversity of people-buckets;
    - pairs_met_pct = pairs (a<b) present together with ≥ k people on each
      side ÷ all department pairs (departments·(departments−1)/2) × 100;
    - trend_per_week = OLS slope of the weekly cross_pairs (``weekly``:
      zone_week_metrics rows) per week.

    Rank 1 = most pairs met, then highest lift. Zones with fewer than k people:
    suppressed, unranked."""
    n = dept.set_index(["zone_id", "department_id"])["buckets"]
    big_n = zone.set_index("zone_id")["buckets"]
    nab, expected = _lift_parts(pairs, dept, big_n)
    pb = dept.groupby(["zone_id", "department_id"])["people_buckets"].sum()
    share = pb / pb.groupby(level="zone_id").transform("sum")
    out = pd.DataFrame({"zone_id": sorted(big_n.index)}).set_index("zone_id")
    out["people"] = people.set_index("zone_id")["people"].reindex(out.index).fillna(0)
    out["departments_seen"] = n.groupby(level="zone_id").size().reindex(out.index)
    out["lift"] = nab.reindex(out.index) / expected.reindex(out.index)
    out["simpson"] = (1 - (share**2).groupby(level="zone_id").sum()).reindex(out.index)
    pp = pair_people[
        (pair_people["department_a"] < pair_people["department_b"])
        & (pair_people["people_a"] >= k)
        & (pair_people["people_b"] >= k)
    ]
    total_pairs = max(departments * (departments - 1) // 2, 1)
    met = pp.groupby("zone_id").size().reindex(out.index).fillna(0)
    out["pairs_met"] = met.astype(int)
    out["pairs_met_pct"] = 100 * met / total_pairs
    out["trend_per_week"] = _slopes(weekly).reindex(out.index)
    return _ranked(out, k)


def _lift_parts(
    pairs: pd.DataFrame, dept: pd.DataFrame, big_n: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Per zone: Σ_{a<b} n_ab (observed cross-department buckets) and
    Σ_{a<b} n_a·n_b ÷ N (expected under independent presence)."""
    cross = pairs[pairs["department_a"] < pairs["department_b"]]
    nab = cross.groupby("zone_id")["buckets"].sum()
    c = cross.merge(
        dept.rename(columns={"department_id": "department_a", "buckets": "na"})[
            ["zone_id", "department_a", "na"]
        ],
        on=["zone_id", "department_a"],
    ).merge(
        dept.rename(columns={"department_id": "department_b", "buckets": "nb"})[
            ["zone_id", "department_b", "nb"]
        ],
        on=["zone_id", "department_b"],
    )
    c["expected"] = c["na"] * c["nb"] / c["zone_id"].map(big_n)
    return nab, c.groupby("zone_id")["expected"].sum()


_SCORE_COLUMNS = [
    "departments_seen",
    "lift",
    "simpson",
    "pairs_met",
    "pairs_met_pct",
    "trend_per_week",
]


def _ranked(out: pd.DataFrame, k: int) -> pd.DataFrame:
    """Zones with fewer than ``k`` people suppressed (no figures, no rank);
    the others ranked by pairs met, then lift."""
    out["suppressed"] = out["people"] < k
    vals = _SCORE_COLUMNS
    out[vals] = out[vals].astype(float)
    out.loc[out["suppressed"], vals] = np.nan
    ranked = out[~out["suppressed"]].sort_values(
        ["pairs_met_pct", "lift"], ascending=False
    )
    out["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    out = out.reset_index()
    out["people"] = out["people"].astype(float).where(~out["suppressed"])
    return out.sort_values(["rank", "zone_id"], na_position="last").reset_index(
        drop=True
    )


def _slopes(weekly: pd.DataFrame) -> pd.Series:
    """OLS slope of cross_pairs on the week number, per zone (≥ 3 weeks)."""
    out = {}
    w = weekly.dropna(subset=["cross_pairs"])
    for z, g in w.groupby("zone_id"):
        if len(g) < 3:
            out[z] = math.nan
            continue
        x = np.array([(d - g["week"].min()).days / 7 for d in g["week"]], dtype=float)
        out[z] = float(np.polyfit(x, g["cross_pairs"].to_numpy(float), 1)[0])
    return pd.Series(out, dtype=float)
