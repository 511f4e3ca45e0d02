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

from ingest.fastclient import FastClient, StockClient


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


def _stock_receiver(
    host: str, port: int, cid: str, topic: str
) -> tuple[StockClient, list[tuple[str, bytes, int, int, bool]]]:
    got: list[tuple[str, bytes, int, int, bool]] = []
    subscribed = threading.Event()
    gone = threading.Event()
    c = StockClient(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=True,
    )
    c.on_message = lambda cl, u, m: got.append(
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
    return c, got


def _one_stream(c: FastClient) -> list[tuple[str, bytes, int, int, bool]]:
    """Sink and paho's path of ``c`` into one list, in arrival order."""
    rows: list[tuple[str, bytes, int, int, bool]] = []
    c.sink = lambda t, p, mid, qos, dup: rows.append((t.decode(), p, mid, qos, dup))
    c.on_message = lambda cl, u, m: rows.append(
        (m.topic, bytes(m.payload), m.mid, m.qos, bool(m.dup))
    )
    return rows


def test_fast_path_and_stock_paho_agree(mqtt_server: Any, topic_prefix: str) -> None:
    """The same inputs (QoS 0/1/2, with and without properties, empty and
    binary payloads, a burst of 300) to the fast-path client and to stock paho
    side by side: the same messages in the same order with the same QoS and
    DUP flags; after both acknowledge the same ones (every other QoS 1, with
    ack_many) and reconnect, the same ones redelivered, with DUP."""
    host, port = mqtt_server.host, mqtt_server.port
    topic = f"{topic_prefix}/diff/#"
    fcid, scid = f"fast-{uuid.uuid4().hex[:8]}", f"stock-{uuid.uuid4().hex[:8]}"
    frx, _f, _s = _receiver(host, port, fcid, topic)
    fast = _one_stream(frx)
    srx, stock = _stock_receiver(host, port, scid, topic)
    pub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    pub.max_inflight_messages_set(500)
    pub.connect(host, port)
    pub.loop_start()
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.UserProperty = ("k", "v")
    sent = [
        (f"{topic_prefix}/diff/{i % 7}", f"m{i}:".encode() + b"x" * (i % 5), i % 3)
        for i in range(300)
    ]
    extra = [
        (f"{topic_prefix}/diff/e", b"", 1),
        (f"{topic_prefix}/diff/b", b"\x00\xff", 1),
    ]

    def order(rows: list[tuple[str, bytes, int, int, bool]]) -> list[Any]:
        return [(t, p, q, d) for t, p, _m, q, d in rows]

    try:
        infos = [pub.publish(t, p, qos=q) for t, p, q in sent + extra]
        infos.append(
            pub.publish(f"{topic_prefix}/diff/p", b"props", 1, properties=props)
        )
        for info in infos:
            info.wait_for_publish(10)
        n = len(sent) + len(extra) + 1
        assert _wait(lambda: len(fast) == n == len(stock))
        assert order(fast) == order(stock)
        # everything arrived once (QoS 2 may pass others: its handshake)
        assert sorted(order(stock)) == sorted(
            [(t, p, q, False) for t, p, q in sent + extra]
            + [(f"{topic_prefix}/diff/p", b"props", 1, False)]
        )
        f1 = [r for r in fast if r[3] == 1]
        s1 = [r for r in stock if r[3] == 1]
        frx.ack_many([r[2] for r in f1][::2])
        srx.ack_many([r[2] for r in s1][::2])
        for c, rows in ((frx, fast), (srx, stock)):
            for r in rows:
                if r[3] == 2:
                    c.ack(r[2], 2)
        _close(frx)
        _close(srx)
        frx2, _f2, _s2 = _receiver(host, port, fcid, topic)
        fast2 = _one_stream(frx2)  # set after the redelivery may have started:
        srx2, stock2 = _stock_receiver(host, port, scid, topic)
        try:
            expected = [(t, p) for t, p, _m, _q, _d in s1[1::2]]
            assert _wait(lambda: len(stock2) >= len(expected))
            assert _wait(lambda: len(_f2 + _s2 + fast2) >= len(expected))
            got_fast = _f2 + _s2 + fast2
            assert [(t, p) for t, p, _m, _q, _d in stock2] == expected
            assert sorted((t, p) for t, p, _m, _q, _d in got_fast) == sorted(expected)
            assert all(r[4] for r in stock2 + got_fast)  # DUP set
        finally:
            _close(frx2)
            _close(srx2)
    finally:
        pub.disconnect()
        pub.loop_stop()
