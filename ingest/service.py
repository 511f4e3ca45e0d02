"""The ingester: MQTT 5 in, TimescaleDB out, at least once, idempotent.

Threads: paho's network loop only enqueues (:mod:`ingest.link`); the worker
takes what is queued (up to ``batch_size_max``: the batch grows with the
backlog, a lone message goes alone) and decodes it while the previous
batch is committed on a database thread (a pipeline of two batches, one
transaction at a time), then acknowledges each batch in order once it committed
(paho manual ack). Nothing is acknowledged before it is committed, so a crash, a
dead database or a broker restart loses nothing: the broker redelivers
(persistent session: fixed client id, clean start off, session expiry) and the
database's unique keys drop the duplicates.

Receive Maximum = 3 × the largest batch (one committing, one being decoded,
one arriving) bounds what the broker sends unacknowledged, so the in-memory
buffer is bounded too (``buffer_max`` caps it further). The hot path is lean:
PUBLISH packets without properties skip paho's per-message objects
(:mod:`ingest.fastclient`), a committed batch is acknowledged with one write,
COPY text is built directly.
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

from ingest.batch import Batch, BatchResult, Health, HealthBuffer
from ingest.context import DeviceInfo
from ingest.fastclient import FastClient, StockClient
from ingest.link import SESSION_EXPIRY_S, MqttLink
from ingest.metrics import IngestStats, MetricsServer, Snapshot
from ingest.parts import IngestError, admission, build_context, scrubber, sizes
from ingest.redelivery import ARRIVAL_SOURCES, Msg, digest_of, recall
from ingest.registry import decode_message
from ingest.writer import DatabaseDown, Item, Writer
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["SESSION_EXPIRY_S", "IngestError", "Ingester", "build_context"]

_digest = digest_of  # the name the tests know

#: Reload the device table this often [s] (new devices in the building file).
DEVICE_REFRESH_S = 60.0


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
        scrub = scrubber(settings)
        self.settings = settings
        self.stats = IngestStats(unhealthy_after=int(settings.unhealthy_after_failures))
        self.batch_size, self.batch_max, self.receive_maximum = sizes(settings)
        self._stop = threading.Event()
        # Backpressure: Receive Maximum should keep what the broker sends below
        # RM; Mosquitto 2.0 sends more at times (800 queued at RM 600 here,
        # 8k at RM 2000), so beyond twice the queue limit the link takes no
        # more (connected, pinging, acknowledging what commits) until the
        # worker has taken everything, then reconnects for the broker to resend
        # what it let go (the broker's own queue is the place for a backlog).
        # The network thread never blocks for long (it did: no keepalive went
        # out, see docs/ingest.md).
        self._link = MqttLink(
            settings,
            self.stats,
            receive_maximum=self.receive_maximum,
            queue_limit=self.receive_maximum + self.batch_max,
            keepalive_s=keepalive_s,
            connect_timeout_s=connect_timeout_s,
            stop=self._stop,
        )
        self._queue: queue.SimpleQueue[Msg] = self._link.queue
        self._flight: _Flight | None = None
        self._writer = Writer(
            settings.effective_database_url,
            client_id=settings.ingest_client_id,
            timeout_s=int(settings.db_connect_timeout_s),
            scrub=scrub,
        )
        self._health = HealthBuffer(settings.device_health_interval_s)
        self._admission = admission(settings)
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

    @property
    def _client(self) -> StockClient | FastClient:
        return self._link.client

    @property
    def subscriptions(self) -> list[str]:
        return self._link.subscriptions

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
        self._link.start()
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
        self._link.accepting = False
        deadline = time.monotonic() + drain_timeout_s
        while time.monotonic() < deadline and self.stats.snapshot().in_flight > 0:
            if not self._worker or not self._worker.is_alive():
                break
            time.sleep(0.02)
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=drain_timeout_s)
        self._link.stop()
        if self._worker and self._worker.is_alive():
            # Its database thread may be using the connection: closing it from
            # here would wait for that statement (a hang seen in a test).
            logger.error("the worker did not stop within %.0f s", drain_timeout_s)
        else:
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
        q = self._queue
        try:
            first = q.get(timeout=0.2) if block else q.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.batch_max:
            try:
                batch.append(q.get_nowait())
            except queue.Empty:
                break
        self._link.room.set()
        return batch

    def _run(self) -> None:
        """The worker: a pipeline of two batches. While one batch is in the
        database (``_flight``, on the writer thread; psycopg2 lets go of the GIL
        while it waits), the next is decoded and prepared here; it is handed to
        the writer only after the first committed and was acknowledged, so
        acknowledgements stay in order and one transaction runs at a time."""
        self._backoff = 0.5
        pending: deque[Msg] = deque()  # taken, not yet handed to the writer
        self._flight = None
        with ThreadPoolExecutor(1, thread_name_prefix="ingest-db") as pool:
            while not self._stop.is_set():
                try:
                    self._step(pool, pending)
                except DatabaseDown as exc:
                    self.stats.consecutive_failures += 1
                    self._recover(pending)
                    self._database_down(exc, len(pending))
                except Exception:  # the worker must survive anything; retried
                    self.stats.consecutive_failures += 1
                    self._recover(pending)
                    self._writer.rollback()
                    logger.exception("writer failed; retrying the batch")
                    self._stop.wait(1.0)
            self._recover(pending)
        self._flush_health()

    def _step(self, pool: ThreadPoolExecutor, pending: deque[Msg]) -> None:
        """Take a batch (unless one is pending), prepare it while the previous
        one commits, then land that one and hand this one to the writer."""
        if not pending:
            pending.extend(self._take(block=self._flight is None))
        self._drop_stale(pending)
        if self._link.paused and not pending:
            self._resume()
        self.stats.buffer_depth = len(pending) + self._queue.qsize()
        if not pending:
            self._land_flight()
            return
        batch = list(pending)
        due = time.monotonic() - self._devices_loaded_at
        reload = due > DEVICE_REFRESH_S or (self._refresh_wanted and due > 5.0)
        # Reading the database needs the connection: the batch in flight first
        # (also so that its arrivals can be recalled).
        if reload or self._position is None or any(m.dup for m in batch):
            self._land_flight()
        if reload:
            self._reload_devices()
        ahead = len(self._flight.batch) if self._flight is not None else 0
        prepared = self._prepare(batch, ahead)
        self._land_flight()
        health = self._health.take(time.monotonic())
        prepared.batch.health = health
        self._flight = _Flight(
            batch,
            pool.submit(self._writer.commit, prepared.batch, self._devices),
            prepared.t0,
            prepared.last_seen,
            health,
        )
        pending.clear()

    def _resume(self) -> None:
        """Connect again after a pause, once the worker took everything queued,
        the batch in flight committed and was acknowledged on the paused
        connection, and the database answers (raises :class:`DatabaseDown`:
        the usual backoff)."""
        if self._link.drained():
            self._land_flight()
            self._writer.ping()
            self.stats.db_up = True
            self._link.resume()

    def _drop_stale(self, pending: deque[Msg]) -> None:
        """Let go of messages that came on an earlier connection when the
        broker kept the session: it sends them again on this one, so holding
        both copies would double the memory and the writes (and their packet
        ids cannot be acknowledged here). Without a session they are kept."""
        link = self._link
        if not pending or not link.session_present:
            return
        current = link.generation
        if pending[0].generation == current:  # in arrival order: all current
            return
        kept = [m for m in pending if m.generation == current]
        released = len(pending) - len(kept)
        pending.clear()
        pending.extend(kept)
        self.stats.released += released
        logger.info(
            "%d messages of an earlier connection let go: the broker redelivers them",
            released,
        )

    def _database_down(self, exc: DatabaseDown, held: int) -> None:
        """Wait before the next attempt (exponential backoff, jittered). The
        network thread goes on (keepalive); the broker stops at Receive
        Maximum unacknowledged messages and keeps the rest."""
        if self.stats.db_up:
            self.stats.db_outages += 1
        self.stats.db_up = False
        self._position = None  # the commit may have happened: re-read
        logger.warning(
            "database down (%s): holding %d messages unacknowledged, retry in %.1f s",
            exc,
            held,
            self._backoff,
        )
        self._stop.wait(self._backoff * (0.8 + 0.4 * random.random()))
        self._backoff = min(self._backoff * 2, 5.0)

    def _land_flight(self) -> None:
        """Land the batch in flight, if any (:meth:`_land`)."""
        flight = self._flight
        if flight is not None:
            self._land(flight)
            self._flight = None

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
        self._link.ack(batch)
        self._admission.forget([id(m) for m in batch])
        self.stats.on_batch(
            res,
            time.monotonic() - flight.t0,
            time.time() - batch[0].arrived,
            flight.last_seen,
        )

    def _recover(self, pending: deque[Msg]) -> None:
        """After a failure: the batch in flight is acknowledged if it committed
        after all, else put back in front of ``pending`` (with its health rows)
        to be prepared and written again."""
        flight, self._flight = self._flight, None
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
        admit = self._admission.check
        utc = dt.UTC
        fromtimestamp = dt.datetime.fromtimestamp
        for n, m in enumerate(batch):
            raw_topic, payload = m.topic, m.payload
            arrived = recalled.get(n, m.arrived)
            try:
                topic = raw_topic.decode()
            except UnicodeDecodeError:
                topic = raw_topic.decode("utf-8", "replace")
            received_at = fromtimestamp(arrived, utc)
            result = admit(
                decode_message(topic, payload, received_at, ctx),
                arrived,
                received_at,
                id(m),
            )
            rejection = result.rejection
            if rejection is not None and rejection.reason == "unknown_device":
                self._refresh_wanted = True
            # Per-device gauges only for known devices: random ids must not
            # grow the metrics without bound.
            dev = result.device_id
            if dev and dev in devices:
                last_seen[dev] = arrived
            digest = None
            if m.qos == 1 and any(
                e.ts_source in ARRIVAL_SOURCES for e in result.events
            ):
                digest = digest_of(raw_topic, payload)
            items.append(
                Item(topic, payload, received_at, result, m.mid, base + n, digest)
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
