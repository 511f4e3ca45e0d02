"""Compare stored results with the simulator's ground truth (pure).

Measures (docs/analytics.md):

- desk time used per floor: truth from ``space_counts`` of desks over the
  available time of the truth's days; error = measured − true [percentage points].
- room head count while occupied: time-weighted mean per room; error = measured
  − true [people], reported as mean absolute error and the largest.
- co-location: the combined matrix from ``intervals`` of people who carry a
  badge (what BLE can see) with the same bucket rule; relative error
  |measured − true| ÷ true on the cells the measured matrix does not suppress.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.buckets import attach_calendar as _attach_calendar
from analytics.buckets import split_buckets
from analytics.calendar import Calendar, bucket_frame
from analytics.sessions import to_seconds

logger = logging.getLogger(__name__)

__all__ = [
    "colocation_error",
    "desk_floor_error",
    "evaluation_lines",
    "read_truth",
    "room_headcount_error",
    "truth_days",
    "truth_presence",
]


def read_truth(directory: str | Path) -> dict[str, pd.DataFrame]:
    """Every ``<table>.parquet`` or ``.csv`` in ``directory``."""
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"ground truth directory {d} does not exist")
    out: dict[str, pd.DataFrame] = {}
    for p in sorted(d.iterdir()):
        if p.suffix == ".parquet":
            out[p.stem] = pd.read_parquet(p)
        elif p.suffix == ".csv":
            frame = pd.read_csv(p)
            for col in ("start", "end", "ts_true"):
                if col in frame.columns:
                    frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
            out[p.stem] = frame
    for need in ("space_counts", "intervals"):
        if need not in out:
            raise FileNotFoundError(
                f"ground truth directory {d} has no {need}.parquet or .csv"
            )
    return out


def _iv(frame: pd.DataFrame, space_col: str, value_col: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "space_id": frame[space_col].astype(str).to_numpy(),
            "start": to_seconds(frame["start"]),
            "end": to_seconds(frame["end"]),
            "value": frame[value_col].astype(float).to_numpy(),
        }
    )


def truth_days(
    truth: dict[str, pd.DataFrame], cal: Calendar
) -> tuple[dt.date, dt.date]:
    """First and last local day of the ground truth's intervals."""
    iv = truth["intervals"]
    local = pd.to_datetime(iv["start"], utc=True).dt.tz_convert(cal.timezone)
    first: dt.date = local.min().date()
    last: dt.date = local.max().date()
    return first, last


def desk_floor_error(
    truth: dict[str, pd.DataFrame],
    space_daily: pd.DataFrame,
    spaces: pd.DataFrame,
    cal: Calendar,
) -> pd.DataFrame:
    """Per floor: true_pct, measured_pct, error_pp (desks, available time)."""
    first, last = truth_days(truth, cal)
    grid = bucket_frame(cal, first, last, available_only=False)  # type: ignore[arg-type]
    desks = spaces[spaces["kind"] == "desk"]
    sc = truth["space_counts"]
    sc = sc[sc["space_id"].isin(desks["space_id"]) & (sc["people"] > 0)]
    pieces = _attach_calendar(
        split_buckets(_iv(sc, "space_id", "people"), cal.bucket_s), grid
    )
    pieces = pieces[pieces["available"]]
    floor = desks.set_index("space_id")["floor_id"]
    occ = pieces.groupby(pieces["space_id"].map(floor))["seconds"].sum()
    avail_s = float(grid["available"].sum()) * cal.bucket_s
    n_desks = desks.groupby("floor_id").size()
    true_pct = 100.0 * occ.reindex(n_desks.index).fillna(0.0) / (n_desks * avail_s)
    sd = space_daily[space_daily["space_id"].isin(desks["space_id"])]
    sd = sd[(sd["day"] >= first) & (sd["day"] <= last)]
    g = sd.groupby(sd["space_id"].map(floor))
    meas = 100.0 * g["occupied_s"].sum() / g["measured_s"].sum()
    out = pd.DataFrame(
        {"true_pct": true_pct, "measured_pct": meas.reindex(true_pct.index)}
    )
    out["error_pp"] = out["measured_pct"] - out["true_pct"]
    out.index.name = "floor_id"
    return out.reset_index()


def room_headcount_error(
    truth: dict[str, pd.DataFrame],
    headcount: pd.DataFrame,
    spaces: pd.DataFrame,
    cal: Calendar,
) -> pd.DataFrame:
    """Per room: true_mean, measured_mean (people while occupied), error."""
    first, last = truth_days(truth, cal)
    grid = bucket_frame(cal, first, last, available_only=False)  # type: ignore[arg-type]
    rooms = spaces[spaces["kind"] != "desk"]
    sc = truth["space_counts"]
    sc = sc[sc["space_id"].isin(rooms["space_id"]) & (sc["people"] > 0)]
    pieces = _attach_calendar(
        split_buckets(_iv(sc, "space_id", "people"), cal.bucket_s), grid
    )
    pieces = pieces[pieces["available"]]
    pieces = pieces.assign(ps=pieces["seconds"] * pieces["value"])
    g = pieces.groupby("space_id")
    true_mean = g["ps"].sum() / g["seconds"].sum()
    hc = headcount[(headcount["day"] >= first) & (headcount["day"] <= last)]
    hc = hc.assign(ps=hc["people"] * hc["seconds"])
    h = hc.groupby("space_id")
    meas = h["ps"].sum() / h["seconds"].sum()
    out = pd.DataFrame({"true_mean": true_mean, "measured_mean": meas}).dropna()
    out["error"] = out["measured_mean"] - out["true_mean"]
    out.index.name = "space_id"
    return out.reset_index()


def truth_presence(
    truth: dict[str, pd.DataFrame], zones: pd.DataFrame, cal: Calendar
) -> pd.DataFrame:
    """Department presence per (zone, bucket) of badge carriers from the truth
    intervals, in available buckets: zone_id, bucket, source, department_id,
    people, badges (person ids)."""
    from analytics.colocation import source_of_zone_kind

    first, last = truth_days(truth, cal)
    grid = bucket_frame(cal, first, last, available_only=False)  # type: ignore[arg-type]
    iv = truth["intervals"]
    if "people" in truth and "has_badge" in truth["people"].columns:
        carriers = truth["people"].loc[
            truth["people"]["has_badge"].astype(bool), "person_id"
        ]
        iv = iv[iv["person_id"].isin(carriers)]
    iv = iv[iv["zone_id"].notna()]
    frame = pd.DataFrame(
        {
            "space_id": iv["zone_id"].astype(str).to_numpy(),
            "start": to_seconds(iv["start"]),
            "end": to_seconds(iv["end"]),
            "value": np.arange(len(iv), dtype=float),
        }
    )
    pieces = _attach_calendar(split_buckets(frame, cal.bucket_s), grid)
    pieces = pieces[pieces["available"] & (pieces["seconds"] > 0)]
    rows = iv.iloc[pieces["row"].to_numpy()]
    p = pd.DataFrame(
        {
            "zone_id": pieces["space_id"].to_numpy(),
            "bucket": pieces["bucket"].to_numpy(),
            "department_id": rows["department_id"].astype(str).to_numpy(),
            "badge": rows["person_id"].astype(str).to_numpy(),
        }
    ).drop_duplicates()
    g = p.sort_values("badge").groupby(["zone_id", "bucket", "department_id"])["badge"]
    out = g.agg(list).rename("badges").reset_index()
    out["people"] = out["badges"].map(len)
    out["source"] = source_of_zone_kind(
        out["zone_id"].map(zones.set_index("zone_id")["kind"])
    )
    return out


def colocation_error(true_matrix: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """Cells of the measured matrix not suppressed, with true minutes and
    rel_error = |measured − true| ÷ true."""
    keys = ["source", "department_a", "department_b"]
    m = measured[~measured["suppressed"].astype(bool)][[*keys, "minutes"]]
    t = true_matrix[[*keys, "minutes"]].rename(columns={"minutes": "true_minutes"})
    j = m.merge(t, on=keys, how="left").fillna({"true_minutes": 0.0})
    j["rel_error"] = (j["minutes"] - j["true_minutes"]).abs() / j["true_minutes"].where(
        j["true_minutes"] > 0
    )
    return j


def evaluation_lines(
    truth: dict[str, pd.DataFrame],
    measured: dict[str, pd.DataFrame],
    spaces: pd.DataFrame,
    zones: pd.DataFrame,
    cal: Calendar,
    bucket_minutes: float,
) -> list[str]:
    """The report of ``occupancy evaluate``: the error of each measure.
    ``measured``: ``space_daily`` and ``room_headcount`` rollups and the
    ``colocation`` matrix (all sources) stored over the truth's days."""
    from analytics.colocation import colocation_matrix

    lines = ["desk time used per floor [%]:"]
    floors = desk_floor_error(truth, measured["space_daily"], spaces, cal)
    lines += [
        f"  {r.floor_id}: true {r.true_pct:.2f}  measured {r.measured_pct:.2f}  "
        f"error {r.error_pp:+.2f} pp"
        for r in floors.itertuples()
    ]
    rooms = room_headcount_error(truth, measured["room_headcount"], spaces, cal)
    if len(rooms):
        err = rooms["error"].abs()
        lines.append(
            f"room head count while occupied: mean abs error {err.mean():.3f} "
            f"people, largest {err.max():.3f} ({len(rooms)} rooms)"
        )
    tp = truth_presence(truth, zones, cal)
    tm = colocation_matrix(tp, bucket_minutes=bucket_minutes, k=1, by_source=False)
    ce = colocation_error(tm, measured["colocation"])
    if not len(ce):
        return [*lines, "co-location: no unsuppressed cells"]
    total = (ce["minutes"] - ce["true_minutes"]).abs().sum() / ce["true_minutes"].sum()
    lines.append(
        f"co-location (all sources, {len(ce)} unsuppressed cells): mean rel error "
        f"{100 * ce['rel_error'].mean():.2f} %, largest "
        f"{100 * ce['rel_error'].max():.2f} %, total {100 * total:.2f} %"
    )
    return lines
