"""Ingest accounting in memory and its Prometheus text endpoint (/metrics, /health).

Counters are totals since start; Prometheus derives rates with ``rate()``.
Accounting (messages): ``received = accepted + rejected + ignored + in_flight``;
events: every event of an accepted message is either inserted or a duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ingest.writer import BatchResult

logger = logging.getLogger(__name__)

__all__ = ["IngestStats", "MetricsServer", "Snapshot"]


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

    @property
    def balanced(self) -> bool:
        """True when every received message is accounted for."""
        return (
            self.received
            == self.accepted + self.rejected + self.ignored + self.in_flight
        )

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
    started_at: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_received(self, n: int = 1) -> None:
        with self._lock:
            self.received += n
            self.last_message_at = time.time()

    def on_batch(
        self, res: BatchResult, seconds: float, lag_s: float, devices: dict[str, float]
    ) -> None:
        with self._lock:
            self.totals.add(res)
            self.batches += 1
            self.last_batch_s = seconds
            self.last_commit_lag_s = lag_s
            self.device_last_seen.update(devices)

    def snapshot(self) -> Snapshot:
        with self._lock:
            t = self.totals
            done = t.accepted + t.rejected + t.ignored
            return Snapshot(
                received=self.received,
                accepted=t.accepted,
                rejected=t.rejected,
                ignored=t.ignored,
                in_flight=self.received - done,
                inserted=t.events_inserted,
                duplicates=t.events_duplicate,
                badges_inserted=t.badges_inserted,
                badges_duplicate=t.badges_duplicate,
                buffer_depth=self.buffer_depth,
                reasons=dict(t.reasons),
            )

    def prometheus(self) -> str:
        """All metrics in the Prometheus text exposition format."""
        s = self.snapshot()
        with self._lock:
            seen = dict(self.device_last_seen)
            gauges: dict[str, Any] = {
                "db_up": int(self.db_up),
                "mqtt_connected": int(self.mqtt_connected),
                "batches_total": self.batches,
                "last_batch_seconds": self.last_batch_s,
                "commit_lag_seconds": self.last_commit_lag_s,
                "last_message_timestamp_seconds": self.last_message_at,
                "start_time_seconds": self.started_at,
            }
        out: list[str] = []

        def metric(
            name: str, kind: str, help_: str, value: Any, labels: str = ""
        ) -> None:
            out.append(f"# HELP occupancy_ingest_{name} {help_}")
            out.append(f"# TYPE occupancy_ingest_{name} {kind}")
            out.append(f"occupancy_ingest_{name}{labels} {value}")

        metric(
            "messages_received_total",
            "counter",
            "Messages taken from the broker.",
            s.received,
        )
        metric(
            "messages_accepted_total",
            "counter",
            "Messages whose events were committed.",
            s.accepted,
        )
        metric(
            "messages_ignored_total",
            "counter",
            "Messages with nothing to store.",
            s.ignored,
        )
        metric(
            "messages_in_flight", "gauge", "Received, not yet committed.", s.in_flight
        )
        out.append(
            "# HELP occupancy_ingest_messages_rejected_total Messages refused, by reason."
        )
        out.append("# TYPE occupancy_ingest_messages_rejected_total counter")
        for reason, n in sorted(s.reasons.items()) or [("none", 0)]:
            out.append(
                f'occupancy_ingest_messages_rejected_total{{reason="{reason}"}} {n}'
            )
        metric("events_inserted_total", "counter", "Events newly stored.", s.inserted)
        metric(
            "events_duplicate_total",
            "counter",
            "Events already stored (redeliveries).",
            s.duplicates,
        )
        metric(
            "badges_inserted_total",
            "counter",
            "Badge sightings newly stored.",
            s.badges_inserted,
        )
        metric(
            "buffer_depth", "gauge", "Messages waiting for the writer.", s.buffer_depth
        )
        metric(
            "db_up",
            "gauge",
            "1 when the last database call succeeded.",
            gauges["db_up"],
        )
        metric(
            "mqtt_connected",
            "gauge",
            "1 while connected to the broker.",
            gauges["mqtt_connected"],
        )
        metric(
            "batches_total", "counter", "Committed batches.", gauges["batches_total"]
        )
        metric(
            "last_batch_seconds",
            "gauge",
            "Duration of the last batch [s].",
            gauges["last_batch_seconds"],
        )
        metric(
            "commit_lag_seconds",
            "gauge",
            "Arrival of the oldest message of the last batch to its commit [s].",
            gauges["commit_lag_seconds"],
        )
        metric(
            "last_message_timestamp_seconds",
            "gauge",
            "Unix time of the last message received.",
            gauges["last_message_timestamp_seconds"],
        )
        metric(
            "start_time_seconds",
            "gauge",
            "Unix time the ingester started.",
            gauges["start_time_seconds"],
        )
        out.append(
            "# HELP occupancy_ingest_device_last_seen_timestamp_seconds Last message per device."
        )
        out.append("# TYPE occupancy_ingest_device_last_seen_timestamp_seconds gauge")
        for dev, t in sorted(seen.items()):
            out.append(
                f'occupancy_ingest_device_last_seen_timestamp_seconds{{device="{dev}"}} {t:.3f}'
            )
        return "\n".join(out) + "\n"


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /health`` (200 when the
    database and broker are up, else 503) on 127.0.0.1 or a given host."""

    def __init__(self, stats: IngestStats, port: int, host: str = "127.0.0.1") -> None:
        self.stats = stats
        stats_ref = stats

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    body, code = stats_ref.prometheus().encode(), 200
                    ctype = "text/plain; version=0.0.4; charset=utf-8"
                elif self.path.startswith("/health"):
                    ok = stats_ref.db_up and stats_ref.mqtt_connected
                    snap = stats_ref.snapshot()
                    body = (
                        f"{'ok' if ok else 'degraded'} db_up={int(stats_ref.db_up)} "
                        f"mqtt_connected={int(stats_ref.mqtt_connected)} {snap.line()}\n"
                    ).encode()
                    code, ctype = (200 if ok else 503), "text/plain; charset=utf-8"
                else:
                    body, code, ctype = b"see /metrics and /health\n", 404, "text/plain"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("metrics: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ingest-metrics", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
