"""Ingest accounting in memory and its HTTP endpoint (/metrics, /health).

The exposition is prometheus_client's (a collector reads the counters at scrape
time; label values are escaped by the library).

Counters are totals since start; Prometheus derives rates with ``rate()``.
Accounting (messages): ``received = accepted + rejected + ignored + in_flight``;
events: every event of an accepted message is either inserted or a duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.batch import BatchResult

logger = logging.getLogger(__name__)

__all__ = ["IngestCollector", "IngestStats", "MetricsServer", "Snapshot", "health"]


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the counters (messages, events, gauges)."""

    received: int
    accepted: int
    rejected: int
    ignored: int
    in_flight: int
    inserted: int
    duplicates: int
    badges_inserted: int
    badges_duplicate: int
    buffer_depth: int
    reasons: dict[str, int]
    #: Received, then let go unacknowledged: copies from a previous connection
    #: that the broker sends again on this one (persistent session).
    released: int = 0

    @property
    def balanced(self) -> bool:
        """True when every received message is accounted for."""
        done = self.accepted + self.rejected + self.ignored
        return self.received == done + self.in_flight + self.released

    def line(self) -> str:
        return (
            f"received={self.received} inserted={self.inserted} duplicates={self.duplicates} "
            f"rejected={self.rejected} ignored={self.ignored} in_flight={self.in_flight} "
            f"(messages accepted={self.accepted}; badge sightings inserted="
            f"{self.badges_inserted} duplicates={self.badges_duplicate})"
        )


@dataclass
class IngestStats:
    """Thread-safe counters of one ingester."""

    received: int = 0
    totals: BatchResult = field(default_factory=BatchResult)
    buffer_depth: int = 0
    db_up: bool = False
    mqtt_connected: bool = False
    #: True once the broker acknowledged the subscriptions (SUBACK) of this connection.
    subscribed: bool = False
    batches: int = 0
    last_batch_s: float = 0.0
    last_commit_lag_s: float = 0.0
    last_message_at: float = 0.0
    device_last_seen: dict[str, float] = field(default_factory=dict)
    #: Failed batch attempts in a row (0 after a commit); /health turns 503
    #: at ``unhealthy_after``.
    consecutive_failures: int = 0
    unhealthy_after: int = 3
    #: Messages that came with the broker's DUP flag (redeliveries); written
    #: by the network thread only, like ``received``.
    redelivered: int = 0
    #: Connections made to the broker, and lost or closed.
    connects: int = 0
    disconnects: int = 0
    #: Times the ingester disconnected on purpose (session kept) because the
    #: broker sent more than Receive Maximum; and database outages.
    pauses: int = 0
    db_outages: int = 0
    #: Written by the worker: see :attr:`Snapshot.released`.
    released: int = 0
    started_at: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_batch(
        self, res: BatchResult, seconds: float, lag_s: float, devices: dict[str, float]
    ) -> None:
        with self._lock:
            self.totals.add(res)
            self.batches += 1
            self.last_batch_s = seconds
            self.last_commit_lag_s = lag_s
            self.device_last_seen.update(devices)
            self.consecutive_failures = 0

    def snapshot(self) -> Snapshot:
        with self._lock:
            t = self.totals
            done = t.accepted + t.rejected + t.ignored
            return Snapshot(
                received=self.received,
                accepted=t.accepted,
                rejected=t.rejected,
                ignored=t.ignored,
                in_flight=self.received - done - self.released,
                inserted=t.events_inserted,
                duplicates=t.events_duplicate,
                badges_inserted=t.badges_inserted,
                badges_duplicate=t.badges_duplicate,
                buffer_depth=self.buffer_depth,
                reasons=dict(t.reasons),
                released=self.released,
            )

    def prometheus(self) -> str:
        """All metrics in the Prometheus text exposition format."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(IngestCollector(self))
        return generate_latest(registry).decode()


_P = "occupancy_ingest_"


_Rows = tuple[tuple[str, str, float], ...]


def _counters(st: IngestStats, s: Snapshot) -> _Rows:
    """``(name, help, value)`` of the counters."""
    return (
        ("messages_received", "Messages taken from the broker.", s.received),
        ("messages_accepted", "Messages whose events were committed.", s.accepted),
        ("messages_ignored", "Messages with nothing to store.", s.ignored),
        ("events_inserted", "Events newly stored.", s.inserted),
        ("events_duplicate", "Events already stored (redeliveries).", s.duplicates),
        ("badges_inserted", "Badge sightings newly stored.", s.badges_inserted),
        ("batches", "Committed batches.", st.batches),
        (
            "messages_redelivered",
            "Messages the broker sent again (DUP flag).",
            st.redelivered,
        ),
        ("mqtt_connects", "Connections made to the broker.", st.connects),
        ("mqtt_disconnects", "Connections lost or closed.", st.disconnects),
        (
            "pauses",
            "Clean disconnects (session kept): the broker sent beyond Receive Maximum.",
            st.pauses,
        ),
        ("db_outages", "Times the database became unreachable.", st.db_outages),
        (
            "messages_released",
            "Received copies let go for the broker's redelivery on a new connection.",
            st.released,
        ),
    )


def _gauges(st: IngestStats, s: Snapshot) -> _Rows:
    """``(name, help, value)`` of the gauges."""
    return (
        ("messages_in_flight", "Received, not yet committed.", s.in_flight),
        ("buffer_depth", "Messages waiting for the writer.", s.buffer_depth),
        ("db_up", "1 when the last database call succeeded.", int(st.db_up)),
        (
            "mqtt_connected",
            "1 while connected to the broker.",
            int(st.mqtt_connected),
        ),
        ("last_batch_seconds", "Duration of the last batch [s].", st.last_batch_s),
        (
            "commit_lag_seconds",
            "Arrival of the oldest message of the last batch to its commit [s].",
            st.last_commit_lag_s,
        ),
        (
            "last_message_timestamp_seconds",
            "Unix time of the last message received.",
            st.last_message_at,
        ),
        ("start_time_seconds", "Unix time the ingester started.", st.started_at),
        (
            "batch_failures_in_a_row",
            "Failed batch attempts since the last commit.",
            st.consecutive_failures,
        ),
    )


class IngestCollector(Collector):
    """The counters of :class:`IngestStats` as Prometheus metric families, read
    at scrape time (nothing is counted twice on the hot path)."""

    def __init__(self, stats: IngestStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        st = self.stats
        s = st.snapshot()
        with st._lock:
            seen = dict(st.device_last_seen)
        for name, help_, value in _counters(st, s):
            yield CounterMetricFamily(_P + name, help_, value=value)
        rejected = CounterMetricFamily(
            _P + "messages_rejected", "Messages refused, by reason.", labels=["reason"]
        )
        for reason, n in sorted(s.reasons.items()) or [("none", 0)]:
            rejected.add_metric([reason], n)
        yield rejected
        for name, help_, value in _gauges(st, s):
            yield GaugeMetricFamily(_P + name, help_, value=value)
        last_seen = GaugeMetricFamily(
            _P + "device_last_seen_timestamp_seconds",
            "Last message per device.",
            labels=["device"],
        )
        for dev, t in sorted(seen.items()):
            last_seen.add_metric([dev], round(t, 3))
        yield last_seen


def health(stats: IngestStats) -> tuple[bool, str]:
    """Whether the ingester is healthy, and the one-line text of ``/health``."""
    failing = stats.consecutive_failures >= max(1, stats.unhealthy_after)
    ok = stats.db_up and stats.mqtt_connected and not failing
    snap = stats.snapshot()
    text = (
        f"{'ok' if ok else 'degraded'} db_up={int(stats.db_up)} "
        f"mqtt_connected={int(stats.mqtt_connected)} "
        f"failed_batches_in_a_row={stats.consecutive_failures} {snap.line()}\n"
    )
    return ok, text


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("metrics: " + format, *args)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class MetricsServer:
    """``GET /metrics`` (prometheus_client's exposition) and ``GET /health``
    (200 when healthy, else 503) on 127.0.0.1 or a given host."""

    def __init__(self, stats: IngestStats, port: int, host: str = "127.0.0.1") -> None:
        self.stats = stats
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(IngestCollector(stats))
        self._metrics_app = make_wsgi_app(self.registry)
        self._server = make_server(
            host, port, self._app, server_class=_Server, handler_class=_QuietHandler
        )
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ingest-metrics", daemon=True
        )

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/metrics"):
            out: Iterable[bytes] = self._metrics_app(environ, start_response)
            return out
        if path.startswith("/health"):
            ok, text = health(self.stats)
            body, status = text.encode(), "200 OK" if ok else "503 Service Unavailable"
        else:
            body, status = b"see /metrics and /health\n", "404 Not Found"
        start_response(
            status,
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
