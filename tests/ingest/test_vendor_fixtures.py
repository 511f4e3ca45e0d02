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
