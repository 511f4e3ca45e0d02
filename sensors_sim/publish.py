"""Publish simulated messages to an MQTT broker with paho-mqtt 2.x, QoS 1.

Two pacings: ``speed`` (simulated seconds per wall second; 1 = real time,
3600 = an hour a second) or ``backfill`` (as fast as PUBACKs come back, with a
bounded window of unacknowledged messages)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion

from occupancy.settings import MqttUrl, parse_mqtt_url

logger = logging.getLogger(__name__)

__all__ = ["PublishError", "PublishStats", "publish"]


class PublishError(RuntimeError):
    """The broker could not be reached or refused us."""


@dataclass(frozen=True)
class PublishStats:
    messages: int
    seconds: float  # wall time [s]

    @property
    def rate(self) -> float:
        """Messages per wall second [msg/s]."""
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


class _Window:
    """At most ``size`` messages awaiting PUBACK. The fast path is an integer
    comparison; the publisher waits on an event only when the window is full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0
        self.acked = 0  # incremented by paho's network thread
        self.event = threading.Event()

    @property
    def pending(self) -> int:
        return self.sent - self.acked

    def acquire(self) -> None:
        while self.sent - self.acked >= self.size:
            self.event.clear()
            if self.sent - self.acked < self.size:
                break
            self.event.wait(1.0)
        self.sent += 1

    def release(self) -> None:
        self.acked += 1
        self.event.set()

    def drain(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.sent - self.acked > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.event.clear()
            if self.sent - self.acked > 0:
                self.event.wait(min(left, 0.2))
        return True


def _stderr_progress(done: int, total: int, rate: float, sim: pd.Timestamp) -> None:
    print(
        f"\rpublished {done}/{total} messages, {rate:,.0f} msg/s, "
        f"simulated {sim:%Y-%m-%d %H:%M} UTC",
        end="" if done < total else "\n",
        file=sys.stderr,
        flush=True,
    )


def publish(
    messages: pd.DataFrame,
    mqtt_url: str | MqttUrl,
    *,
    speed: float = 3600.0,
    backfill: bool = False,
    progress: bool | Callable[[int, int, float, pd.Timestamp], None] = True,
    window: int = 1000,
    client_id: str = "",
    timeout_s: float = 60.0,
) -> PublishStats:
    """Publish ``messages`` (columns send_at, topic, payload, retain) in
    ``send_at`` order. Returns the count and wall time once all are acked."""
    url = parse_mqtt_url(mqtt_url) if isinstance(mqtt_url, str) else mqtt_url
    if not backfill and speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    report: Callable[[int, int, float, pd.Timestamp], None] | None
    report = _stderr_progress if progress is True else (progress or None)
    win = _Window(window)
    connected = threading.Event()
    failure: list[str] = []

    def on_connect(c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            failure.append(str(rc))
        connected.set()

    def on_publish(c: Any, u: Any, mid: int, rc: Any, props: Any) -> None:
        win.release()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
    )
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set()
    client.on_connect = on_connect
    client.on_publish = on_publish
    try:
        client.connect(url.host, url.port, keepalive=30)
    except OSError as exc:
        raise PublishError(f"cannot connect to {url.url()}: {exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(10) or failure:
            raise PublishError(f"broker {url.url()} refused the connection: {failure}")
        send_ms = messages["send_at"].to_numpy("datetime64[ms]").astype(np.int64)
        topics = messages["topic"].tolist()
        payloads = messages["payload"].tolist()
        retains = messages["retain"].tolist()
        total = len(topics)
        wall0 = time.monotonic()
        sim0 = int(send_ms[0]) if total else 0
        last_report = wall0
        for i in range(total):
            if not backfill:
                due = wall0 + (int(send_ms[i]) - sim0) / 1000.0 / speed
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # pacing of the simulated clock
            win.acquire()
            info = client.publish(topics[i], payloads[i], qos=1, retain=retains[i])
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                win.sent -= 1
                raise PublishError(f"publish to {topics[i]!r} failed: rc={info.rc}")
            if report is None or i % 512:
                continue
            now = time.monotonic()
            if now - last_report >= 1.0:
                last_report = now
                sim = pd.Timestamp(int(send_ms[i]), unit="ms", tz="UTC")
                report(i + 1, total, (i + 1) / (now - wall0), sim)
        if not win.drain(timeout_s):
            raise PublishError(
                f"{win.pending} messages not acknowledged in {timeout_s} s"
            )
        seconds = time.monotonic() - wall0
        if report is not None and total:
            sim = pd.Timestamp(int(send_ms[-1]), unit="ms", tz="UTC")
            report(total, total, total / max(seconds, 1e-9), sim)
        return PublishStats(total, seconds)
    finally:
        client.disconnect()
        client.loop_stop()
