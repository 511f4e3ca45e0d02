"""The lean PUBLISH path (ingest.fastclient) against a real Mosquitto: messages
without properties reach the sink, everything else paho's on_message, with the
same topic/payload/qos; ack_many acknowledges in one write: what it acknowledged
is not redelivered, the rest is."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.fastclient import FastClient


def _wait(cond: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def _receiver(
    host: str, port: int, cid: str, topic: str
) -> tuple[
    FastClient,
    list[tuple[str, bytes, int, int, bool]],
    list[tuple[str, bytes, int, int, bool]],
]:
    fast: list[tuple[str, bytes, int, int, bool]] = []
    slow: list[tuple[str, bytes, int, int, bool]] = []
    subscribed = threading.Event()
    gone = threading.Event()
    c = FastClient(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=True,
    )
    c.sink = lambda t, p, mid, qos, dup: fast.append((t.decode(), p, mid, qos, dup))
    c.on_message = lambda cl, u, m: slow.append(
        (m.topic, bytes(m.payload), m.mid, m.qos, bool(m.dup))
    )
    c.on_subscribe = lambda *a: subscribed.set()
    c.on_disconnect = lambda *a: gone.set()
    c.gone = gone  # type: ignore[attr-defined]
    c.on_connect = lambda cl, u, f, rc, pr: cl.subscribe(topic, qos=2)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 600
    c.connect(host, port, clean_start=False, properties=props)
    c.loop_start()
    assert subscribed.wait(10)
    return c, fast, slow


def _close(c: FastClient) -> None:
    """Disconnect cleanly: queued acknowledgements are written before DISCONNECT."""
    c.disconnect()
    assert c.gone.wait(10)  # type: ignore[attr-defined]
    c.loop_stop()


def test_fast_path_and_fallback(mqtt_server: Any, topic_prefix: str) -> None:
    host, port = mqtt_server.host, mqtt_server.port
    cid = f"fast-{uuid.uuid4().hex[:8]}"
    topic = f"{topic_prefix}/fast/#"
    rx, fast, slow = _receiver(host, port, cid, topic)
    pub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    pub.connect(host, port)
    pub.loop_start()
    with_props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    with_props.ContentType = "application/json"
    sent = [
        (f"{topic_prefix}/fast/a", b'{"x":1}', 1, None),
        (f"{topic_prefix}/fast/b", b"", 1, None),  # empty payload
        (f"{topic_prefix}/fast/c", b"\xff\x00binary", 0, None),
        (f"{topic_prefix}/fast/d", b"props", 1, with_props),
        (f"{topic_prefix}/fast/e", b"qos2", 2, None),
    ]
    for t, p, q, pr in sent:
        pub.publish(t, p, qos=q, properties=pr).wait_for_publish(10)
    assert _wait(lambda: len(fast) + len(slow) == 5)
    assert [(t, p, q) for t, p, _m, q, _d in fast] == [
        (sent[0][0], sent[0][1], 1),
        (sent[1][0], sent[1][1], 1),
        (sent[2][0], sent[2][1], 0),
    ]
    assert fast[0][2] != 0 and fast[1][2] != 0 and fast[2][2] == 0  # mids of QoS 1
    assert [(t, p, q) for t, p, _m, q, _d in slow] == [
        (sent[3][0], sent[3][1], 1),
        (sent[4][0], sent[4][1], 2),
    ]
    _close(rx)
    pub.disconnect()
    pub.loop_stop()


def test_unacknowledged_messages_are_redelivered(
    mqtt_server: Any, topic_prefix: str
) -> None:
    host, port = mqtt_server.host, mqtt_server.port
    cid = f"fast-{uuid.uuid4().hex[:8]}"
    topic = f"{topic_prefix}/redo/#"
    rx, fast, _slow = _receiver(host, port, cid, topic)
    pub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    pub.connect(host, port)
    pub.loop_start()
    try:
        for i in range(3):
            pub.publish(
                f"{topic_prefix}/redo/{i}", str(i).encode(), qos=1
            ).wait_for_publish(10)
        assert _wait(lambda: len(fast) == 3)
        rx.ack_many([fast[0][2], fast[1][2]])  # one write for two PUBACKs
        _close(rx)
        rx2, fast2, slow2 = _receiver(host, port, cid, topic)
        try:
            pub.publish(f"{topic_prefix}/redo/new", b"new", qos=1).wait_for_publish(10)
            # A redelivery comes first (in-flight messages are resent on session
            # resume before new ones), so once "new" is here the list is final.
            assert _wait(
                lambda: any(p == b"new" for _t, p, _m, _q, _d in fast2 + slow2)
            )
            assert [p for _t, p, _m, _q, _d in fast2 + slow2] == [b"2", b"new"]
            # the redelivery carries the DUP flag and its first packet id
            redo, new = (fast2 + slow2)[0], (fast2 + slow2)[1]
            assert redo[4] is True and redo[2] == fast[2][2]
            assert new[4] is False
        finally:
            _close(rx2)
    finally:
        pub.disconnect()
        pub.loop_stop()
