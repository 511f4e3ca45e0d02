"""The Devices page lists unplaced devices with family, kinds and last payload
(devices, issue 12); BLE payloads show as withheld."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.integration
T = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Any]:
    from dashboard.app import create_app
    from occupancy.settings import load_settings

    app = create_app(load_settings({"database_url": database_url}))
    yield app
    app.server.extensions["occupancy_dashboard"].close()


def test_unassigned_devices_join_what_was_heard(app: Any) -> None:
    from dashboard.app import page_module

    devices = pd.DataFrame(
        {
            "device_id": ["desk-1", "Motion 7"],
            "kind": ["desk_sensor", "unknown"],
            "family": ["occupancy", "zigbee2mqtt"],
            "assigned": [True, False],
            "last_seen": [T, T],
            "battery_pct": [90.0, None],
        }
    )
    observed = pd.DataFrame(
        {
            "device_id": ["Motion 7", "omg-1", "desk-1"],
            "family": ["zigbee2mqtt", "openmqttgateway", "occupancy"],
            "kinds": [["presence"], ["badge"], ["presence"]],
            "last_topic": ["zigbee2mqtt/Motion 7", "home/omg-1/BTtoMQTT/X", "t"],
            "last_payload": ['{"occupancy":true}', None, "{}"],
            "last_heard": [T, T - dt.timedelta(hours=1), T],
            "messages": [3, 1, 1],
        }
    )
    out = page_module("devices").unassigned_devices(devices, observed, "withheld")
    assert list(out["device_id"]) == ["Motion 7", "omg-1"]  # desk-1 is placed
    assert list(out["family"]) == ["zigbee2mqtt", "openmqttgateway"]
    assert list(out["kinds"]) == ["presence", "badge"]
    assert list(out["last_payload"]) == ['{"occupancy":true}', "withheld"]
    assert list(out["last_seen"]) == [T, T - dt.timedelta(hours=1)]


def test_devices_page_shows_observed_devices(app: Any, db_conn: Any) -> None:
    from dashboard.app import page_module

    with db_conn, db_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO device_observations (device_id, family, kinds, last_topic, "
            "last_payload, last_heard, messages) VALUES "
            "('Meeting Room 2 Motion', 'zigbee2mqtt', '{presence,battery}', "
            "'zigbee2mqtt/Meeting Room 2 Motion', '{\"occupancy\":true}', now(), 4), "
            "('omg-9', 'openmqttgateway', '{badge}', 'home/omg-9/BTtoMQTT/X', NULL, "
            "now(), 1) ON CONFLICT DO NOTHING"
        )
    today = dt.date.today()
    search = f"?site=hq&from={today.isoformat()}&to={today.isoformat()}"
    with app.server.test_request_context("/"):
        _, _, _, unassigned = page_module("devices").update_devices(search)
    text = str(unassigned)
    assert "Meeting Room 2 Motion" in text and '{"occupancy":true}' in text
    assert "presence, battery" in text
    assert "omg-9" in text and "(BLE: withheld, personal data)" in text
