"""Publish simulated messages to an MQTT broker with paho-mqtt 2.x, QoS 1.

Two pacings: ``speed`` (simulated seconds per wall second; 1 = real time,
3600 = an hour a second) or ``backfill`` (as fast as PUBACKs come back, with a
bounded window of unacknowledged messages)."""

from __future__ import annotations

import logging
import sys
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

#: messages turned into plain Python lists at a time
CHUNK = 1 << 16


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


def _stderr_progress(done: int, total: int, rate: float, sim: pd.Timestamp) -> None:
    print(
        f"\rpublished {done}/{total} messages, {rate:,.0f} msg/s, "
        f"simulated {sim:%Y-%m-%d %H:%M} UTC",
        end="" if done < total else "\n",
        file=sys.stderr,
        flush=True,
    )


class _Session:
    """A connected paho client driven from this thread: the acks counted by
    its callbacks (run inside ``client.loop``) and a failure, if any."""

    def __init__(self, url: MqttUrl, client_id: str) -> None:
        self.url = url
        self.acked = 0  # PUBACKs received
        self.connected = False
        self.failure: str | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
        )
        # our window bounds what is in flight; paho unlimited skips its per-PUBACK
        # scan of all in-flight messages (O(window) per ack when a limit is set)
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        if url.username:
            client.username_pw_set(url.username, url.password)
        if url.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        self.client = client

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            self.failure = str(rc)
        self.connected = True

    def _on_disconnect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        self.failure = self.failure or f"disconnected: {rc}"

    def _on_publish(self, c: Any, u: Any, mid: int, rc: Any, props: Any) -> None:
        self.acked += 1

    def connect(self) -> None:
        """Connect and wait for the broker's CONNACK (10 s at most)."""
        url = self.url
        try:
            self.client.connect(url.host, url.port, keepalive=30)
        except OSError as exc:
            raise PublishError(f"cannot connect to {url.url()}: {exc}") from exc
        deadline = time.monotonic() + 10
        while not self.connected and time.monotonic() < deadline:
            self.client.loop(timeout=0.1)
        if not self.connected or self.failure:
            raise PublishError(
                f"broker {url.url()} refused the connection: {self.failure}"
            )
        self.client.on_disconnect = self._on_disconnect

    def wait_acked(
        self, at_least: int, timeout_s: float, what: Callable[[], str]
    ) -> None:
        """Serve the socket until ``at_least`` PUBACKs arrived."""
        limit = time.monotonic() + timeout_s
        while self.acked < at_least:
            self.client.loop(timeout=0.05)
            if self.failure or time.monotonic() > limit:
                raise PublishError(what())

    def close(self) -> None:
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop(timeout=0.1)


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
    ``send_at`` order. Returns the count and wall time once all are acked.

    One thread does everything: paho writes each PUBLISH straight to the
    socket, and the loop reads PUBACKs between publishes (no network thread,
    no GIL hand-over per message). At most ``window`` messages await their
    PUBACK; progress is reported at most twice a second."""
    url = parse_mqtt_url(mqtt_url) if isinstance(mqtt_url, str) else mqtt_url
    if not backfill and speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    if window < 1:
        raise ValueError(f"window must be ≥ 1, got {window}")
    report: Callable[[int, int, float, pd.Timestamp], None] | None
    report = _stderr_progress if progress is True else (progress or None)
    session = _Session(url, client_id)
    try:
        session.connect()
        send_ms = messages["send_at"].to_numpy("datetime64[ms]").astype(np.int64)
        total = len(send_ms)
        wall0 = time.monotonic()
        speed_or_none = None if backfill else speed
        _send_all(
            session,
            messages,
            send_ms,
            (wall0, speed_or_none),
            window,
            timeout_s,
            report,
        )
        session.wait_acked(
            total,
            timeout_s,
            lambda: (
                f"{total - session.acked} messages not acknowledged in {timeout_s} s"
            ),
        )
        seconds = time.monotonic() - wall0
        if report is not None and total:
            sim = pd.Timestamp(int(send_ms[-1]), unit="ms", tz="UTC")
            report(total, total, total / max(seconds, 1e-9), sim)
        return PublishStats(total, seconds)
    finally:
        session.close()


def _send_all(
    session: _Session,
    messages: pd.DataFrame,
    send_ms: np.ndarray,
    pace: tuple[float, float | None],
    window: int,
    timeout_s: float,
    report: Callable[[int, int, float, pd.Timestamp], None] | None,
) -> None:
    """Publish every message with at most ``window`` unacknowledged, paced by
    ``pace`` = (wall start, speed; None: as fast as possible)."""
    total = len(send_ms)
    loop = session.client.loop
    pub = session.client.publish
    ok = mqtt.MQTT_ERR_SUCCESS
    wall0, speed = pace
    next_report = wall0 + 0.5
    url = session.url
    for lo in range(0, total, CHUNK):
        # plain lists per chunk: no pandas access per message, and the
        # payloads are never all materialised as Python objects at once
        part = messages.iloc[lo : lo + CHUNK]
        topics = part["topic"].tolist()
        payloads = part["payload"].tolist()
        retains = part["retain"].tolist()
        sim_s = ((send_ms[lo : lo + CHUNK] - send_ms[0]) / 1000.0).tolist()
        for j in range(len(topics)):
            i = lo + j
            if speed is not None:
                due = wall0 + sim_s[j] / speed
                while (wait := due - time.monotonic()) > 0:
                    loop(timeout=min(wait, 0.5))  # pacing; serves PUBACKs
            if i - session.acked >= window:
                session.wait_acked(
                    i - window + 1,
                    timeout_s,
                    lambda: (
                        f"no PUBACK from {url.url()} in {timeout_s} s "
                        f"({session.failure or 'window full'})"
                    ),
                )
            rc = pub(topics[j], payloads[j], 1, retains[j]).rc
            if rc != ok:
                raise PublishError(f"publish to {topics[j]!r} failed: rc={rc}")
            if not i & 63:
                loop(timeout=0)  # read the PUBACKs that arrived meanwhile
                if report is not None and not i & 4095:
                    now = time.monotonic()
                    if now >= next_report:
                        next_report = now + 0.5
                        sim = pd.Timestamp(int(send_ms[i]), unit="ms", tz="UTC")
                        report(i + 1, total, (i + 1) / (now - wall0), sim)
