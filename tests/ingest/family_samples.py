"""Messages in each family's documented conventions, with their meaning
(written from the vendors' documentation, not from decoder output).

``(topic, payload, expected)``: expected is a set of ``(kind, value)`` (empty:
nothing to store) or ``("refused", reason)``. Used by test_families.py and the
property tests (mutations of these must never raise)."""

from __future__ import annotations

import json
from typing import Any

from occupancy.events import Kind

P, M, B, A, C = Kind.PRESENCE, Kind.MOTION, Kind.BATTERY, Kind.AVAILABILITY, Kind.COUNT
BADGE = Kind.BADGE


def _j(obj: Any) -> bytes:
    return json.dumps(obj).encode()


HA_CONFIG = _j(
    {
        "name": "Meeting room 3 motion",
        "device_class": "occupancy",
        "state_topic": "office/mr3/pir",
        "payload_on": "1",
        "payload_off": "0",
        "unique_id": "mr3-pir",
    }
)
HA_CONFIG_JSON = _j(
    {
        "~": "office/desk 4",
        "dev_cla": "occupancy",
        "stat_t": "~/state",
        "val_tpl": "{{ value_json.occupied }}",
        "pl_on": True,
        "pl_off": False,
        "avty_t": "~/lwt",
    }
)

SAMPLES: list[tuple[str, bytes, Any]] = [
    # zigbee2mqtt exposes (zigbee-herdsman-converters)
    (
        "zigbee2mqtt/Meeting Room 2 Motion",
        _j({"occupancy": True, "battery": 91}),
        {(P, 1.0), (B, 91.0)},
    ),
    (
        "zigbee2mqtt/floor 1/desk 12",
        _j({"presence": False, "target_distance": 0}),
        {(P, 0.0)},
    ),
    (
        "zigbee2mqtt/Shelly presence",
        _j({"occupancy_1": False, "occupancy_2": True}),
        {(P, 1.0)},
    ),
    (
        "zigbee2mqtt/Tuya radar",
        _j({"presence_state": "none", "target_distance": 0}),
        {(P, 0.0)},
    ),
    ("zigbee2mqtt/Tuya radar 2", _j({"presence_state": "presence"}), {(P, 1.0)}),
    (
        "zigbee2mqtt/Tuya radar 3",
        _j({"motion_state": "static", "illuminance": 30}),
        {(P, 1.0)},
    ),
    ("zigbee2mqtt/FP1", _j({"presence_event": "leave"}), {(P, 0.0)}),
    ("zigbee2mqtt/FP1", _j({"presence_event": "enter"}), {(P, 1.0)}),
    ("zigbee2mqtt/radar", _j({"target_distance": 1.8}), {(P, 1.0)}),
    ("zigbee2mqtt/counter", _j({"people": 4, "occupancy": True}), {(P, 1.0), (C, 4.0)}),
    ("zigbee2mqtt/HK-SENSOR", _j({"human_motion_state": "none"}), {(P, 0.0)}),
    ("zigbee2mqtt/Motion 7/availability", b"offline", {(A, 0.0)}),
    ("zigbee2mqtt/Motion 7/availability", _j({"state": "online"}), {(A, 1.0)}),
    (
        "zigbee2mqtt/bridge/devices",
        _j(
            [
                {
                    "friendly_name": "Desk 1",
                    "type": "EndDevice",
                    "definition": {
                        "exposes": [{"property": "occupancy"}, {"property": "battery"}]
                    },
                }
            ]
        ),
        set(),
    ),
    # ESPresense and mqtt_room
    (
        "espresense/devices/irk:7a8b9c/kantine",
        _j(
            {
                "id": "irk:7a8b9c",
                "name": "Phone",
                "rssi@1m": -65,
                "rssi": -71,
                "distance": 1.9,
            }
        ),
        {(BADGE, None)},
    ),
    (
        "espresense/rooms/kantine",
        _j({"id": "apple:1005:9-26", "distance": 4.2, "rssi": -80}),
        {(BADGE, None)},
    ),
    ("espresense/rooms/kantine/status", b"online", {(A, 1.0)}),
    ("espresense/rooms/kantine/motion", b"ON", {(P, 1.0)}),
    (
        "espresense/rooms/kantine/telemetry",
        _j({"ip": "10.0.0.5", "uptime": 300, "adverts": 12}),
        set(),
    ),
    ("espresense/rooms/kantine/max_distance/set", b"5", set()),
    (
        "home_presence/lobby",
        _j(
            {
                "id": "1de4b189115e45f6b44e509352269977",
                "name": "badge",
                "distance": 3.1,
                "rssi": -70,
            }
        ),
        {(BADGE, None)},
    ),
    (
        "room_presence/kitchen",
        _j({"id": "123testid", "name": "Test Device", "distance": 5.678}),
        {(BADGE, None)},
    ),
    # Home Assistant discovery announces; its state topics decode afterwards
    ("homeassistant/binary_sensor/mr3/occupancy/config", HA_CONFIG, set()),
    ("homeassistant/binary_sensor/desk4/occupancy/config", HA_CONFIG_JSON, set()),
    # Tasmota
    ("stat/tasmota_pir/RESULT", _j({"Switch1": {"Action": "ON"}}), {(P, 1.0)}),
    ("stat/tasmota_pir/RESULT", _j({"Switch2": {"Action": "OFF"}}), {(P, 0.0)}),
    ("stat/tasmota_btn/RESULT", _j({"Button1": {"Action": "SINGLE"}}), {(M, 1.0)}),
    (
        "tele/tasmota_sw/SENSOR",
        _j({"Time": "2026-03-02T09:00:00", "Switch1": "OFF"}),
        {(P, 0.0)},
    ),
    (
        "tele/zbbridge/SENSOR",
        _j(
            {
                "ZbReceived": {
                    "0x8F20": {
                        "Device": "0x8F20",
                        "Name": "Desk 9 PIR",
                        "Occupancy": 1,
                        "Endpoint": 1,
                        "LinkQuality": 65,
                    }
                }
            }
        ),
        {(P, 1.0)},
    ),
    ("cmnd/tasmota_pir/POWER", b"ON", set()),
    # Shelly Gen2/3
    (
        "shellyplusi4-a8032ab1/events/rpc",
        _j(
            {
                "src": "shellyplusi4-a8032ab1",
                "dst": "shellyplusi4-a8032ab1/events",
                "method": "NotifyEvent",
                "params": {
                    "ts": 1772441000.5,
                    "events": [
                        {
                            "component": "input:0",
                            "id": 0,
                            "event": "single_push",
                            "ts": 1772441000.5,
                        }
                    ],
                },
            }
        ),
        {(M, 1.0)},
    ),
    ("shellyplus1-a8032ab2/status/input:0", _j({"id": 0, "state": False}), {(P, 0.0)}),
    ("shellyplus1-a8032ab2/online", b"true", {(A, 1.0)}),
    # Pressac behind Azure IoT Hub / Node-RED
    (
        "devices/SIPG-12-003/messages/events/",
        _j(
            {
                "d2cMessage": {
                    "timestamp": "2026-03-02 09:59:12",
                    "deviceName": "SIP-12-004M",
                    "deviceId": "058A927B",
                    "deviceType": "Occupancy-PIR",
                    "gatewayName": "SIPG-12-003",
                    "motionDetected": True,
                    "supplyVoltage": {"value": 3.36, "unit": "V"},
                }
            }
        ),
        {(P, 1.0)},
    ),
    (
        "devices/SIPG-12-003/messages/events/$.ct=application%2Fjson&$.ce=utf-8",
        _j(
            {
                "deviceId": "050B1EE8",
                "deviceType": "Under-Desk-Sensor",
                "motionDetected": "false",
            }
        ),
        {(P, 0.0)},
    ),
    # The Things Stack and ChirpStack
    (
        "v3/offices@acme/devices/ms-vs121-lobby/up",
        _j(
            {
                "end_device_ids": {"device_id": "ms-vs121-lobby"},
                "uplink_message": {
                    "f_cnt": 7,
                    "decoded_payload": {
                        "people_count_all": 5,
                        "region_count": 2,
                        "region_1_count": 3,
                        "region_2_count": 2,
                    },
                },
            }
        ),
        {(C, 5.0)},
    ),
    (
        "v3/offices@acme/devices/netvox rb11e 2/up",
        _j(
            {
                "end_device_ids": {"device_id": "netvox rb11e 2"},
                "uplink_message": {
                    "f_cnt": 3,
                    "decoded_payload": {"Device": "RB11E", "Volt": 3.6, "Occupy": 0},
                },
            }
        ),
        {(P, 0.0)},
    ),
    (
        "v3/offices@acme/devices/rb11e-3/up",
        _j(
            {
                "uplink_message": {
                    "decoded_payload": {
                        "Cmd": "ConfigReportRsp",
                        "Device": "RB11E",
                        "Status": "Success",
                    }
                }
            }
        ),
        ("refused", "configuration_uplink"),
    ),
    (
        "application/1/device/24e124136c012349/event/up",
        _j(
            {
                "deviceInfo": {
                    "deviceName": "Desk 5-031",
                    "devEui": "24e124136c012349",
                },
                "fCnt": 12,
                "object": {"battery": 100, "occupancy": "occupied"},
            }
        ),
        {(P, 1.0), (B, 100.0)},
    ),
    (
        "application/1/device/24e124136c012349/event/status",
        _j({"deviceInfo": {"deviceName": "Desk 5-031"}, "batteryLevel": 87.5}),
        {(B, 87.5)},
    ),
    (
        "application/1/device/24e124136c012349/event/join",
        _j({"deviceInfo": {"deviceName": "Desk 5-031"}}),
        set(),
    ),
    (
        "offices/devices/ers-desk-1/up",
        _j(
            {
                "app_id": "offices",
                "dev_id": "ers-desk-1",
                "counter": 5,
                "payload_fields": {"occupancy": 2},
                "metadata": {"time": "2026-03-02T08:59:58Z"},
            }
        ),
        {(P, 1.0)},
    ),
    # ESPHome with a topic prefix containing "/", and non-occupancy entities
    ("office/esp 12/binary_sensor/mmwave_presence/state", b"OFF", {(P, 0.0)}),
    ("office/esp 12/status", b"offline", {(A, 0.0)}),
    ("office/esp 12/switch/relay/state", b"ON", set()),
    ("office/esp 12/sensor/moving_distance/state", b"120", set()),
    # Home Assistant MQTT Statestream
    ("homeassistant/binary_sensor/office_motion/state", b"on", {(P, 1.0)}),
    ("homeassistant/sensor/office_temperature/state", b"21.5", set()),
    # OpenMQTTGateway-decoded BLE motion sensor (a device, not a person)
    (
        "home/OMG_lobby/BTtoMQTT/582D34123456",
        _j(
            {
                "id": "58:2D:34:12:34:56",
                "model_id": "CGPR1",
                "pres": True,
                "lux": 120,
                "batt": 78,
            }
        ),
        {(P, 1.0), (B, 78.0)},
    ),
    # Shelly Gen1 plain topics
    ("shellies/shellymotion2-8CF681/sensor/motion", b"true", {(P, 1.0)}),
    (
        "shellies/shellyi3-AABBCC/input_event/0",
        _j({"event": "S", "event_cnt": 4}),
        {(M, 1.0)},
    ),
    ("shellies/shellymotion2-8CF681/online", b"false", {(A, 0.0)}),
    ("shellies/announce", _j({"id": "shellymotion2-8CF681"}), set()),
    # base topic variants, Tasmota SwitchText and FullTopic order, generic states
    (
        "z2m/Sonoff Presence Sensor",
        _j({"occupancy": False, "illuminance": "dim"}),
        {(P, 0.0)},
    ),
    ("zigbee2mqtt_floor2/Desk 4", _j({"occupancy": True}), {(P, 1.0)}),
    (
        "tele/tasmota_pir/SENSOR",
        _j({"Time": "2026-03-02T09:00:00", "PIR1": "ON"}),
        {(P, 1.0)},
    ),
    ("tasmota_pir/stat/RESULT", _j({"Switch1": {"Action": "OFF"}}), {(P, 0.0)}),
    ("office/mr3/motion", b"ON", {(P, 1.0)}),
    ("building/2/desk-14/occupancy", b"false", {(P, 0.0)}),
    ("office/mr3/motion", _j({"lux": 3}), ("refused", "unknown_topic")),
    (
        "home/OMG_lobby/BTtoMQTT",
        _j({"id": "AA:BB:CC:00:11:22", "rssi": -70}),
        {(BADGE, None)},
    ),
    ("homeassistant/binary_sensor/office/pir_2/state", b"off", {(P, 0.0)}),
    # Elsys without version_ids: occupancy 1 is "pending", not occupied
    (
        "v3/offices@acme/devices/ers-eye-3/up",
        _j(
            {
                "uplink_message": {
                    "decoded_payload": {
                        "temperature": 22.6,
                        "light": 39,
                        "motion": 0,
                        "occupancy": 1,
                        "vdd": 3600,
                    }
                }
            }
        ),
        {(P, None)},
    ),
    ("node1/sensor/room_occupancy/state", b"1", {(P, 1.0)}),
    ("node1/binary_sensor/pir/state", b"off", {(P, 0.0)}),
    ("node1/sensor/target_distance/state", b"120", set()),
]
