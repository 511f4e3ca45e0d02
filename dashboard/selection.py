"""Pure helpers shared by pages: which spaces a view covers, live states."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from dashboard.filters import ViewFilters

logger = logging.getLogger(__name__)

__all__ = ["live_states", "select_spaces", "space_live_states"]


def select_spaces(
    meta: dict[str, pd.DataFrame], f: ViewFilters
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Spaces, zones and floors the filters cover (a department narrows to its
    neighbourhood zones)."""
    floors = meta["floors"]
    zones = meta["zones"]
    spaces = meta["spaces"]
    buildings = meta["buildings"]
    if f.site:
        floors = floors[
            floors["building_id"].isin(
                buildings.loc[buildings["site_id"] == f.site, "building_id"]
            )
        ]
    if f.building:
        floors = floors[floors["building_id"] == f.building]
    if f.floor:
        floors = floors[floors["floor_id"] == f.floor]
    zones = zones[zones["floor_id"].isin(floors["floor_id"])]
    if f.zone:
        zones = zones[zones["zone_id"] == f.zone]
    if f.department:
        zones = zones[zones["department_id"] == f.department]
    spaces = spaces[spaces["zone_id"].isin(zones["zone_id"])]
    return spaces, zones, floors


def live_states(live: pd.DataFrame) -> pd.DataFrame:
    """Normalise analytics' live frame (``api.read_live``) to space_id, state
    (occupied, free, unknown, private), people (a counter's count, 1 or 0 for
    an occupied or vacant presence sensor, empty when not known)."""
    out = live.copy()
    if "state" in out.columns:
        out["state"] = out["state"].replace({"vacant": "free"})
        if "people" in out.columns:
            sensed = out["state"].isin(["occupied", "free"])
            out["people"] = out["people"].where(
                out["people"].notna() | ~sensed,
                (out["state"] == "occupied").astype(float),
            )
    else:
        people = (
            out["people"] if "people" in out.columns else out["occupied"].astype(float)
        )
        out["state"] = people.fillna(-1).map(
            lambda p: "unknown" if p < 0 else ("occupied" if p > 0 else "free")
        )
    if "people" not in out.columns:
        out["people"] = (out["state"] == "occupied").astype(int)
    return out[["space_id", "state", "people"]]


def space_live_states(
    live: pd.DataFrame, devices: pd.DataFrame, now: dt.datetime, timeout_min: float
) -> pd.Series:
    """space_id -> occupied, free, unknown (no recent reading) or offline (every
    sensor of the space that was ever heard reports itself offline in device
    health). Silence alone is not offline: a room counter is silent while its
    count stays 0 (its zero holds), and a silent presence sensor is already
    unknown. ``devices``: space_id, online, last_seen (device health);
    ``now`` and ``timeout_min`` are kept for callers that judge silence."""
    del now, timeout_min
    states = live_states(live).set_index("space_id")["state"].copy()
    dev = devices[devices["space_id"].notna() & devices["online"].notna()]
    if dev.empty:
        return states
    online = dev["online"].astype(bool)
    any_online = online.groupby(dev["space_id"].astype(str)).any()
    offline = any_online.index[~any_online.to_numpy()]
    states.loc[states.index.isin(offline)] = "offline"
    missing = offline.difference(states.index)
    if len(missing):
        states = pd.concat([states, pd.Series("offline", index=missing)])
    return states
