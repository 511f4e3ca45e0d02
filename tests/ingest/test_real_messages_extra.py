"""Real device messages collected from public sources (GitHub issue logs,
vendor documentation; not our own samples) decode to their stated meaning.

``fixtures/real_messages_extra.json``: each entry has the family, device,
topic, payload (verbatim from the source, or reconstructed from the vendor's
documentation: ``provenance``), its ``meaning`` in words, the ``source`` URL and
``expect``, written from the source's meaning: the events as ``[kind, value]``
pairs (order free, ``null`` = unknown value or a badge), optionally the
``device`` every event belongs to and the devices a message ``discovers``, or
``{"refused": reason}``. Messages are decoded in file order with the function
``occupancy decode`` uses (:func:`ingest.registry.decode_message`), so a Home
Assistant discovery config precedes the states it describes, as on a broker.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.context import DecodeContext
from ingest.decoders import homeassistant
from ingest.decoders.common import Decoded
from ingest.registry import decode_message

FIXTURE = Path(__file__).parent / "fixtures" / "real_messages_extra.json"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
#: Rate the families' decoders must reach on these messages.
MIN_RATE = 0.95


def _entries() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURE.read_text("utf-8"))
    return data


def _ctx() -> DecodeContext:
    return DecodeContext(tz=ZoneInfo("Europe/Amsterdam"), pseudonym_key="k")


def _mismatch(result: Decoded, expect: dict[str, Any]) -> str | None:
    """Why ``result`` is not what ``expect`` says, or ``None`` when it is."""
    if "refused" in expect:
        got = result.rejection.reason if result.rejection else None
        return None if got == expect["refused"] else f"refused {got}"
    if result.rejection is not None:
        return f"rejected: {result.rejection}"
    got = sorted((str(e.kind), e.value) for e in result.events)
    want = sorted((k, None if v is None else float(v)) for k, v in expect["events"])
    if got != want:
        return f"events {got} != {want}"
    device = expect.get("device")
    if device is not None and any(e.device_id != device for e in result.events):
        return f"device {[e.device_id for e in result.events]} != {device!r}"
    missing = set(expect.get("discovers", ())) - {
        d.device_id for d in result.discovered
    }
    return f"not discovered: {sorted(missing)}" if missing else None


def _decode_all() -> list[tuple[dict[str, Any], str | None]]:
    """Every entry with why it failed (``None``: decoded to its meaning)."""
    homeassistant.ENTITIES.clear()
    ctx = _ctx()
    out = []
    for entry in _entries():
        result = decode_message(entry["topic"], entry["payload"].encode(), NOW, ctx)
        out.append((entry, _mismatch(result, entry["expect"])))
    return out


def test_the_fixture_is_public_and_complete() -> None:
    entries = _entries()
    assert len(entries) >= 80
    keys = {"family", "device", "topic", "payload", "meaning", "source", "expect"}
    for e in entries:
        assert keys <= e.keys(), e["topic"]
        assert e["provenance"] in ("verbatim", "reconstructed-from-docs")
        assert e["source"].startswith("https://"), e["source"]


def test_rate_per_family() -> None:
    """Right/total per family (printed with ``-s``); at least 95 % overall and
    no message without its meaning is hidden: every failure is listed."""
    results = _decode_all()
    right: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    for entry, why in results:
        total[entry["family"]] += 1
        right[entry["family"]] += why is None
    for family in sorted(total):
        print(f"{family:16} {right[family]:3}/{total[family]}")
    print(f"{'all':16} {sum(right.values()):3}/{sum(total.values())}")
    failures = [f"{e['topic']}: {why}" for e, why in results if why]
    assert sum(right.values()) / len(results) >= MIN_RATE, failures


@pytest.mark.parametrize("index", range(len(_entries())))
def test_message_decodes_to_its_meaning(index: int) -> None:
    entry, why = _decode_all()[index]
    assert why is None, f"{entry['topic']} ({entry['meaning']}): {why}"


@pytest.mark.parametrize(
    ("template", "message", "value"),
    [
        ("{{ value_json.occupancy }}", {"occupancy": True}, True),
        ("{{ value_json.sensor.motion | lower }}", {"sensor": {"motion": "ON"}}, "ON"),
        ("{{ value_json['zones'][1] }}", {"zones": [0, 1]}, 1),
        ("{%if value_json.event=='L'%}ON{%else%}OFF{%endif%}", {"event": "L"}, "ON"),
        ("{%if value_json.event=='L'%}ON{%else%}OFF{%endif%}", {"event": "S"}, "OFF"),
        (
            "{% if value_json.motion == true %}ON{% else %}OFF{% endif %}",
            {"motion": 1},
            "ON",
        ),
        (
            "{% if value_json.motion == true %}ON{% else %}OFF{% endif %}",
            {"motion": "true"},
            "OFF",
        ),
        ("{% if value_json.n != 0 %}on{% else %}off{% endif %}", {"n": 2}, "on"),
        ("{{ 'ON' if value_json.presence else 'OFF' }}", {"presence": 0}, "OFF"),
    ],
)
def test_readable_templates(template: str, message: object, value: object) -> None:
    """The template shapes read without a template engine give Jinja's value
    (Python comparisons: ``1 == true``, but the string ``"true"`` is not ``true``)."""
    from ingest.decoders import ha_templates

    parsed = ha_templates.parse(template)
    assert parsed is not None
    assert ha_templates.evaluate(parsed, message) == value


def test_other_templates_are_not_read() -> None:
    from ingest.decoders import ha_templates

    assert ha_templates.parse("{{ value_json.a.valid and value_json.a.value }}") is None
    assert ha_templates.parse("{{ (value_json.level * 100) | round(1) }}") is None
    parsed = ha_templates.parse("{{ value_json.a.b }}")
    assert parsed is not None
    with pytest.raises(ha_templates.Missing):
        ha_templates.evaluate(parsed, {"a": {}})


def _replace_scalars(value: object, new: object) -> object:
    if isinstance(value, dict):
        return {k: _replace_scalars(v, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_scalars(v, new) for v in value]
    return new


def _variants(payload: str) -> list[bytes]:
    """The message broken the ways devices and bridges break messages."""
    raw = payload.encode()
    out = [raw[: len(raw) // 2], b"\xff\xfe", b"", b"null", b"[]", b"{}"]
    try:
        obj = json.loads(payload)
    except ValueError:
        return out
    for new in (None, "", [], {}, -1, 1e308, "ON", True):
        out.append(json.dumps(_replace_scalars(obj, new)).encode())
    if isinstance(obj, dict):  # one key at a time, nested objects included
        for key, value in obj.items():
            for new in (None, [], {}, "x", [value], {"x": value}):
                out.append(json.dumps({**obj, key: new}).encode())
    return out


def test_broken_variants_never_crash_a_decoder() -> None:
    """Every entry, truncated, not UTF-8, empty, and with all its values
    replaced (null, "", [], {}, -1, 1e308, "ON", true), or one key at a time
    (null, [], {}, "x", wrapped in a list or an object), is decoded or refused
    with a reason: never an internal error."""
    homeassistant.ENTITIES.clear()
    ctx = _ctx()
    crashed = []
    for entry in _entries():
        for payload in _variants(entry["payload"]):
            result = decode_message(entry["topic"], payload, NOW, ctx)
            if (
                result.rejection is not None
                and result.rejection.reason == "internal_error"
            ):
                crashed.append(f"{entry['topic']} {payload[:60]!r}: {result.rejection}")
    assert not crashed, crashed
