"""Every uplink example of the vendors' own device repository (The Things
Stack, TheThingsNetwork/lorawan-devices) for occupancy, presence, motion,
desk-use and people-counting devices decodes to its meaning, or is refused
with the reason the meaning names. Fixtures: scripts/ttn_fixtures.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ingest.context import DecodeContext
from ingest.decoders.common import Decoded
from ingest.registry import decode_message

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vendor"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _cases() -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        doc = json.loads(path.read_text("utf-8"))
        for i, ex in enumerate(doc["examples"]):
            out.append((f"{doc['vendor']}/{doc['model']}", i, doc, ex))
    return out


CASES = _cases()


def envelope(doc: dict[str, Any], ex: dict[str, Any], device: str) -> bytes:
    """A TTS v3 uplink as the MQTT integration publishes it."""
    out = ex["output"]
    decoded = out["data"] if "data" in out else {"errors": out.get("errors", [])}
    up = {
        "end_device_ids": {
            "device_id": device,
            "application_ids": {"application_id": "offices"},
            "dev_eui": "0004A30B001C0530",
        },
        "received_at": "2026-03-02T07:59:59.123456789Z",
        "uplink_message": {
            "f_port": ex["f_port"],
            "f_cnt": 42,
            "frm_payload": base64.b64encode(bytes.fromhex(ex["bytes"])).decode(),
            "decoded_payload": decoded,
            "version_ids": {"brand_id": doc["vendor"], "model_id": doc["model"]},
            "received_at": "2026-03-02T07:59:59.100Z",
        },
    }
    return json.dumps(up).encode()


def _right(doc: dict[str, Any], ex: dict[str, Any]) -> tuple[bool, str]:
    device = f"{doc['model']}-lobby"
    topic = f"v3/offices@acme/devices/{device}/up"
    r = decode_message(topic, envelope(doc, ex, device), NOW, DecodeContext())
    want = ex["expect"]
    if "refused" in want:
        got = r.rejection.reason if r.rejection else None
        return got == want["refused"], f"refused {got!r} (detail {r.rejection})"
    if r.rejection is not None:
        return False, f"refused: {r.rejection}"
    got = sorted((str(e.kind), e.value) for e in r.events)
    expected = sorted((k, v) for k, v in want["events"])
    if got != expected:
        return False, f"events {got} != {expected}"
    if "note" in want and want["note"] not in r.note:
        return False, f"note {r.note!r} lacks {want['note']!r}"
    return True, ""


@pytest.mark.parametrize(
    ("device", "index", "doc", "ex"), CASES, ids=[f"{c[0]}#{c[1]}" for c in CASES]
)
def test_vendor_example_decodes_to_its_meaning(
    device: str, index: int, doc: dict[str, Any], ex: dict[str, Any]
) -> None:
    ok, why = _right(doc, ex)
    assert ok, f"{doc['source']['path']} example {index} ({ex['description']}): {why}"


def test_vendor_examples_count() -> None:
    index = json.loads((FIXTURES / "index.json").read_text("utf-8"))
    codecs = {c[0] for c in CASES}
    devices = {d for _, _, doc, _ in CASES for d in doc["devices"]}
    right = sum(_right(doc, ex)[0] for _, _, doc, ex in CASES)
    print(
        f"\nTTS device repository: {len(index['codecs'])} codec files selected, "
        f"{len(codecs)} with examples, devices covered {len(devices)}, "
        f"examples right {right}/{len(CASES)}"
    )
    assert len(CASES) == sum(c["examples"] for c in index["codecs"])
    for _, _, doc, _ in CASES:  # each fixture names its source and commit
        assert len(doc["source"]["commit"]) == 40 and doc["source"]["path"]
    assert right == len(CASES)


def tts_docs_uplink(doc: dict[str, Any], ex: dict[str, Any], device: str) -> bytes:
    """The same uplink in the full shape of the TTS docs' "Uplink message
    example" (thethingsindustries.com/docs/the-things-stack/concepts/
    data-formats/): correlation ids, rx_metadata, settings, locations,
    network_ids, session key; ``f_cnt`` omitted (protobuf JSON drops 0)."""
    up = json.loads(envelope(doc, ex, device))
    up["correlation_ids"] = ["as:up:01E0WZGT6Y7657CPFPE5WEYDSQ"]
    msg = up["uplink_message"]
    del msg["f_cnt"]
    msg["session_key_id"] = "AXA50tHUGUucuzS/bCGMNw=="
    msg["rx_metadata"] = [
        {
            "gateway_ids": {"gateway_id": "gtw1", "eui": "9C5C8E00001A05C4"},
            "time": "2026-03-02T07:59:59.087Z",
            "timestamp": 2463457000,
            "rssi": -35,
            "channel_rssi": -35,
            "snr": 5,
            "uplink_token": "ChIKEAoEZ3R3MRIInFyOAAAaBcQQ6L3Vlgk=",
            "channel_index": 2,
        }
    ]
    msg["settings"] = {
        "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}},
        "coding_rate": "4/6",
        "frequency": "868300000",
    }
    msg["consumed_airtime"] = "0.056576s"
    msg["network_ids"] = {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1"}
    msg["version_ids"].update({"hardware_version": "1.0", "band_id": "EU_863_870"})
    return json.dumps(up).encode()


def chirpstack_uplink(doc: dict[str, Any], ex: dict[str, Any], device: str) -> bytes:
    """The same codec output as ChirpStack v4 publishes it on
    ``application/<id>/device/<devEui>/event/up`` (integration.UplinkEvent
    in protobuf JSON: ``deviceInfo``, ``fCnt``, base64 ``data``, ``object``)."""
    event = {
        "deduplicationId": "3d5a8e2c-7b6f-4a53-9d55-1c1a6e0b2f11",
        "time": "2026-03-02T07:59:59.123456+00:00",
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "ChirpStack",
            "applicationId": "7f4a1c6e-29a4-4d5b-a1b8-0f0b7d6bde10",
            "applicationName": "offices",
            "deviceProfileId": "0f5d4b36-4c4f-4d7e-9ad4-3a2f6f8e9b20",
            "deviceProfileName": f"{doc['vendor']} {doc['model']}",
            "deviceName": device,
            "devEui": "0004a30b001c0530",
            "tags": {},
        },
        "devAddr": "00bcb929",
        "adr": True,
        "dr": 5,
        "fCnt": 42,
        "fPort": ex["f_port"],
        "confirmed": False,
        "data": base64.b64encode(bytes.fromhex(ex["bytes"])).decode(),
        "object": ex["output"]["data"],
        "rxInfo": [{"gatewayId": "9c5c8e00001a05c4", "rssi": -35, "snr": 5.0}],
        "txInfo": {
            "frequency": 868300000,
            "modulation": {"lora": {"bandwidth": 125000}},
        },
    }
    return json.dumps(event).encode()


def _outcome(r: Decoded) -> tuple[object, ...]:
    if r.rejection is not None:
        return ("refused", r.rejection.reason)
    return tuple(sorted((str(e.kind), e.value) for e in r.events))


@pytest.mark.parametrize(
    ("device", "index", "doc", "ex"), CASES, ids=[f"{c[0]}#{c[1]}" for c in CASES]
)
def test_published_message_shapes_decode_the_same(
    device: str, index: int, doc: dict[str, Any], ex: dict[str, Any]
) -> None:
    """The full TTS docs uplink and the ChirpStack v4 event carrying the same
    formatter output decode to what the minimal TTS envelope does."""
    name = f"{doc['model']}-lobby"
    tts = f"v3/offices@ttn/devices/{name}/up"
    base = _outcome(decode_message(tts, envelope(doc, ex, name), NOW, DecodeContext()))
    full = decode_message(tts, tts_docs_uplink(doc, ex, name), NOW, DecodeContext())
    assert _outcome(full) == base
    if "data" not in ex["output"]:
        return  # ChirpStack logs codec errors instead of publishing an uplink
    topic = "application/7f4a1c6e/device/0004a30b001c0530/event/up"
    cs = decode_message(topic, chirpstack_uplink(doc, ex, name), NOW, DecodeContext())
    assert _outcome(cs) == base
    assert cs.device_id == name
