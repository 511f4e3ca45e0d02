"""The ingester: MQTT 5 in, TimescaleDB out, at least once, idempotent.

Threads: paho's network loop only enqueues (``on_message``); the worker takes
what is queued (up to ``batch_size``) and decodes it while the previous batch
is committed on a database thread (a pipeline of two batches, one transaction
at a time), then acknowledges each batch in order once it committed (paho
manual ack). Nothing is acknowledged before it is committed, so a crash, a dead
database or a broker restart loses nothing: the broker redelivers (persistent
session: fixed client id, clean start off, session expiry) and the database's
unique keys drop the duplicates.

Receive Maximum = 3 × ``batch_size`` (one batch committing, one being decoded,
one arriving) bounds what the broker sends unacknowledged, so the in-memory
buffer is bounded too (``buffer_max`` caps it further). The hot path is lean: PUBLISH packets
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
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.batch import Batch, BatchResult, Health, HealthBuffer
from ingest.context import DecodeContext, DeviceInfo
from ingest.fastclient import FastClient
from ingest.metrics import IngestStats, MetricsServer, Snapshot
from ingest.redelivery import ARRIVAL_SOURCES, Msg, digest_of, recall
from ingest.registry import decode_message
from ingest.writer import DatabaseDown, Item, Writer
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["IngestError", "Ingester", "build_context"]

_digest = digest_of  # the name the tests know

#: Session kept by the broker while the ingester is away [s]. Mosquitto 2.0 lost
#: sessions with a 7-day expiry across a restart here; 1 day survives it.
SESSION_EXPIRY_S = 24 * 3600
#: Reload the device table this often [s] (new devices in the building file).
DEVICE_REFRESH_S = 60.0


class IngestError(RuntimeError):
    """The ingester cannot start; the message says why and what to do."""


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
        # Three batches: one committing, the next being prepared, a third
        # arriving (with fewer the broker would stall during every commit).
        # buffer_max caps it.
        self.receive_maximum = max(
            1, min(3 * self.batch_size, int(settings.buffer_max), 65535)
        )
        self._queue: queue.SimpleQueue[Msg] = queue.SimpleQueue()
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
        self._health = HealthBuffer(float(settings.device_health_interval_s))
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
        self._backoff = 0.5  # [s] before the next attempt while the database is down
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

    def _take(self, block: bool) -> list[Msg]:
        try:
            first = self._queue.get(timeout=0.2) if block else self._queue.get_nowait()
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
        """The worker: a pipeline of two batches. While one batch is in the
        database (``flight``, on the writer thread; psycopg2 lets go of the GIL
        while it waits), the next is decoded and prepared here; it is handed to
        the writer only after the first committed and was acknowledged, so
        acknowledgements stay in order and one transaction runs at a time."""
        self._backoff = 0.5
        pending: deque[Msg] = deque()  # taken, not yet handed to the writer
        flight: _Flight | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="ingest-db") as pool:
            while not self._stop.is_set():
                try:
                    if not pending:
                        pending.extend(self._take(block=flight is None))
                    self.stats.buffer_depth = len(pending) + self._queue.qsize()
                    if not pending:
                        if flight is not None:
                            self._land(flight)
                            flight = None
                        continue
                    batch = list(pending)
                    due = time.monotonic() - self._devices_loaded_at
                    reload = due > DEVICE_REFRESH_S or (
                        self._refresh_wanted and due > 5.0
                    )
                    redelivered = any(m[6] for m in batch)
                    # Reading the database needs the connection: the batch in
                    # flight first (also so that its arrivals can be recalled).
                    if flight is not None and (
                        reload or redelivered or self._position is None
                    ):
                        self._land(flight)
                        flight = None
                    if reload:
                        self._reload_devices()
                    ahead = len(flight.batch) if flight is not None else 0
                    prepared = self._prepare(batch, ahead)
                    if flight is not None:
                        self._land(flight)
                        flight = None
                    health = self._health.take(time.monotonic())
                    prepared.batch.health = health
                    flight = _Flight(
                        batch,
                        pool.submit(self._writer.commit, prepared.batch, self._devices),
                        prepared.t0,
                        prepared.last_seen,
                        health,
                    )
                    pending.clear()
                except DatabaseDown as exc:
                    self._recover(flight, pending)
                    flight = None
                    self.stats.db_up = False
                    self._position = None  # the commit may have happened: re-read
                    logger.warning(
                        "database down (%s): holding %d messages unacknowledged, "
                        "retry in %.1f s",
                        exc,
                        len(pending),
                        self._backoff,
                    )
                    self._stop.wait(self._backoff * (0.8 + 0.4 * random.random()))
                    self._backoff = min(self._backoff * 2, 10.0)
                except Exception:  # the worker must survive anything; retried
                    self._recover(flight, pending)
                    flight = None
                    self._writer.rollback()
                    logger.exception("writer failed; retrying the batch")
                    self._stop.wait(1.0)
            if flight is not None:
                self._recover(flight, pending)
        self._flush_health()

    def _land(self, flight: _Flight) -> None:
        """Wait for the batch in flight to commit, then acknowledge it (raises
        what the write raised; the caller keeps the batch)."""
        res = flight.future.result()
        flight.committed = True
        self._backoff = 0.5
        self.stats.db_up = True
        batch = flight.batch
        assert self._position is not None
        self._position += len(batch)
        generation = self._generation
        client = self._client
        client.ack_many([m[3] for m in batch if m[4] == 1 and m[5] == generation])
        for m in batch:
            if m[4] == 2 and m[5] == generation:  # QoS 2 comes via paho's path
                client.ack(m[3], 2)
        now = time.time()
        self.stats.on_batch(
            res, time.monotonic() - flight.t0, now - batch[0][2], flight.last_seen
        )

    def _recover(self, flight: _Flight | None, pending: deque[Msg]) -> None:
        """After a failure: the batch in flight is acknowledged if it committed
        after all, else put back in front of ``pending`` (with its health rows)
        to be prepared and written again."""
        if flight is None or flight.committed:
            return  # committed and counted; unacknowledged ones are redelivered
        try:
            self._land(flight)
        except Exception:
            pending.extendleft(reversed(flight.batch))
            self._health.restore(flight.health)

    def _flush_health(self) -> None:
        """Write the device-health rows still merged in memory (at stop)."""
        rows = self._health.take(time.monotonic(), force=True)
        if not rows:
            return
        try:
            self._writer.write_health(rows)
        except Exception as exc:  # last seen only: not worth holding the stop
            logger.warning(
                "device health of %d devices not written: %s", len(rows), exc
            )

    def _recall(self, batch: list[Msg]) -> dict[int, float]:
        """Arrival times [Unix s] of the redelivered messages in ``batch``, by
        index (:func:`ingest.redelivery.recall`)."""
        assert self._position is not None
        return recall(
            batch, self._position - self._recall_window, self._writer.recall_arrivals
        )

    def _prepare(self, batch: list[Msg], ahead: int) -> _Prepared:
        """Decode ``batch`` and build its rows; ``ahead`` messages are still in
        flight before it (positions follow theirs)."""
        t0 = time.monotonic()
        if self._position is None:
            self._position = self._writer.received_total()
        recalled = self._recall(batch)
        base = self._position + ahead + 1
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
                digest = digest_of(raw_topic, payload)
            items.append(
                Item(topic, payload, received_at, result, mid, base + n, digest)
            )
        prepared = self._writer.prepare(items, devices, received=len(batch))
        self._health.add(prepared.health)
        return _Prepared(prepared, t0, last_seen)


@dataclass(slots=True)
class _Prepared:
    batch: Batch
    t0: float  # monotonic [s] when its preparation started
    last_seen: dict[str, float]


@dataclass(slots=True)
class _Flight:
    """A batch handed to the writer thread, not yet acknowledged."""

    batch: list[Msg]
    future: Future[BatchResult]
    t0: float
    last_seen: dict[str, float]
    health: Health  # device-health rows it writes (put back if it fails)
    committed: bool = False
