#!/usr/bin/env python3
"""Turn The Things Stack device-repository codec examples into test fixtures.

The device repository (github TheThingsNetwork/lorawan-devices) keeps, beside
each vendor's payload formatter, a ``*-codec.yaml`` whose
``uplinkDecoder.examples`` hold input bytes and the formatter's decoded
output, and per device a ``vendor/<v>/<model>.yaml`` (name, description,
``sensors``, the codec of each regional profile). This script reads them
straight from a git mirror (``git show <commit>:<path>``), selects every
device that reports occupancy, presence, motion, desk use or people counts by
the explicit rules below (``SELECT_*``), prints which matched and why, and
writes one JSON fixture per codec file under
``tests/ingest/fixtures/vendor/<vendor>/<codec>.json``: each example with its
source path and commit, and the meaning it must decode to.

Meanings come from the vendor's decoded output and the example's description
by rules written once (``MEANING_*`` field tables, ``REFUSE_*`` description
words); the few hand-written entries (``HUMAN``) say why a human was needed.
Nothing here imports our decoder.

The upstream repository (1.3 GB with history) is over the mirror limit here;
the default mirror is a fork whose history holds upstream's up to
``COMMIT`` (upstream's "Fludia decoders update (#789)", 2024-06-17; the fork's
own later commits are not read). Fixtures recorded earlier from newer upstream
versions of files (read one by one from a file index, their commit in the
fixture) are kept where the mirror has no examples for that codec, and their
meanings are re-derived by the same rules.

    python scripts/ttn_fixtures.py [--git-dir DIR] [--commit SHA]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = "TheThingsNetwork/lorawan-devices"
GIT_DIR = "/work/.mirror/pqstefanknol+lorawan-devices/repo"
COMMIT = "96abc53c810bd09992333d16763719e87838d411"
OUT = Path(__file__).resolve().parents[1] / "tests" / "ingest" / "fixtures" / "vendor"
P, C, M, B = "presence", "count", "motion", "battery"

# --- selection rules -------------------------------------------------------
#: A device whose definition lists one of these sensors is selected.
SELECT_SENSORS = frozenset({"occupancy", "pir"})
#: ... or whose name says it (people counters list "infrared", "pulse count").
SELECT_NAME = re.compile(
    r"occupan|presence|people|person|desk|seat|\bpir\b|motion sensor|motion ?&|"
    r"movement|workplace",
    re.I,
)
#: Selected devices that are not about people in a space (their "occupancy"
#: is a parking bay, their "motion" the device or an asset itself moving), by
#: name or description.
SELECT_EXCLUDE = re.compile(
    r"parking|car counter|vehicle|tracker|animal|waste bin|manhole|"
    r"movement of an asset|outdoor asset",
    re.I,
)
#: ... or whose codec examples' decoded output has such a field (normalized
#: key, see ``norm``): states, PIR, motion counts, head counts, lines, regions.
SELECT_FIELDS = re.compile(
    r"^(occupancy|occupied|occupy|presence\w*|roomoccupancy|deskoccupancy|pir|"
    r"pirstatus|pirtriggercount|motion|motioncount|motioneventcount|activity|"
    r"activitycounter|people\w*|pax|balancecounter|incounter|outcounter|"
    r"counter[ab]|line\d+\w*|region\d+\w*|regions|totalin|totalout|periodin|"
    r"periodout)$"
)

# --- meaning rules ----------------------------------------------------------
#: Presence states: bool, 0/1 or the words below.
MEANING_PRESENCE = (
    "presencedetectedwhensending",  # Adeunis Motion ("presence" is a history)
    "occupancy",
    "occupied",
    "occupy",
    "presence",
    "roomoccupancy",
    "deskoccupancy",
)
TRUE_WORDS = frozenset({"occupied", "on", "true", "yes", "present", "detected"})
FALSE_WORDS = frozenset({"vacant", "off", "false", "no", "free", "unoccupied"})
#: Motion: a trigger word, true, or a PIR count above 0.
MEANING_MOTION = (
    "pir",
    "pirstatus",
    "activity",  # Milesight AM107 PIR activity level / AM319 "trigger"
    "activitycounter",  # Decentlab DL-IAM PIR activity counter
    "motion",  # Elsys: PIR triggers since the last uplink
    "motioncount",
    "motioneventcount",  # Tektelic BREEZE
)
#: Head counts of the space.
MEANING_COUNT = (
    "peoplecounterall",
    "peoplecountall",
    "peopletotalcounts",
    "peoplecount",
    "pax",  # ESP32 Paxcounter: devices seen, its people estimate
    "balancecounter",  # Dingtek DC520: in minus out = people inside
)
#: Line crossings (people passing in/out): not a head count, a note.
MEANING_LINES = re.compile(
    r"(total|period)(in|out)$|^(in|out)counter$|^counter[ab]$|^line\d+"
)
#: Battery as a percentage.
MEANING_BATTERY = ("battery", "batterylevel", "batterypercent", "rembattcapacitysensor")
#: Description words of an uplink that is not a measurement.
REFUSE_CONFIG = re.compile(r"config|response|parameter|setting|\brsp\b", re.I)
REFUSE_INFO = re.compile(r"version|firmware|startup|boot", re.I)

#: Hand-written vendor semantics (why a human was needed), by vendor.
HUMAN: dict[str, dict[str, Any]] = {
    # Elsys' payload document: occupancy 0 = unoccupied, 1 = pending (motion
    # seen, not yet confirmed), 2 = occupied; its battery is "vdd" in mV.
    "elsys": {"occupancy_levels": {0: 0.0, 1: None, 2: 1.0}},
    # Browan TBMS100 manual: "status" bit 0 = occupied; its "battery" is volts.
    "browan": {"status": re.compile(r"^status$"), "volt_battery": True},
    # Netvox R718Q/R718QA "status" 1 = occupied, R311WA "Status_N" ON = seat N
    # taken, R311LA "Status" ON = object within range (Netvox user manuals);
    # "Volt" is the battery in volts. Not for "Cmd" responses' "Status".
    "netvox": {"status": re.compile(r"^status\d?$")},
    # Dingtek DC500/DC510 count people passing their beam (one direction,
    # cumulative): line crossings, not a head count of the space.
    "dingtek": {"lines": ("peoplecounter",)},
    # Tabs is Browan's brand name for the same sensors.
    "tabs": {"status": re.compile(r"^status$"), "volt_battery": True},
}


def norm(key: str) -> str:
    """``"Room_Occupancy"`` -> ``"roomoccupancy"`` (as vendors' spellings vary)."""
    return re.sub(r"[\s_\-.]", "", key.lower())


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@dataclass
class Mirror:
    git_dir: str
    commit: str
    files: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        names = git(self.git_dir, "ls-tree", "-r", "--name-only", self.commit)
        self.files = set(names.split("\n")) - {""}

    def load(self, path: str) -> Any:
        if path not in self.files:
            return None
        try:
            return yaml.safe_load(git(self.git_dir, "show", f"{self.commit}:{path}"))
        except yaml.YAMLError:
            return None


def leaves(obj: object, prefix: str = "") -> list[tuple[str, object]]:
    """``(normalized last key, value)`` of every leaf; ``{"value": x}``
    (Decentlab, Sensative) is the leaf ``x``; lists of dicts are walked."""
    out: list[tuple[str, object]] = []
    if isinstance(obj, dict):
        if "value" in obj and not isinstance(obj["value"], dict | list):
            return [(prefix, obj["value"])]
        for k, v in obj.items():
            out += leaves(v, norm(str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for x in obj:
            out += leaves(x, prefix)
    else:
        out.append((prefix, obj))
    return out


def examples(codec: object) -> list[dict[str, Any]]:
    up = codec.get("uplinkDecoder") if isinstance(codec, dict) else None
    exs = up.get("examples") if isinstance(up, dict) else None
    return [e for e in exs if isinstance(e, dict)] if isinstance(exs, list) else []


def devices(mirror: Mirror) -> list[dict[str, Any]]:
    """Every device definition listed in a vendor's ``index.yaml``."""
    out = []
    vendors = sorted({f.split("/")[1] for f in mirror.files if f.count("/") == 2})
    for v in vendors:
        index = mirror.load(f"vendor/{v}/index.yaml") or {}
        for model in index.get("endDevices") or []:
            d = mirror.load(f"vendor/{v}/{model}.yaml")
            if not isinstance(d, dict):
                continue
            codecs = {
                str(p["codec"])
                for fw in d.get("firmwareVersions") or []
                for p in (fw.get("profiles") or {}).values()
                if isinstance(p, dict) and p.get("codec")
            }
            out.append(
                {
                    "vendor": v,
                    "model": str(model),
                    "name": str(d.get("name", "")),
                    "description": str(d.get("description", "")),
                    "sensors": [str(s) for s in d.get("sensors") or []],
                    "codecs": sorted(f"vendor/{v}/{c}.yaml" for c in codecs),
                }
            )
    return out


def why_selected(dev: dict[str, Any], fields: set[str]) -> str | None:
    """The rule that selects a device, ``"excluded: ..."``, or None."""
    reasons = []
    sensors = SELECT_SENSORS & set(dev["sensors"])
    if sensors:
        reasons.append(f"sensors {sorted(sensors)}")
    name = SELECT_NAME.search(dev["name"])
    if name:
        reasons.append(f"name {name.group(0)!r}")
    hits = sorted(k for k in fields if SELECT_FIELDS.match(k))
    if hits:
        reasons.append(f"fields {hits[:4]}")
    if not reasons:
        return None
    bad = SELECT_EXCLUDE.search(f"{dev['name']} {dev['description']}")
    if bad:
        return f"excluded: {bad.group(0)!r} ({'; '.join(reasons)})"
    return "; ".join(reasons)


def _state(value: object) -> float | str:
    """A presence state, or ``"?"`` when the value is not one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if value in (0, 1) else "?"
    if isinstance(value, str):
        w = value.strip().lower()
        if w in TRUE_WORDS:
            return 1.0
        if w in FALSE_WORDS:
            return 0.0
        if w in ("0", "1"):
            return float(w)
    return "?"


def _presence(flat: dict[str, list[object]], human: dict[str, Any]) -> list[Any]:
    for key in MEANING_PRESENCE:
        for value in flat.get(key, []):
            levels = human.get("occupancy_levels")
            if levels and key == "occupancy" and value in levels:
                return [[P, levels[value]]]
            s = _state(value)
            if s != "?":
                return [[P, s]]
            if isinstance(value, int) and value > 1:
                return [[P, 1.0]]  # vendor levels above 1 (e.g. 2): occupied
    status = human.get("status")
    if status is not None and "cmd" not in flat:
        states = [_state(v) for k, vs in flat.items() if status.match(k) for v in vs]
        known = [s for s in states if s != "?"]
        if known:
            return [[P, max(known)]]  # any seat / channel occupied
    return _regions(flat)


def _regions(flat: dict[str, list[object]]) -> list[Any]:
    """Milesight per-region states: occupied when any enabled one is."""
    states = []
    for key, values in flat.items():
        m = re.match(r"^region(\d+)(occupancy)?$", key)
        if not m or not isinstance(values[0], str):
            continue
        if flat.get(f"region{m.group(1)}enable", ["enable"])[0] == "disable":
            continue
        s = _state(values[0])
        if s != "?":
            states.append(s)
    return [[P, max(states)]] if states else []


def _motion(flat: dict[str, list[object]]) -> list[Any]:
    for key in MEANING_MOTION:
        for value in flat.get(key, []):
            if isinstance(value, str) and value.lower() in ("trigger", "detected"):
                return [[M, 1.0]]
            if value is True or (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and value > 0
            ):
                return [[M, 1.0]]
    return []


def _count(flat: dict[str, list[object]]) -> list[Any]:
    for key in MEANING_COUNT:
        for value in flat.get(key, []):
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return [[C, float(value)]]
    return []


def _battery(flat: dict[str, list[object]], human: dict[str, Any]) -> list[Any]:
    if human.get("volt_battery"):
        return []
    for key in MEANING_BATTERY:
        for value in flat.get(key, []):
            if isinstance(value, int) and not isinstance(value, bool):
                if 0 <= value <= 100:
                    return [[B, float(value)]]
    return []


def meaning(vendor: str, ex: dict[str, Any]) -> dict[str, Any]:
    """What an example must decode to, from its decoded output and description."""
    out = ex.get("output") or {}
    data = out.get("data")
    if not isinstance(data, dict) or not data:
        if out.get("errors"):
            return {"refused": "decoder_error"}
        return {"events": [], "note": "no occupancy"}
    human = HUMAN.get(vendor, {})
    flat: dict[str, list[object]] = {}
    for key, value in leaves(data):
        flat.setdefault(key, []).append(value)
    events = _presence(flat, human) + _motion(flat) + _count(flat)
    lines = tuple(human.get("lines", ()))
    crossing = any(MEANING_LINES.search(k) or k in lines for k in flat)
    if not events:
        desc = str(ex.get("description", ""))
        if crossing:
            return {"events": [], "note": "line-crossing"}
        if REFUSE_CONFIG.search(desc):
            return {"refused": "configuration_uplink"}
        if REFUSE_INFO.search(desc):
            return {"refused": "device_info_uplink"}
    events += _battery(flat, human)
    if not events:
        return {"events": [], "note": "no occupancy"}
    return {"events": events}


def fixture_examples(vendor: str, exs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ex in exs:
        inp = ex.get("input") or {}
        raw = inp.get("bytes", [])
        out.append(
            {
                "description": ex.get("description", ""),
                "f_port": inp.get("fPort"),
                "bytes": bytes(raw).hex() if isinstance(raw, list) else "",
                "output": ex.get("output") or {},
                "expect": meaning(vendor, ex),
            }
        )
    return out


def select(mirror: Mirror) -> dict[str, dict[str, Any]]:
    """Selected codec files -> their devices and examples; prints the rules'
    verdict for every device that matched one."""
    chosen: dict[str, dict[str, Any]] = {}
    for dev in devices(mirror):
        exs = {c: examples(mirror.load(c)) for c in dev["codecs"]}
        fields = {
            k for e in exs.values() for x in e for k, _ in leaves(x.get("output"))
        }
        why = why_selected(dev, fields)
        if why is None:
            continue
        print(f"{dev['vendor']}/{dev['model']} ({dev['name'][:50]}): {why}")
        if why.startswith("excluded"):
            continue
        if not dev["codecs"]:
            print("    no codec: nothing to check")
        for codec, e in exs.items():
            entry = chosen.setdefault(codec, {"devices": [], "examples": e})
            entry["devices"].append(f"{dev['vendor']}/{dev['model']}")
            if not e:
                print(f"    {codec}: no uplink examples")
    return chosen


def _rel(path: str) -> str:
    """``vendor/milesight-iot/vs121-codec.yaml`` -> ``milesight-iot/vs121.json``."""
    name = Path(path).name.removesuffix(".yaml").removesuffix("-codec")
    return f"{path.split('/')[1]}/{name}.json"


def _write(path: str, commit: str, devs: list[str], exs: list[dict[str, Any]]) -> None:
    target = OUT / _rel(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "source": {"repository": REPO, "path": path, "commit": commit},
        "vendor": path.split("/")[1],
        "model": Path(_rel(path)).stem,
        "devices": devs,
        "examples": exs,
    }
    target.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def _earlier(rel: str, commit: str) -> dict[str, Any] | None:
    """A fixture written earlier from another (newer upstream) version."""
    target = OUT / rel
    if not target.exists():
        return None
    doc: dict[str, Any] = json.loads(target.read_text("utf-8"))
    if doc["source"]["commit"] == commit:
        return None
    for ex in doc["examples"]:  # its meanings re-derived by the same rules
        ex["expect"] = meaning(doc["vendor"], ex)
    return doc


def build(mirror: Mirror) -> dict[str, Any]:
    """Write the fixtures; returns the index (every selected codec file)."""
    index: dict[str, Any] = {"repository": REPO, "commit": mirror.commit, "codecs": []}
    before = {p.relative_to(OUT).as_posix() for p in OUT.glob("*/*.json")}
    sources: dict[str, tuple[str, str, list[str], list[dict[str, Any]]]] = {}
    for path, entry in sorted(select(mirror).items()):
        exs = fixture_examples(path.split("/")[1], entry["examples"])
        sources[_rel(path)] = (path, mirror.commit, entry["devices"], exs)
    for rel in sorted(before):
        old = _earlier(rel, mirror.commit)
        if old is None or (rel in sources and sources[rel][3]):
            continue  # the mirror's examples win where it has any
        devs = sources[rel][2] if rel in sources else old.get("devices") or []
        devs = devs or [f"{old['vendor']}/{old['model']}"]
        src = old["source"]
        sources[rel] = (src["path"], src["commit"], devs, old["examples"])
        print(f"{src['path']}: kept from upstream {src['commit'][:10]}")
    for rel, (path, commit, devs, exs) in sorted(sources.items()):
        if exs:
            _write(path, commit, devs, exs)
        elif rel in before:
            (OUT / rel).unlink()
        index["codecs"].append(
            {"path": path, "commit": commit, "devices": devs, "examples": len(exs)}
        )
    for rel in sorted(before - sources.keys()):
        (OUT / rel).unlink()  # a codec no longer selected
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--git-dir", default=GIT_DIR)
    ap.add_argument("--commit", default=COMMIT)
    args = ap.parse_args()
    index = build(Mirror(args.git_dir, args.commit))
    with_ex = [c for c in index["codecs"] if c["examples"]]
    devs = {d for c in with_ex for d in c["devices"]}
    total = sum(c["examples"] for c in with_ex)
    print(
        f"{len(index['codecs'])} codec files selected, {len(with_ex)} with examples "
        f"({len(devs)} devices), {total} examples written to {OUT}"
    )


if __name__ == "__main__":
    main()
