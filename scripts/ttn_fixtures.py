#!/usr/bin/env python3
"""Turn The Things Stack device-repository codec examples into test fixtures.

The device repository (github TheThingsNetwork/lorawan-devices) keeps, beside
each vendor's payload formatter, a ``*-codec.yaml`` whose
``uplinkDecoder.examples`` hold input bytes and the formatter's decoded
output. This script reads the codec files of the occupancy, presence, motion,
desk-use and people-counting devices, saved under ``SRC`` (default
``/tmp/ttn_codecs``, laid out as in the repository, with ``sources.tsv``:
``path<TAB>commit`` per file read), and writes one small JSON fixture per
device under ``tests/ingest/fixtures/vendor/<vendor>/<model>.json``: each
example with its source path and commit, and the meaning it must decode to.

The meaning of each example (``MEANINGS``) is written by hand from the
example's description and decoded output, never from our decoder.

    python scripts/ttn_fixtures.py [SRC]
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

REPO = "TheThingsNetwork/lorawan-devices"
OUT = Path(__file__).resolve().parents[1] / "tests" / "ingest" / "fixtures" / "vendor"
P, C, M, B = "presence", "count", "motion", "battery"
LINES = {"events": [], "note": "line-crossing"}

#: (codec path, example index) -> expected meaning: ``{"events": [[kind,
#: value], ...]}``, optionally a ``note`` the result must contain, or
#: ``{"refused": reason}``.
MEANINGS: dict[tuple[str, int], dict[str, Any]] = {
    # Milesight VS121 AI workplace sensor: 3 people over 3 regions (1, 1, 0).
    ("vendor/milesight-iot/vs121-codec.yaml", 0): {"events": [[C, 3.0]]},
    # Milesight WS202 PIR: a trigger; then a light-only report.
    ("vendor/milesight-iot/ws202-codec.yaml", 0): {"events": [[M, 1.0]]},
    ("vendor/milesight-iot/ws202-codec.yaml", 1): {"events": [], "note": "no occ"},
    # Milesight line-crossing counters VS133/VS135/VS350: crossings, no head count.
    ("vendor/milesight-iot/vs133-codec.yaml", 0): LINES,
    ("vendor/milesight-iot/vs135-codec.yaml", 0): LINES,
    ("vendor/milesight-iot/vs350-codec.yaml", 0): LINES,
    # Milesight desk (VS340/VS341), motion (WS203), bathroom (VS330) occupancy.
    ("vendor/milesight-iot/vs340-codec.yaml", 0): {"events": [[P, 1.0], [B, 100.0]]},
    ("vendor/milesight-iot/vs341-codec.yaml", 0): {"events": [[P, 1.0], [B, 100.0]]},
    ("vendor/milesight-iot/ws203-codec.yaml", 0): {"events": [[P, 0.0], [B, 100.0]]},
    ("vendor/milesight-iot/vs330-codec.yaml", 0): {"events": [[P, 1.0], [B, 98.0]]},
    # Elsys ERS Eye: 6 PIR triggers, occupancy 1 = "pending" (neither state).
    ("vendor/elsys/ers-eye-codec.yaml", 0): {"events": [[P, None], [M, 1.0]]},
    # Elsys EMS Desk: occupancy 2 = occupied.
    ("vendor/elsys/ems-desk-codec.yaml", 0): {"events": [[P, 1.0]]},
    # Browan TBMS100: status 1 = occupied (battery in volts, count = motion total).
    ("vendor/browan/tbms100-codec.yaml", 0): {"events": [[P, 1.0]]},
    ("vendor/browan/tbms100-codec.yaml", 1): {"refused": "decoder_error"},
    # IMBUILDINGS people counter: in/out crossings (0 this period): no head count.
    ("vendor/imbuildings/imbuildings-codec.yaml", 0): LINES,
    # Netvox RB11E: version report, status (Occupy 1), four command responses.
    ("vendor/netvox/rb11e-codec.yaml", 0): {"refused": "device_info_uplink"},
    ("vendor/netvox/rb11e-codec.yaml", 1): {"events": [[P, 1.0]]},
    ("vendor/netvox/rb11e-codec.yaml", 2): {"refused": "configuration_uplink"},
    ("vendor/netvox/rb11e-codec.yaml", 3): {"refused": "configuration_uplink"},
    ("vendor/netvox/rb11e-codec.yaml", 4): {"refused": "configuration_uplink"},
    ("vendor/netvox/rb11e-codec.yaml", 5): {"refused": "configuration_uplink"},
    # Sensative Strips: battery 80 %, no presence in this variant's example.
    ("vendor/sensative/strips-codec.yaml", 0): {"events": [[B, 80.0]]},
    # MClimate PIR Mini / HT PIR Lite: occupied true/false (+ keepalive replies).
    ("vendor/mclimate/pir-mini-codec.yaml", 0): {"events": [[P, 1.0]]},
    ("vendor/mclimate/pir-mini-codec.yaml", 1): {"events": [[P, 1.0]]},
    ("vendor/mclimate/pir-mini-codec.yaml", 2): {"events": [[P, 1.0]]},
    ("vendor/mclimate/ht-pir-lite-codec.yaml", 0): {"events": [[P, 0.0]]},
    ("vendor/mclimate/ht-pir-lite-codec.yaml", 1): {"events": [[P, 0.0]]},
    ("vendor/mclimate/co2-pir-lite-codec.yaml", 0): {"events": [[P, 1.0]]},
    ("vendor/mclimate/co2-pir-lite-codec.yaml", 1): {"events": [[P, 0.0]]},
    # Elsys ERS CO2 / Sound / VOC: 6 PIR triggers since the last uplink.
    ("vendor/elsys/ers-co2-codec.yaml", 0): {"events": [[M, 1.0]]},
    ("vendor/elsys/ers-sound-codec.yaml", 0): {"events": [[M, 1.0]]},
    ("vendor/elsys/ers-voc-codec.yaml", 0): {"events": [[M, 1.0]]},
    # Milesight VS370 radar presence; VS373 regions 2 and 4 occupied (its
    # detection_status is the bed/fall state); VS321 300 people, regions 1-2
    # (the enabled ones) occupied.
    ("vendor/milesight-iot/vs370-codec.yaml", 0): {"events": [[P, 1.0], [B, 100.0]]},
    ("vendor/milesight-iot/vs373-codec.yaml", 0): {"events": [[P, 1.0]]},
    ("vendor/milesight-iot/vs321-codec.yaml", 0): {
        "events": [[P, 1.0], [C, 300.0], [B, 100.0]]
    },
    # Adeunis Motion: presence detected when sending (history in % per period).
    ("vendor/adeunis/motion-codec.yaml", 0): {"events": [[P, 1.0]]},
}


def _examples(codec: dict[str, Any]) -> list[dict[str, Any]]:
    up = codec.get("uplinkDecoder") if isinstance(codec, dict) else None
    examples = up.get("examples") if isinstance(up, dict) else None
    return examples if isinstance(examples, list) else []


def build(src: Path) -> dict[str, Any]:
    """Write the fixtures; returns the index (every codec file read)."""
    index: dict[str, Any] = {"repository": REPO, "codecs": []}
    for line in (src / "sources.tsv").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        path, commit = line.split("\t")
        codec = yaml.safe_load((src / path).read_text("utf-8")) or {}
        vendor, name = path.split("/")[1], Path(path).name.removesuffix("-codec.yaml")
        fixtures = []
        for i, ex in enumerate(_examples(codec)):
            if (path, i) not in MEANINGS:
                raise SystemExit(f"{path} example {i}: no meaning written for it")
            out = ex.get("output") or {}
            fixtures.append(
                {
                    "description": ex.get("description", ""),
                    "f_port": (ex.get("input") or {}).get("fPort"),
                    "bytes": bytes((ex.get("input") or {}).get("bytes", [])).hex(),
                    "output": out,
                    "expect": MEANINGS[(path, i)],
                }
            )
        index["codecs"].append(
            {"path": path, "commit": commit, "examples": len(fixtures)}
        )
        if not fixtures:
            continue
        target = OUT / vendor / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "source": {"repository": REPO, "path": path, "commit": commit},
            "vendor": vendor,
            "model": name,
            "examples": fixtures,
        }
        target.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/ttn_codecs")
    index = build(src)
    with_examples = [c for c in index["codecs"] if c["examples"]]
    total = sum(c["examples"] for c in index["codecs"])
    print(
        f"{len(index['codecs'])} codec files read, {len(with_examples)} devices "
        f"with examples, {total} examples written to {OUT}"
    )


if __name__ == "__main__":
    main()
