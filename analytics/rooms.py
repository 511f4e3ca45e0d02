"""Meeting rooms: head count while occupied vs seats, right-sizing, bookings.

Right-sizing rule (docs/metrics.md): the recommended size of a room is the
90th percentile of its head count while occupied (time-weighted) plus a
:data:`SIZING_MARGIN_PCT` margin, rounded up, at least 1. A room is
``too_small`` when its seats are fewer than that p90 (people stand more than a
tenth of the occupied time), ``too_big`` when it has :data:`SIZING_SPARE_SEATS`
or more seats beyond the recommendation, else ``right``.
``seats_change`` = recommended − seats.
No-show rate = booked time with no sensed presence ÷ booked (measured) time;
unbooked use = occupied time outside any booking ÷ occupied time; both at
bucket resolution.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analytics.buckets import attach_calendar as _attach_calendar
from analytics.buckets import booking_pieces, ordinal_dates, split_buckets
from analytics.privacy import suppress

logger = logging.getLogger(__name__)

__all__ = [
    "SIZING_MARGIN_PCT",
    "SIZING_SPARE_SEATS",
    "booking_stats",
    "department_no_show",
    "room_headcount",
    "room_sizing",
    "sizing_verdict",
    "weighted_quantile",
]


#: Head room on top of the p90 head count in the recommended seats [%].
SIZING_MARGIN_PCT = 20.0
#: Seats beyond the recommendation from which a room is too big [seats].
SIZING_SPARE_SEATS = 2


def sizing_verdict(
    p90_people: pd.Series | np.ndarray,
    seats: pd.Series | np.ndarray,
    *,
    margin_pct: float = SIZING_MARGIN_PCT,
    spare_seats: int = SIZING_SPARE_SEATS,
) -> tuple[np.ndarray, np.ndarray]:
    """(recommended seats, verdict) per room: recommended = ceil(p90 x (1 +
    margin)), at least 1; ``too_small`` when seats < p90, ``too_big`` when seats
    - recommended >= ``spare_seats``, else ``right``."""
    p90 = np.asarray(p90_people, dtype=float)
    cap = np.asarray(seats, dtype=float)
    # Round away float noise first (10 x 1.2 is 12.000000000000002).
    rec = np.maximum(np.ceil(np.round(p90 * (1.0 + margin_pct / 100.0), 6)), 1.0)
    verdict = np.where(
        cap < p90, "too_small", np.where(cap - rec >= spare_seats, "too_big", "right")
    )
    return rec.astype(np.int64), verdict


def room_headcount(
    iv: pd.DataFrame, room_ids: pd.Series, grid: pd.DataFrame, bucket_s: int
) -> pd.DataFrame:
    """Seconds of available time each room spent at each head count > 0, per
    local day: day, space_id, people, seconds."""
    r = iv[iv["space_id"].isin(room_ids) & (iv["value"] > 0)]
    pieces = _attach_calendar(split_buckets(r, bucket_s), grid)
    pieces = pieces[pieces["available"]]
    pieces = pieces.assign(people=np.rint(pieces["value"]).astype(np.int64))
    out = pieces.groupby(["day", "space_id", "people"])["seconds"].sum().reset_index()
    out["day"] = ordinal_dates(out["day"].to_numpy())
    return out


def weighted_quantile(
    frame: pd.DataFrame, key: str, value: str, weight: str, q: float
) -> pd.Series:
    """Per ``key``: smallest ``value`` whose cumulative ``weight`` share reaches q."""
    f = frame.sort_values([key, value])
    cum = f.groupby(key)[weight].cumsum()
    tot = f.groupby(key)[weight].transform("sum")
    hit = f[(cum / tot) >= q - 1e-12]
    return hit.groupby(key)[value].first()


def room_sizing(headcount: pd.DataFrame, rooms: pd.DataFrame) -> pd.DataFrame:
    """Per room: seats, occupied_s, mean_people (while occupied), median_people,
    p90_people, max_people, half_or_less_pct (share of occupied time with at
    most half the seats used), single_person_pct, recommended_seats,
    seats_change, verdict."""
    h = headcount.groupby(["space_id", "people"])["seconds"].sum().reset_index()
    g = h.assign(ps=h["people"] * h["seconds"]).groupby("space_id")
    out = pd.DataFrame(
        {
            "occupied_s": g["seconds"].sum(),
            "people_s": g["ps"].sum(),
            "max_people": g["people"].max(),
        }
    )
    out["median_people"] = weighted_quantile(h, "space_id", "people", "seconds", 0.5)
    out["p90_people"] = weighted_quantile(h, "space_id", "people", "seconds", 0.9)
    out = out.reset_index().merge(
        rooms[["space_id", "kind", "capacity", "zone_id", "floor_id"]],
        on="space_id",
        how="left",
    )
    out = out.rename(columns={"capacity": "seats"})
    hh = h.merge(rooms[["space_id", "capacity"]], on="space_id", how="left")
    half = hh[hh["people"] <= hh["capacity"] / 2.0].groupby("space_id")["seconds"].sum()
    single = hh[hh["people"] == 1].groupby("space_id")["seconds"].sum()
    out["mean_people"] = out["people_s"] / out["occupied_s"]
    out["half_or_less_pct"] = (
        100.0 * out["space_id"].map(half).fillna(0.0) / out["occupied_s"]
    )
    out["single_person_pct"] = (
        100.0 * out["space_id"].map(single).fillna(0.0) / out["occupied_s"]
    )
    rec, verdict = sizing_verdict(out["p90_people"], out["seats"])
    out["recommended_seats"] = rec
    out["seats_change"] = out["recommended_seats"] - out["seats"]
    out["verdict"] = verdict
    out = out.drop(columns="people_s").sort_values("space_id").reset_index(drop=True)
    return out


def booking_stats(
    bookings: pd.DataFrame, room_buckets: pd.DataFrame, bucket_s: int
) -> pd.DataFrame:
    """Per room with bookings or presence: booked_s, no_show_s, no_show_pct,
    occupied_s, unbooked_occupied_s, unbooked_use_pct, bookings.
    ``bookings``: room_id, start, end (UTC); ``room_buckets``: level_id (room),
    bucket (epoch index), occupied_s, measured_s (available buckets only)."""
    b = pd.DataFrame(
        {
            "space_id": bookings["room_id"].astype(str).to_numpy(),
            "start": (
                pd.to_datetime(bookings["start"], utc=True) - pd.Timestamp(0, tz="UTC")
            )
            .dt.total_seconds()
            .to_numpy(),
            "end": (
                pd.to_datetime(bookings["end"], utc=True) - pd.Timestamp(0, tz="UTC")
            )
            .dt.total_seconds()
            .to_numpy(),
            "value": 1.0,
        }
    )
    pieces = split_buckets(b, bucket_s)
    booked = (
        pieces.groupby(["space_id", "bucket"])["seconds"]
        .sum()
        .rename("booked_s")
        .reset_index()
    )
    rb = room_buckets.rename(columns={"level_id": "space_id"})[
        ["space_id", "bucket", "occupied_s", "measured_s"]
    ]
    j = booked.merge(rb, on=["space_id", "bucket"], how="outer")
    j = j.fillna({"booked_s": 0.0, "occupied_s": 0.0, "measured_s": 0.0})
    measured = j["measured_s"] > 0
    jb = j[measured & (j["booked_s"] > 0)]
    per = pd.DataFrame(
        {
            "booked_s": jb.groupby("space_id")["booked_s"].sum(),
            "no_show_s": jb[jb["occupied_s"] == 0]
            .groupby("space_id")["booked_s"]
            .sum(),
            "occupied_s": j.groupby("space_id")["occupied_s"].sum(),
            "unbooked_occupied_s": j[j["booked_s"] == 0]
            .groupby("space_id")["occupied_s"]
            .sum(),
            "bookings": bookings.groupby(bookings["room_id"].astype(str)).size(),
        }
    ).fillna(0.0)
    per["no_show_pct"] = (
        100.0 * per["no_show_s"] / per["booked_s"].where(per["booked_s"] > 0)
    )
    per["unbooked_use_pct"] = (
        100.0
        * per["unbooked_occupied_s"]
        / per["occupied_s"].where(per["occupied_s"] > 0)
    )
    per.index.name = "space_id"
    return per.reset_index().sort_values("space_id").reset_index(drop=True)


def department_no_show(
    bookings: pd.DataFrame,
    room_buckets: pd.DataFrame,
    bucket_s: int,
    *,
    headcount: pd.Series,
    k: int,
) -> pd.DataFrame:
    """No-show rate per organiser department, same rule as the rooms' rate:
    booked measured time [s] of the department's bookings in buckets where the
    room sensed nobody ÷ its booked measured time, at bucket resolution.

    ``bookings``: room_id, start, end (UTC), organiser_department (bookings
    without one are left out); ``room_buckets``: level_id (room), bucket,
    occupied_s, measured_s (available buckets only); ``headcount``: people per
    department_id. Returns department_id, bookings, booked_s, no_show_s,
    no_show_pct, suppressed. k rule (docs/metrics.md): a booking has one
    organiser, so a row is suppressed when the department made fewer than
    ``k`` bookings in range or has fewer than ``k`` members."""
    b = bookings[bookings["organiser_department"].notna()].reset_index(drop=True)
    cols = ["department_id", "bookings", "booked_s", "no_show_s", "no_show_pct"]
    if b.empty:
        return pd.DataFrame(columns=[*cols, "suppressed"])
    dept = b["organiser_department"].astype(str).to_numpy()
    pieces = booking_pieces(b, bucket_s)
    pieces["department_id"] = dept[pieces["row"].to_numpy()]
    rb = room_buckets.rename(columns={"level_id": "space_id"})[
        ["space_id", "bucket", "occupied_s", "measured_s"]
    ]
    j = pieces.merge(rb, on=["space_id", "bucket"], how="left").fillna(
        {"occupied_s": 0.0, "measured_s": 0.0}
    )
    jm = j[j["measured_s"] > 0]
    out = pd.DataFrame(
        {
            "bookings": pd.Series(dept).value_counts(),
            "booked_s": jm.groupby("department_id")["seconds"].sum(),
            "no_show_s": jm[jm["occupied_s"] == 0]
            .groupby("department_id")["seconds"]
            .sum(),
        }
    )
    out = out.fillna({"booked_s": 0.0, "no_show_s": 0.0})
    out["no_show_pct"] = (
        100.0 * out["no_show_s"] / out["booked_s"].where(out["booked_s"] > 0)
    )
    out.index.name = "department_id"
    out = out.reset_index()
    out["headcount"] = (
        out["department_id"].map(headcount).astype(float).fillna(0.0).to_numpy()
    )
    out = suppress(
        out, ["bookings", "headcount"], ["booked_s", "no_show_s", "no_show_pct"], k
    )
    return (
        out[[*cols, "suppressed"]].sort_values("department_id").reset_index(drop=True)
    )
