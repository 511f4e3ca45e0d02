"""No raw badge identifier at rest: badge/BLE messages with a known MAC, valid
and refused ones, published through the real broker and ingester; then every
column of every table of the database is read as text and searched for that
MAC in any case and spelling (and its six bytes in binary columns)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg2
import pytest
from ingest_helpers import KEY, SITE, make_settings, publish, query, wait_for
from psycopg2 import sql

from ingest.scrub import Scrubber, is_badge_topic
from ingest.service import Ingester
from occupancy.pseudonym import pseudonymise

MAC = "C0:FF:EE:12:34:56"
BARE = "c0ffee123456"
RAW_BYTES = bytes.fromhex(BARE)


def test_scrubber_pseudonymises_every_spelling() -> None:
    s = Scrubber("k")
    p = pseudonymise("k", MAC)
    for spelling in (
        MAC,
        MAC.lower(),
        MAC.replace(":", "-"),
        BARE.upper(),
        "c0ff.ee12.3456",
    ):
        assert s.text(f'{{"id":"{spelling}"}}') == f'{{"id":"{p}"}}', spelling
    uuid = "1de4b189-115e-45f6-b44e-509352269977"
    assert uuid not in s.text(f"x {uuid} y")
    assert s.text("no identifiers here, 12345") == "no identifiers here, 12345"
    # longer hex runs are not MACs (a SHA-256, service data)
    assert s.text("fe" * 21) == "fe" * 21
    assert is_badge_topic("home/gw/BTtoMQTT/C0FFEE123456")
    assert is_badge_topic("espresense/devices/x/room") and is_badge_topic("r/hq/s/ble")
    assert not is_badge_topic("zigbee2mqtt/desk-1")
    binary = b"\xff\x00" + RAW_BYTES
    assert s.payload("r/hq/s/ble", binary) == (
        b"sha256:" + hashlib.sha256(binary).hexdigest().encode()
    )
    hashed = Scrubber("k", "hash").payload("r/hq/s/ble", MAC.encode())
    assert hashed.startswith(b"sha256:") and BARE.encode() not in hashed
    with pytest.raises(ValueError, match="badge_payloads_stored"):
        Scrubber("k", "raw")


def _found(value: Any) -> bool:
    """Whether ``value`` (any column) holds the MAC in any spelling."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if RAW_BYTES in value:
            return True
        value = value.decode("latin-1")
    text = str(value).lower()
    for sep in (":", "-", ".", " ", "_"):
        text = text.replace(sep, "")
    return BARE in text


def _every_table(url: str) -> dict[str, int]:
    """``schema.table -> rows holding the MAC``, over every table."""
    conn = psycopg2.connect(url)
    hits: dict[str, int] = {}
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            tables = cur.fetchall()
            for schema, table in tables:
                cur.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                )
                rows = cur.fetchall()
                hits[f"{schema}.{table}"] = sum(
                    1 for row in rows if any(_found(v) for v in row)
                )
    finally:
        conn.close()
    return hits


@pytest.mark.integration
def test_no_raw_mac_in_any_table(
    database_url: str, mqtt_server: Any, topic_root: str
) -> None:
    settings = make_settings(
        database_url,
        mqtt_server.url,
        topic_root,
        ingest_topics=[
            f"{topic_root}/#",
            "home/+/BTtoMQTT/+",
            "espresense/#",
            "tele/+/SENSOR",
        ],
    )
    ing = Ingester(settings)
    ing.start()
    wait_for(lambda: ing.stats.subscribed, 20, "SUBACK")
    own = f"{topic_root}/{SITE}/ble-f0-operations/ble"
    messages = [
        # valid: our badge kind and OpenMQTTGateway through a known scanner
        (own, json.dumps({"beacons": [{"id": MAC, "rssi": -60}]}).encode()),
        (
            f"home/ble-f0-hr/BTtoMQTT/{BARE.upper()}",
            json.dumps({"id": MAC.lower(), "rssi": -70}).encode(),
        ),
        # refused: rssi out of range, unknown gateway (MAC in the topic), a
        # format nobody decodes (ESPresense), binary, Tasmota of an unknown device
        (own, json.dumps({"beacons": [{"id": MAC, "rssi": 999}]}).encode()),
        (
            f"home/no-such-gw/BTtoMQTT/{BARE.upper()}",
            json.dumps({"id": MAC, "rssi": -70}).encode(),
        ),
        (
            f"espresense/devices/{BARE}/room1",
            json.dumps(
                {"id": BARE, "mac": MAC.replace(":", "-"), "rssi": -50}
            ).encode(),
        ),
        (own, b"\xff\xfe" + RAW_BYTES),
        (
            "tele/no-such-tasmota/SENSOR",
            json.dumps({"IBEACON": {"MAC": BARE.upper(), "RSSI": -56}}).encode(),
        ),
    ]
    try:
        publish(mqtt_server.url, messages)
        wait_for(
            lambda: (
                ing.stats.snapshot().received >= len(messages)
                and ing.stats.snapshot().in_flight == 0
            ),
            30,
            "every message committed",
        )
        snap = ing.stats.snapshot()
    finally:
        ing.stop()
    assert snap.accepted == 2 and snap.rejected == 5, snap.reasons
    pseudonym = pseudonymise(KEY, MAC)
    badges = query(database_url, "SELECT badge FROM badge_sightings")
    assert (pseudonym,) in badges  # the sightings were stored, pseudonymised
    rejected = query(
        database_url,
        "SELECT topic, convert_from(payload, 'LATIN1'), reason FROM rejected_messages "
        "WHERE topic LIKE %s OR topic LIKE 'home/%%' OR topic LIKE 'espresense/%%' "
        "OR topic LIKE 'tele/no-such%%'",
        (f"{topic_root}/%",),
    )
    assert len(rejected) == 5
    # the refused rows keep their shape with the pseudonym in place of the MAC
    assert any(pseudonym in payload for _, payload, _ in rejected)
    assert any(payload.startswith("sha256:") for _, payload, _ in rejected)
    hits = _every_table(database_url)
    assert "public.rejected_messages" in hits and "public.badge_sightings" in hits
    assert {t: n for t, n in hits.items() if n} == {}
