"""The ingester: MQTT 5 in, TimescaleDB out, at least once, idempotent.

Threads: paho's network loop only enqueues (``on_message``); one worker takes
what is queued (up to ``batch_size``), decodes, commits one transaction, then
acknowledges those messages in order (paho manual ack). Nothing is acknowledged
before it is committed, so a crash, a dead database or a broker restart loses
nothing: the broker redelivers (persistent session: fixed client id, clean start
off, session expiry) and the database's unique keys drop the duplicates.

Receive Maximum = ``batch_size`` bounds what the broker sends unacknowledged,
so the in-memory buffer is bounded too (``buffer_max`` caps it further).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.context import DecodeContext, DeviceInfo
from ingest.metrics import IngestStats, MetricsServer, Snapshot
from ingest.registry import decode_message
from ingest.writer import DatabaseDown, Item, Writer
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["IngestError", "Ingester", "build_context"]

#: Session kept by the broker while the ingester is away [s]. Mosquitto 2.0 lost
#: sessions with a 7-day expiry across a restart here; 1 day survives it.
SESSION_EXPIRY_S = 24 * 3600
#: Reload the device table this often [s] (new devices in the building file).
DEVICE_REFRESH_S = 60.0


class IngestError(RuntimeError):
    """The ingester cannot start; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class _Msg:
    topic: str
    payload: bytes
    received_at: float
    mid: int
    qos: int
    generation: int


def build_context(
    settings: Settings, devices: list[DeviceInfo] | None
) -> DecodeContext:
    """The decode context from settings and the known devices (``None``: any)."""
    from zoneinfo import ZoneInfo

    return DecodeContext.from_devices(
        devices,
        tz=ZoneInfo(settings.timezone),
        max_clock_skew_s=float(settings.max_clock_skew_s),
        pseudonym_key=settings.pseudonym_key,
        topic_root=settings.topic_root,
        site=settings.site,
        max_payload_bytes=int(settings.max_payload_bytes),
    )


class Ingester:
    """Run the ingester in this process: ``start()``, ``wait_idle()``, ``stop()``.

    ``stats.snapshot()`` gives received/accepted/rejected/ignored/in_flight
    (messages) and inserted/duplicates (events).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        metrics_port: int | None = None,
        connect_timeout_s: float = 5.0,
        keepalive_s: int = 15,
    ) -> None:
        if not settings.pseudonym_key:
            raise IngestError(
                "no pseudonymisation key: set OCCUPANCY_PSEUDONYM_KEY to a long random "
                "secret (badge ids are hashed with it at ingest; see docs/privacy.md)"
            )
        self.settings = settings
        self.stats = IngestStats()
        self.batch_size = max(1, int(settings.batch_size))
        self.receive_maximum = max(
            1, min(self.batch_size, int(settings.buffer_max), 65535)
        )
        self._queue: queue.SimpleQueue[_Msg] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._accepting = True
        self._generation = 0
        self._writer = Writer(
            settings.effective_database_url,
            client_id=settings.ingest_client_id,
            timeout_s=int(settings.db_connect_timeout_s),
        )
        self._devices: dict[str, DeviceInfo] = {}
        self._ctx = build_context(settings, [])
        self._devices_loaded_at = 0.0
        self._refresh_wanted = False
        self._worker: threading.Thread | None = None
        self._metrics: MetricsServer | None = None
        port = settings.metrics_port if metrics_port is None else metrics_port
        self._metrics_port = int(port or 0)
        self._keepalive_s = keepalive_s
        self._client = self._make_client(connect_timeout_s)

    # -- MQTT ---------------------------------------------------------------
    def _make_client(self, connect_timeout_s: float) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.ingest_client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        url = s.mqtt
        if url.username:
            client.username_pw_set(url.username, url.password)
        if url.tls:
            client.tls_set()
        client.connect_timeout = connect_timeout_s
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    @property
    def subscriptions(self) -> list[str]:
        group = self.settings.ingest_group
        topics = list(self.settings.ingest_topics)
        return [f"$share/{group}/{t}" if group else t for t in topics]

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        try:
            if reason.is_failure:
                logger.error("broker refused the connection: %s", reason)
                return
            self._generation += 1
            self.stats.mqtt_connected = True
            logger.info(
                "connected to %s (session present: %s); subscribing %s",
                self.settings.mqtt.url(),
                flags.session_present,
                ", ".join(self.subscriptions),
            )
            client.subscribe([(t, SubscribeOptions(qos=1)) for t in self.subscriptions])
        except Exception:  # paho callbacks must never raise
            logger.exception("on_connect failed")

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        try:
            failed = [r for r in reasons if r.is_failure]
            if failed:
                logger.error("subscription refused by the broker: %s", failed)
            else:
                self.stats.subscribed = True
        except Exception:
            logger.exception("on_subscribe failed")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.stats.mqtt_connected = False
        self.stats.subscribed = False
        if not self._stop.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(
        self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage
    ) -> None:
        try:
            if not self._accepting:
                return  # not acknowledged: the broker redelivers it next session
            try:
                topic = msg.topic
            except UnicodeDecodeError:
                topic = msg._topic.decode("utf-8", "replace")
            self._queue.put(
                _Msg(
                    topic,
                    bytes(msg.payload),
                    time.time(),
                    msg.mid,
                    msg.qos,
                    self._generation,
                )
            )
            self.stats.on_received()
        except Exception:
            logger.exception("on_message failed")

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        """Connect (retrying in the background) and start the worker."""
        try:
            self._reload_devices()
            self.stats.db_up = True
        except DatabaseDown as exc:
            logger.warning("database not reachable yet (%s); will retry", exc)
        if self._metrics_port:
            self._metrics = MetricsServer(self.stats, self._metrics_port)
            self._metrics.start()
            logger.info("metrics on http://127.0.0.1:%d/metrics", self._metrics.port)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self.receive_maximum
        url = self.settings.mqtt
        self._client.connect_async(
            url.host,
            url.port,
            keepalive=self._keepalive_s,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()
        self._worker = threading.Thread(
            target=self._run, name="ingest-writer", daemon=True
        )
        self._worker.start()

    @property
    def metrics_port(self) -> int | None:
        return self._metrics.port if self._metrics else None

    def stop(self, drain_timeout_s: float = 10.0) -> Snapshot:
        """Stop taking messages, commit and acknowledge what is queued (while the
        database allows, at most ``drain_timeout_s``), disconnect."""
        self._accepting = False
        deadline = time.monotonic() + drain_timeout_s
        while time.monotonic() < deadline and self.stats.snapshot().in_flight > 0:
            if not self._worker or not self._worker.is_alive():
                break
            time.sleep(0.02)
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=drain_timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        self._writer.close()
        if self._metrics:
            self._metrics.stop()
        return self.stats.snapshot()

    def wait_idle(self, seconds: float, timeout: float) -> bool:
        """Wait until nothing arrived for ``seconds`` and nothing is in flight;
        False if that did not happen within ``timeout`` [s]."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.stats.snapshot()
            last = self.stats.last_message_at or self.stats.started_at
            if snap.in_flight == 0 and time.time() - last >= seconds:
                return True
            time.sleep(min(0.05, max(seconds / 4, 0.01)))
        return False

    # -- worker ---------------------------------------------------------------
    def _reload_devices(self) -> None:
        devices = self._writer.load_devices()
        self._devices = {d.device_id: d for d in devices}
        self._ctx = build_context(self.settings, devices)
        self._devices_loaded_at = time.monotonic()
        self._refresh_wanted = False

    def _take(self) -> list[_Msg]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        backoff = 0.5
        pending: deque[_Msg] = deque()
        while not self._stop.is_set():
            try:
                if not pending:
                    pending.extend(self._take())
                self.stats.buffer_depth = len(pending) + self._queue.qsize()
                if not pending:
                    continue
                due = time.monotonic() - self._devices_loaded_at
                if due > DEVICE_REFRESH_S or (self._refresh_wanted and due > 5.0):
                    self._reload_devices()
                self._commit(list(pending))
                pending.clear()
                backoff = 0.5
                self.stats.db_up = True
            except DatabaseDown as exc:
                self.stats.db_up = False
                logger.warning(
                    "database down (%s): holding %d messages unacknowledged, retry in %.1f s",
                    exc,
                    len(pending),
                    backoff,
                )
                self._stop.wait(backoff * (0.8 + 0.4 * random.random()))
                backoff = min(backoff * 2, 10.0)
            except Exception:  # the worker must survive anything; the batch is retried
                logger.exception("writer failed; retrying the batch")
                self._stop.wait(1.0)

    def _commit(self, batch: list[_Msg]) -> None:
        t0 = time.monotonic()
        items = []
        last_seen: dict[str, float] = {}
        for m in batch:
            received_at = dt.datetime.fromtimestamp(m.received_at, dt.UTC)
            result = decode_message(m.topic, m.payload, received_at, self._ctx)
            if (
                result.rejection is not None
                and result.rejection.reason == "unknown_device"
            ):
                self._refresh_wanted = True
            # Per-device gauges only for known devices: random ids must not
            # grow the metrics without bound.
            if result.device_id and result.device_id in self._devices:
                last_seen[result.device_id] = m.received_at
            items.append(Item(m.topic, m.payload, received_at, result))
        res = self._writer.write(items, self._devices, received=len(batch))
        generation = self._generation
        for m in batch:
            if m.qos > 0 and m.generation == generation:
                self._client.ack(m.mid, m.qos)
        now = time.time()
        self.stats.on_batch(
            res, time.monotonic() - t0, now - batch[0].received_at, last_seen
        )
