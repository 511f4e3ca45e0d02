"""Alert rules over the live data: each alert raised once and resolved once.

Rules (thresholds are settings, 0 turns a rule off): a device silent too long,
a low battery, a room above capacity, a data gap (no event from the site
during working hours), ingester lag, and the rejected-message rate.
:func:`firing` is pure (inputs and thresholds in, firing alerts out);
:func:`read_inputs` and :func:`sync_alerts` do the I/O.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.api import read_live
from occupancy.db import Connection, read_frame
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["ALERT_COLUMNS", "RULES", "Alert", "AlertInputs", "firing", "read_inputs", "sync_alerts"]  # fmt: skip

RULES = ("device_silent", "battery_low", "room_over_capacity", "data_gap",
         "ingest_lag", "rejected_rate")  # fmt: skip
ALERT_COLUMNS = ["rule", "subject", "severity", "message", "value"]


@dataclass(frozen=True)
class Alert:
    alert_id: int
    rule: str
    subject: str
    severity: str
    message: str
    value: float | None
    raised_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True)
class AlertInputs:
    """devices: device_id, kind, last_seen, battery_pct (assigned devices);
    live: analytics.live frame with capacity; last_received: newest event
    arrival; lag_s: median arrival lag of the last 5 min [s] (None: no
    events); rejected, accepted: messages in the last 10 min; working: now is
    in working hours."""

    devices: pd.DataFrame
    live: pd.DataFrame
    last_received: dt.datetime | None
    lag_s: float | None
    rejected: int
    accepted: int
    working: bool


def _rows(
    frame: pd.DataFrame,
    rule: str,
    severity: str,
    subject: str,
    message: Any,
    value: str,
) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    return pd.DataFrame({
        "rule": rule, "subject": frame[subject].astype(str).to_numpy(),
        "severity": severity, "message": message(frame).to_numpy(),
        "value": frame[value].astype(float).to_numpy(),
    })  # fmt: skip


def _device_rules(
    inp: AlertInputs, s: Settings, now: dt.datetime
) -> list[pd.DataFrame]:
    out = []
    d = inp.devices
    if s.alert_device_silent_min > 0 and len(d):
        seen = pd.to_datetime(d["last_seen"], utc=True)
        minutes = (pd.Timestamp(now) - seen).dt.total_seconds() / 60
        silent = d.assign(minutes=minutes.round(1))[
            minutes.isna() | (minutes > s.alert_device_silent_min)
        ]
        silent = silent[silent["last_seen"].notna()]
        out.append(_rows(silent, "device_silent", "warning", "device_id",
                         lambda f: "device " + f["device_id"] + " silent for "
                         + f["minutes"].map("{:.0f}".format) + " min", "minutes"))  # fmt: skip
    if s.alert_battery_pct > 0 and len(d):
        low = d[pd.to_numeric(d["battery_pct"], errors="coerce") < s.alert_battery_pct]
        out.append(_rows(low, "battery_low", "warning", "device_id",
                         lambda f: "device " + f["device_id"] + " battery "
                         + f["battery_pct"].map("{:.0f}".format) + " %", "battery_pct"))  # fmt: skip
    return out


def firing(inp: AlertInputs, s: Settings, now: dt.datetime) -> pd.DataFrame:
    """The alerts firing now: one row per (rule, subject), :data:`ALERT_COLUMNS`."""
    parts = _device_rules(inp, s, now)
    factor = s.alert_room_capacity_factor
    if factor > 0 and len(inp.live):
        over = inp.live[inp.live["people"] > inp.live["capacity"] * factor]
        parts.append(_rows(over, "room_over_capacity", "warning", "space_id",
                           lambda f: "room " + f["space_id"] + ": "
                           + f["people"].map("{:.0f}".format) + " people, "
                           + f["capacity"].map("{:.0f}".format) + " seats", "people"))  # fmt: skip
    single: list[tuple[str, str, str, float]] = []
    gap_min = s.alert_data_gap_min
    if gap_min > 0 and inp.working:
        age = (
            None
            if inp.last_received is None
            else (now - inp.last_received).total_seconds() / 60
        )
        if age is None or age > gap_min:
            text = "no event from any device" + (
                "" if age is None else f" for {age:.0f} min"
            )
            single.append(("data_gap", "site", text, age if age is not None else -1.0))
    lag = s.alert_ingest_lag_s
    if lag > 0 and inp.lag_s is not None and inp.lag_s > lag:
        single.append(
            (
                "ingest_lag",
                "ingester",
                f"ingester lag {inp.lag_s:.0f} s (median, last 5 min)",
                inp.lag_s,
            )
        )
    pct = s.alert_rejected_pct
    total = inp.rejected + inp.accepted
    if pct > 0 and total >= 20 and 100 * inp.rejected / total > pct:
        share = 100 * inp.rejected / total
        single.append(
            (
                "rejected_rate",
                "ingester",
                f"{share:.1f} % of messages rejected (last 10 min)",
                share,
            )
        )
    if single:
        parts.append(pd.DataFrame(
            [(r, sub, "critical" if r == "data_gap" else "warning", m, v) for r, sub, m, v in single],
            columns=ALERT_COLUMNS,
        ))  # fmt: skip
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["rule", "subject"])
        .reset_index(drop=True)
    )


def _working(conn: Connection, s: Settings, now: dt.datetime) -> bool:
    from zoneinfo import ZoneInfo

    from analytics.api import site_timezone

    local = now.astimezone(ZoneInfo(site_timezone(conn, s)))
    lo, hi = s.working_hours_range
    return local.weekday() in s.working_weekdays and lo <= local.time() < hi


def read_inputs(conn: Connection, s: Settings, now: dt.datetime) -> AlertInputs:
    devices = read_frame(
        conn,
        "SELECT d.device_id, d.kind, h.last_seen, h.battery_pct FROM devices d"
        " LEFT JOIN device_health h USING (device_id) WHERE d.assigned ORDER BY 1",
    )
    live = read_live(conn, now, settings=s)
    caps = read_frame(conn, "SELECT space_id, capacity FROM spaces")
    live = live.merge(caps, on="space_id")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT max(received_at),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - ts))"
            "   FILTER (WHERE received_at > %(now)s - interval '5 minutes'),"
            " count(*) FILTER (WHERE received_at > %(now)s - interval '10 minutes')"
            " FROM sensor_events WHERE received_at > %(now)s - interval '1 day'",
            {"now": now},
        )
        row = cur.fetchone()
        assert row is not None  # an aggregate gives one row
        last, lag, accepted = row
        cur.execute(
            "SELECT count(*) FROM rejected_messages WHERE received_at > %s - interval '10 minutes'",
            (now,),
        )
        row = cur.fetchone()
        assert row is not None  # an aggregate gives one row
        rejected = int(row[0])
    conn.rollback()
    return AlertInputs(devices, live, last, None if lag is None else float(lag),
                       rejected, int(accepted), _working(conn, s, now))  # fmt: skip


def _alert(row: Any) -> Alert:
    return Alert(*row)


def sync_alerts(
    conn: Connection, now_firing: pd.DataFrame
) -> tuple[list[Alert], list[Alert]]:
    """Record the firing alerts: (newly raised, newly resolved). An alert open
    in the table and still firing changes nothing (raised once); one no
    longer firing gets resolved_at (resolved once). Caller commits."""
    raised, resolved = [], []
    firing_keys = set(zip(now_firing["rule"], now_firing["subject"], strict=True))
    rows: list[Any] = list(now_firing.itertuples(index=False))
    with conn.cursor() as cur:
        for r in rows:
            cur.execute(
                "INSERT INTO alerts (rule, subject, severity, message, value)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (rule, subject)"
                " WHERE resolved_at IS NULL DO NOTHING RETURNING alert_id, rule,"
                " subject, severity, message, value, raised_at, resolved_at",
                (
                    r.rule,
                    r.subject,
                    r.severity,
                    r.message,
                    None if pd.isna(r.value) else float(r.value),
                ),
            )
            row = cur.fetchone()
            if row:
                raised.append(_alert(row))
        cur.execute(
            "SELECT alert_id, rule, subject, severity, message, value, raised_at,"
            " resolved_at FROM alerts WHERE resolved_at IS NULL"
        )
        for row in cur.fetchall():
            if (row[1], row[2]) not in firing_keys:
                cur.execute(
                    "UPDATE alerts SET resolved_at = now() WHERE alert_id = %s RETURNING"
                    " alert_id, rule, subject, severity, message, value, raised_at,"
                    " resolved_at",
                    (row[0],),
                )
                resolved.append(_alert(cur.fetchone()))
    return raised, resolved
