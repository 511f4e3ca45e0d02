"""The ingester: MQTT 5 in, TimescaleDB out, at least once, idempotent.

Threads: paho's network loop only enqueues (``on_message``); one worker takes
what is queued (up to ``batch_size``), decodes, commits one transaction, then
acknowledges those messages in order (paho manual ack). Nothing is acknowledged
before it is committed, so a crash, a dead database or a broker restart loses
nothing: the broker redelivers (persistent session: fixed client id, clean start
off, session expiry) and the database's unique keys drop the duplicates.

Receive Maximum = 2 × ``batch_size`` (one batch committing, the next arriving)
bounds what the broker sends unacknowledged, so the in-memory buffer is bounded
too (``buffer_max`` caps it further). The hot path is lean: PUBLISH packets
without properties skip paho's per-message objects (:mod:`ingest.fastclient`),
a committed batch is acknowledged with one write, COPY text is built directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
import time
import zlib
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.context import DecodeContext, DeviceInfo
from ingest.fastclient import FastClient
from ingest.metrics import IngestStats, MetricsServer, Snapshot
from ingest.registry import decode_message
from ingest.writer import DatabaseDown, Item, Writer
from occupancy.events import TsSource
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


#: A queued message: (topic bytes, payload, received_at [Unix s], mid, qos,
#: connection generation, DUP flag). A plain tuple: no object churn on the
#: network thread.
_Msg = tuple[bytes, bytes, float, int, int, int, bool]


#: Event times taken from the arrival time: a redelivery would get another one.
ARRIVAL_SOURCES = frozenset({TsSource.ARRIVAL, TsSource.CORRECTED})


def _digest(topic: bytes, payload: bytes) -> int:
    """A checksum of a message, to recognise its redelivery."""
    return zlib.crc32(payload, zlib.crc32(topic + b"\x00"))


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
        metrics_host: str | None = None,
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
        # Two batches: one committing while the next arrives (with exactly one
        # the broker would stall during every commit). buffer_max caps it.
        self.receive_maximum = max(
            1, min(2 * self.batch_size, int(settings.buffer_max), 65535)
        )
        self._queue: queue.SimpleQueue[_Msg] = queue.SimpleQueue()
        # Backpressure: the network thread stops reading when this many messages
        # wait for the worker. Receive Maximum should keep the queue below it;
        # Mosquitto 2.0 was seen sending more (8k queued at Receive Maximum
        # 2000), and an unbounded queue grows the memory while the broker's
        # own queue is the place for a backlog.
        self._queue_limit = self.receive_maximum + self.batch_size
        self._room = threading.Event()
        self._stop = threading.Event()
        self._disconnected = threading.Event()
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
        # Messages committed by this client id (ingest_stats.received); None
        # until read from the database.
        self._position: int | None = None
        # A stored arrival is trusted for a redelivered message only this close
        # to the received count (packet ids are reused after 65,535 messages).
        self._recall_window = min(4 * self.receive_maximum, 32768)
        self._worker: threading.Thread | None = None
        self._metrics: MetricsServer | None = None
        port = settings.metrics_port if metrics_port is None else metrics_port
        self._metrics_port = int(port or 0)
        host = settings.metrics_host if metrics_host is None else metrics_host
        self._metrics_host = str(host or "127.0.0.1")
        self._keepalive_s = keepalive_s
        self._client = self._make_client(connect_timeout_s)

    # -- MQTT ---------------------------------------------------------------
    def _make_client(self, connect_timeout_s: float) -> FastClient:
        s = self.settings
        client = FastClient(
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
        client.sink = self._enqueue
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
        self._disconnected.set()
        if not self._stop.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason)

    def _enqueue(
        self, topic: bytes, payload: bytes, mid: int, qos: int, dup: bool = False
    ) -> None:
        """The hot path on paho's network thread: count and queue, nothing else.
        ``received`` is counted before the message is queued, so the worker
        never accounts for more than was received."""
        if not self._accepting:
            return  # not acknowledged: the broker redelivers it next session
        now = time.time()
        stats = self.stats
        stats.received += 1  # only this thread writes it
        stats.last_message_at = now
        if self._queue.qsize() >= self._queue_limit:
            self._wait_for_room()
        self._queue.put((topic, payload, now, mid, qos, self._generation, dup))

    def _wait_for_room(self) -> None:
        """Block the network thread (so it stops reading the socket and TCP
        holds the broker back) until the worker has taken a batch."""
        while self._queue.qsize() >= self._queue_limit and not self._stop.is_set():
            self._room.clear()
            if self._queue.qsize() < self._queue_limit:
                break
            self._room.wait(0.5)

    def _on_message(
        self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage
    ) -> None:
        """paho's path (a PUBLISH with MQTT 5 properties): same as the sink."""
        try:
            self._enqueue(
                msg._topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.dup)
            )
        except Exception:  # paho callbacks must never raise
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
            self._metrics = MetricsServer(
                self.stats, self._metrics_port, host=self._metrics_host
            )
            self._metrics.start()
            logger.info(
                "metrics on http://%s:%d/metrics",
                self._metrics_host,
                self._metrics.port,
            )
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

    @property
    def metrics_host(self) -> str:
        """Address the metrics endpoint listens on (setting ``metrics_host``)."""
        return self._metrics_host

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
        # Wait for the DISCONNECT to go out, so the last acknowledgements do too.
        self._disconnected.clear()
        if self._client.disconnect() == mqtt.MQTT_ERR_SUCCESS:
            self._disconnected.wait(2.0)
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
        self._room.set()
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
                self._position = None  # the commit may have happened: re-read
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

    def _recall(self, batch: list[_Msg]) -> dict[int, float]:
        """Arrival times [Unix s] for redelivered messages (DUP flag) in
        ``batch``, by index: the first arrival of the same message, from
        earlier in this batch or from ``ingest_arrivals``."""
        dups = [i for i, m in enumerate(batch) if m[6] and m[4] == 1]
        if not dups:
            return {}
        assert self._position is not None
        out: dict[int, float] = {}
        first: dict[tuple[int, int], float] = {}
        for i, m in enumerate(batch[: dups[-1] + 1]):
            if m[4] != 1:
                continue
            key = (m[3], _digest(m[0], m[1]))
            if m[6] and key in first:
                out[i] = first[key]
            else:
                first.setdefault(key, m[2])
        stored = self._writer.recall_arrivals(
            sorted({batch[i][3] for i in dups if i not in out})
        )
        oldest = self._position - self._recall_window
        for i in dups:
            hit = stored.get(batch[i][3])
            if i in out or hit is None:
                continue
            position, digest, received_at = hit
            if position > oldest and digest == _digest(batch[i][0], batch[i][1]):
                out[i] = received_at.timestamp()
        if out:
            logger.info(
                "%d redelivered message(s) keep their first arrival time", len(out)
            )
        return out

    def _commit(self, batch: list[_Msg]) -> None:
        t0 = time.monotonic()
        if self._position is None:
            self._position = self._writer.received_total()
        recalled = self._recall(batch)
        base = self._position + 1
        items = []
        last_seen: dict[str, float] = {}
        devices = self._devices
        ctx = self._ctx
        utc = dt.UTC
        fromtimestamp = dt.datetime.fromtimestamp
        for n, (raw_topic, payload, first_arrival, mid, qos, _g, _d) in enumerate(
            batch
        ):
            arrived = recalled.get(n, first_arrival)
            try:
                topic = raw_topic.decode()
            except UnicodeDecodeError:
                topic = raw_topic.decode("utf-8", "replace")
            received_at = fromtimestamp(arrived, utc)
            result = decode_message(topic, payload, received_at, ctx)
            rejection = result.rejection
            if rejection is not None and rejection.reason == "unknown_device":
                self._refresh_wanted = True
            # Per-device gauges only for known devices: random ids must not
            # grow the metrics without bound.
            dev = result.device_id
            if dev and dev in devices:
                last_seen[dev] = arrived
            digest = None
            if qos == 1 and any(e.ts_source in ARRIVAL_SOURCES for e in result.events):
                digest = _digest(raw_topic, payload)
            items.append(
                Item(topic, payload, received_at, result, mid, base + n, digest)
            )
        res = self._writer.write(items, devices, received=len(batch))
        self._position += len(batch)
        generation = self._generation
        client = self._client
        client.ack_many([m[3] for m in batch if m[4] == 1 and m[5] == generation])
        for m in batch:
            if m[4] == 2 and m[5] == generation:  # QoS 2 comes via paho's path
                client.ack(m[3], 2)
        now = time.time()
        self.stats.on_batch(res, time.monotonic() - t0, now - batch[0][2], last_seen)
