"""The ingester records what it hears from devices not placed in the building
(family, kinds, last payload) for the Devices page; BLE payloads never."""

from __future__ import annotations

import json
import random
from typing import Any

from ingest_helpers import make_settings, publish, query, wait_for

from ingest.service import Ingester


def test_unplaced_devices_are_observed_without_ble_payloads(
    database_url: str, mqtt_server: Any, topic_prefix: str
) -> None:
    gw = f"omg-{random.randrange(10**6)}"
    z2m = f"zigbee2mqtt/{topic_prefix}/Meeting Room 9 Motion"
    settings = make_settings(
        database_url,
        mqtt_server.url,
        f"{topic_prefix}/occupancy",
        ingest_topics=[
            f"zigbee2mqtt/{topic_prefix}/#",
            "zigbee2mqtt/bridge/devices",
            f"home/{gw}/#",
        ],
    )
    ing = Ingester(settings)
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    ble = json.dumps({"id": "AA:BB:CC:DD:EE:01", "rssi": -70}).encode()
    try:
        publish(
            mqtt_server.url,
            [
                (z2m, b'{"occupancy":true,"battery":80}'),
                (z2m, b'{"occupancy":false}'),
                (f"home/{gw}/BTtoMQTT/AABBCCDDEE01", ble),
            ],
        )
        assert ing.wait_idle(0.3, timeout=20)
        # the bridge's device list announces a device (and never hides the
        # message heard from the other one)
        devices = [
            {"friendly_name": f"{topic_prefix}/{name}", "type": "EndDevice",
             "definition": {"exposes": [{"property": "occupancy"}]}}
            for name in ("Meeting Room 9 Motion", "Desk 5")
        ]  # fmt: skip
        publish(
            mqtt_server.url,
            [("zigbee2mqtt/bridge/devices", json.dumps(devices).encode())],
        )
        wait_for(
            lambda: bool(
                query(
                    database_url,
                    "SELECT 1 FROM device_observations WHERE device_id = %s",
                    (f"{topic_prefix}/Desk 5",),
                )
            ),
            20,
            "the announced device",
        )
    finally:
        ing.stop()
    rows = query(
        database_url,
        "SELECT device_id, family, kinds, last_topic, last_payload, messages "
        "FROM device_observations WHERE device_id = ANY(%s) ORDER BY device_id",
        ([gw, z2m.removeprefix("zigbee2mqtt/"), f"{topic_prefix}/Desk 5"],),
    )
    # The beacon's MAC in the topic is stored only pseudonymised, as at ingest.
    ble_topic = rows[0][3]
    assert ble_topic.startswith(f"home/{gw}/BTtoMQTT/")
    assert "aabbccddee01" not in ble_topic.lower()
    assert rows == [
        (gw, "openmqttgateway", ["badge"], ble_topic, None, 1),
        (
            f"{topic_prefix}/Desk 5",
            "zigbee2mqtt",
            ["presence"],
            f"zigbee2mqtt/{topic_prefix}/Desk 5",
            "(announced by its bridge or discovery config; no message of its own yet)",
            0,
        ),
        (
            f"{topic_prefix}/Meeting Room 9 Motion",
            "zigbee2mqtt",
            ["battery", "presence"],
            z2m,
            '{"occupancy":false}',
            2,
        ),
    ]
    raw = query(
        database_url,
        "SELECT count(*) FROM device_observations WHERE last_payload LIKE %s",
        ("%AA:BB%",),
    )
    assert raw == [(0,)]
